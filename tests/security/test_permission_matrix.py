"""Who may do what, on the API and the pages: every role against every endpoint that reads
private data or changes anything, through real sessions with CSRF checks on.

The table says what each role gets. A `+` means the request takes effect; every other cell
of a state-changing row must leave the server exactly as it was (rows, files). Someone
else's private objects answer 404, never 403 (INTERFACE.md, Roles). A URL pattern that is in
neither the table nor PUBLIC fails `test_every_url_has_a_row`.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.authoring.factories import PDF, stored_draft_file
from tests.security.conftest import PASSWORDS, ROLES, World, state_of

pytestmark = pytest.mark.django_db

# Anonymous API calls get 401 (DRF's token scheme asks for credentials); anonymous page
# visits are sent to the login page (302).
MATRIX = """
name                               method  anon learner learner2 owner author2 admin
user-list                          GET     401  403     403      403   403     200
user-list                          POST    401  403     403      403   403     201+
user-import                        POST    401  403     403      403   403     200+
user-detail                        GET     401  403     403      403   403     200
user-detail                        PATCH   401  403     403      403   403     200+
user-password-reset                POST    401  403     403      403   403     200+
own-password                       POST    401  200+    200+     200+  200+    200+
channel-detail                     DELETE  401  403     403      204+  403     204+
channel-versions                   GET     401  403     403      200   403     200
channel-revert                     POST    401  403     403      200+  403     200+
task-list                          GET     401  200     200      200   200     200
task-list                          POST    401  403     403      403   403     201+
task-detail                        GET     401  404     404      200   404     200
task-detail                        DELETE  401  404     404      200+  404     200+
draft-list                         GET     401  403     403      200   200     200
draft-list                         POST    401  403     403      201+  201+    201+
draft-detail                       GET     401  403     403      200   404     200
draft-detail                       PATCH   401  403     403      200+  404     200+
draft-detail                       DELETE  401  403     403      204+  404     204+
draft-publish                      POST    401  403     403      201+  404     201+
draft-files                        GET     401  403     403      200   404     200
draft-files                        POST    401  403     403      201+  404     201+
draft-file                         GET     401  403     403      200   404     200
draft-file                         HEAD    401  403     403      200   404     200
draft-file                         PATCH   401  403     403      200+  404     200+
draft-file                         DELETE  401  403     403      204+  404     204+
learning-attempts                  GET     401  200     200      200   200     200
learning-attempts                  POST    401  201+    201+     201+  201+    201+
learning-progress                  GET     401  200     200      200   200     200
learning-progress                  POST    401  200+    200+     200+  200+    200+
learning-certificates              GET     401  200     200      200   200     200
learning-certificate               GET     401  200     404      404   404     200
learning-certificate-pdf           GET     401  200     404      404   404     200
password-change                    GET     302  200     200      200   200     200
password-change                    POST    302  302+    302+     302+  302+    302+
frontend:admin-channels            GET     302  403     403      200   200     200
frontend:admin-channel             GET     302  403     403      200   403     200
frontend:admin-channel-revert      POST    302  403     403      302+  403     302+
frontend:admin-channel-delete      GET     302  403     403      200   403     200
frontend:admin-channel-delete      POST    302  403     403      302+  403     302+
frontend:admin-import              GET     302  403     403      403   403     200
frontend:admin-task-start          POST    302  403     403      302   302     302+
frontend:admin-task-cancel         POST    302  403     403      302+  302     302+
frontend:admin-users               GET     302  403     403      403   403     200
frontend:admin-user-new            GET     302  403     403      403   403     200
frontend:admin-user-new            POST    302  403     403      403   403     302+
frontend:admin-user-import         GET     302  403     403      403   403     200
frontend:admin-user-import         POST    302  403     403      403   403     200+
frontend:admin-user                GET     302  403     403      403   403     200
frontend:admin-user                POST    302  403     403      403   403     302+
frontend:admin-user-password       POST    302  403     403      403   403     302+
frontend:admin-user-active         POST    302  403     403      403   403     302+
frontend:author-home               GET     302  403     403      200   200     200
frontend:author-draft-new          POST    302  403     403      302+  302+    302+
frontend:author-draft              GET     302  403     403      200   404     200
frontend:author-course-progress    GET     302  404     404      200   404     200
frontend:author-course-progress-csv GET    302  404     404      200   404     200
frontend:learn-courses             GET     302  200     200      200   200     200
frontend:learn-certificates        GET     302  200     200      200   200     200
django-admin                       GET     302  302     302      302   302     200
"""

# Open to everyone on purpose (guests browse and play when ALLOW_GUEST_ACCESS is on, which a
# classroom expects), or acting only on the caller's own browser:
PUBLIC = {
    "api-schema", "api-docs", "javascript-catalog",  # the API's shape and the UI's words
    "set_language",  # sets a cookie in the caller's own browser
    "login", "logout",  # start or end the caller's own session
    "storage-file", "channel-database",  # published content bytes (what LAN peers copy)
    "channel-list", "content-node-list", "content-node-detail", "content-file-list",
    "search", "learning-questions", "learning-question-image",  # no answers in them
    "learning-certificate-verify",  # whoever holds a certificate's code may check it
    "healthz",  # up or not, nothing else
    "frontend:home", "frontend:channel", "frontend:topic", "frontend:content",
    "frontend:search", "frontend:manifest", "frontend:service-worker", "frontend:offline",
    "frontend:ping",
}
# Public reads of a URL whose other methods have rows: a servable channel's registry entry.
PUBLIC_READS = {"channel-detail"}


@dataclass(frozen=True)
class Call:
    url: Callable[[World], str]
    body: Callable[[World, str], Any] | None = None
    encoding: str = "json"  # json | form | multipart
    headers: dict[str, str] = field(default_factory=dict)


def csv_file() -> io.BytesIO:
    upload = io.BytesIO(b"username,full_name,role,password\nfrank,Frank Li,learner,"
                        b"Frank-pass-2024\n")
    upload.name = "users.csv"
    return upload


def pdf_file() -> io.BytesIO:
    upload = io.BytesIO(PDF + b"% another\n")
    upload.name = "notes.pdf"
    return upload


def own_password(world: World, role: str, *, form: bool = False) -> dict[str, str]:
    new = f"{role}-New-pass-2024"
    if role == "anon":
        return {"old_password": "", "new_password": new}
    if form:
        return {"old_password": PASSWORDS[role], "new_password": new,
                "new_password_again": new}
    return {"old_password": PASSWORDS[role], "new_password": new}


def channel(suffix: str = "") -> Callable[[World], str]:
    return lambda world: f"/api/channels/{world.channel_id}/{suffix}"


def draft(suffix: str = "") -> Callable[[World], str]:
    return lambda world: f"/api/drafts/{world.draft.id}/{suffix}"


def draft_file(world: World) -> str:
    return f"/api/drafts/{world.draft.id}/files/{world.draft_file.id}/"


def admin_channel(suffix: str = "") -> Callable[[World], str]:
    return lambda world: f"/admin/channels/{world.channel_id}/{suffix}"


def admin_user(suffix: str = "") -> Callable[[World], str]:
    return lambda world: f"/admin/users/{world.account.pk}/{suffix}"


def static(url: str) -> Callable[[World], str]:
    return lambda world: url


def fixed(body: Any) -> Callable[[World, str], Any]:
    return lambda world, role: body


CALLS: dict[tuple[str, str], Call] = {
    ("user-list", "GET"): Call(static("/api/users/")),
    ("user-list", "POST"): Call(static("/api/users/"), fixed(
        {"username": "grace", "full_name": "Grace", "role": "learner",
         "password": "Grace-pass-2024"})),
    ("user-import", "POST"): Call(static("/api/users/import/"),
                                  lambda world, role: {"file": csv_file()}, "multipart"),
    ("user-detail", "GET"): Call(lambda world: f"/api/users/{world.account.pk}/"),
    ("user-detail", "PATCH"): Call(lambda world: f"/api/users/{world.account.pk}/",
                                   fixed({"full_name": "Changed"})),
    ("user-password-reset", "POST"): Call(
        lambda world: f"/api/users/{world.account.pk}/password/", fixed({})),
    ("own-password", "POST"): Call(static("/api/account/password/"), own_password),
    ("channel-detail", "DELETE"): Call(channel()),
    ("channel-versions", "GET"): Call(channel("versions/")),
    ("channel-revert", "POST"): Call(channel("revert/"), fixed({"version": 1})),
    ("task-list", "GET"): Call(static("/api/tasks/")),
    ("task-list", "POST"): Call(static("/api/tasks/"), fixed({"kind": "scan"})),
    ("task-detail", "GET"): Call(lambda world: f"/api/tasks/{world.job.id}/"),
    ("task-detail", "DELETE"): Call(lambda world: f"/api/tasks/{world.job.id}/"),
    ("draft-list", "GET"): Call(static("/api/drafts/")),
    ("draft-list", "POST"): Call(static("/api/drafts/"), fixed({})),
    ("draft-detail", "GET"): Call(draft()),
    ("draft-detail", "PATCH"): Call(draft(), fixed({"name": "Renamed"})),
    ("draft-detail", "DELETE"): Call(draft()),
    ("draft-publish", "POST"): Call(draft("publish/"), fixed({})),
    ("draft-files", "GET"): Call(draft("files/")),
    ("draft-files", "POST"): Call(draft("files/"), lambda world, role: {"file": pdf_file()},
                                  "multipart"),
    ("draft-file", "GET"): Call(draft_file),
    ("draft-file", "HEAD"): Call(draft_file, headers={"Tus-Resumable": "1.0.0"}),
    ("draft-file", "PATCH"): Call(draft_file, fixed({"description": "Read me first"})),
    ("draft-file", "DELETE"): Call(draft_file),
    ("learning-attempts", "GET"): Call(static("/api/attempts/")),
    ("learning-attempts", "POST"): Call(static("/api/attempts/"), lambda world, role: {
        "channel_id": world.channel_id, "node_id": world.quiz_id, "answers": {}}),
    ("learning-progress", "GET"): Call(static("/api/progress/")),
    ("learning-progress", "POST"): Call(static("/api/progress/"), lambda world, role: {
        "channel_id": world.channel_id, "node_id": world.document_id, "progress": 0.75}),
    ("learning-certificates", "GET"): Call(static("/api/certificates/")),
    ("learning-certificate", "GET"): Call(
        lambda world: f"/api/certificates/{world.certificate.id}/"),
    ("learning-certificate-pdf", "GET"): Call(
        lambda world: f"/api/certificates/{world.certificate.id}/pdf/"),
    ("password-change", "GET"): Call(static("/account/password/")),
    ("password-change", "POST"): Call(static("/account/password/"),
                                      lambda world, role: own_password(world, role, form=True),
                                      "form"),
    ("frontend:admin-channels", "GET"): Call(static("/admin/channels/")),
    ("frontend:admin-channel", "GET"): Call(admin_channel()),
    ("frontend:admin-channel-revert", "POST"): Call(admin_channel("revert/"),
                                                    fixed({"version": "1"}), "form"),
    ("frontend:admin-channel-delete", "GET"): Call(admin_channel("delete/")),
    ("frontend:admin-channel-delete", "POST"): Call(admin_channel("delete/"), fixed({}),
                                                    "form"),
    ("frontend:admin-import", "GET"): Call(static("/admin/import/")),
    ("frontend:admin-task-start", "POST"): Call(static("/admin/tasks/start/"),
                                                fixed({"kind": "scan"}), "form"),
    ("frontend:admin-task-cancel", "POST"): Call(
        lambda world: f"/admin/tasks/{world.job.id}/cancel/", fixed({}), "form"),
    ("frontend:admin-users", "GET"): Call(static("/admin/users/")),
    ("frontend:admin-user-new", "GET"): Call(static("/admin/users/new/")),
    ("frontend:admin-user-new", "POST"): Call(static("/admin/users/new/"), fixed(
        {"username": "heidi", "full_name": "Heidi", "role": "learner",
         "password": "Heidi-pass-2024"}), "form"),
    ("frontend:admin-user-import", "GET"): Call(static("/admin/users/import/")),
    ("frontend:admin-user-import", "POST"): Call(static("/admin/users/import/"),
                                                 lambda world, role: {"file": csv_file()},
                                                 "multipart"),
    ("frontend:admin-user", "GET"): Call(admin_user()),
    ("frontend:admin-user", "POST"): Call(admin_user(), fixed(
        {"full_name": "Changed", "role": "learner"}), "form"),
    ("frontend:admin-user-password", "POST"): Call(admin_user("password/"),
                                                   fixed({"password": "Reset-pass-2024"}),
                                                   "form"),
    ("frontend:admin-user-active", "POST"): Call(admin_user("active/"),
                                                 fixed({"is_active": "0"}), "form"),
    ("frontend:author-home", "GET"): Call(static("/author/")),
    ("frontend:author-draft-new", "POST"): Call(static("/author/drafts/new/"), fixed({}),
                                                "form"),
    ("frontend:author-draft", "GET"): Call(lambda world: f"/author/drafts/{world.draft.id}/"),
    ("frontend:author-course-progress", "GET"): Call(
        lambda world: f"/author/courses/{world.channel_id}/progress/"),
    ("frontend:author-course-progress-csv", "GET"): Call(
        lambda world: f"/author/courses/{world.channel_id}/progress.csv"),
    ("frontend:learn-courses", "GET"): Call(static("/learn/")),
    ("frontend:learn-certificates", "GET"): Call(static("/learn/certificates/")),
    ("django-admin", "GET"): Call(static("/django-admin/")),
}
SAFE_METHODS = {"GET", "HEAD"}


@dataclass(frozen=True)
class Cell:
    status: int
    takes_effect: bool


def parse_matrix(text: str) -> dict[tuple[str, str], dict[str, Cell]]:
    lines = [line.split() for line in text.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    assert header[2:] == list(ROLES), header
    table: dict[tuple[str, str], dict[str, Cell]] = {}
    for name, method, *cells in rows:
        assert (name, method) not in table, f"{name} {method} twice"
        table[(name, method)] = {role: Cell(int(cell.rstrip("+")), cell.endswith("+"))
                                 for role, cell in zip(ROLES, cells, strict=True)}
    return table


TABLE = parse_matrix(MATRIX)


def send(client, world: World, role: str, key: tuple[str, str], *, method: str = "",
         **extra: Any):
    """The row's request as `role` (its method, or `method` instead: same URL, no body)."""
    call = CALLS[key]
    method = method or key[1]
    url = call.url(world)
    headers = {f"HTTP_{name.upper().replace('-', '_')}": value
               for name, value in call.headers.items()}
    headers.update(extra)
    if method != key[1] or method in SAFE_METHODS:
        return client.generic(method, url, **headers)
    body = call.body(world, role) if call.body else {}
    if call.encoding == "json":
        return client.generic(method, url, json.dumps(body), content_type="application/json",
                              **headers)
    assert method == "POST", f"{key}: forms are posted"
    return client.post(url, body, **headers)


def with_token(client) -> dict[str, str]:
    return {"HTTP_X_CSRFTOKEN": client.csrf_token}


STATE_CHANGING = [key for key in TABLE if key[1] not in SAFE_METHODS]
READING = [key for key in TABLE if key[1] in SAFE_METHODS]
CELLS = [(name, method, role) for (name, method) in STATE_CHANGING for role in ROLES]


@pytest.mark.parametrize(("name", "method", "role"), CELLS,
                         ids=[f"{name}-{method}-{role}" for name, method, role in CELLS])
def test_each_role_changes_what_the_table_says(world, signed_in, name, method, role):
    expected = TABLE[(name, method)][role]
    client = signed_in(role)
    before = state_of(world)
    response = send(client, world, role, (name, method), **with_token(client))
    assert response.status_code == expected.status, (
        f"{role} {method} {name}: {response.status_code} {response.content[:300]!r}")
    changed = state_of(world) != before
    assert changed == expected.takes_effect, (
        f"{role} {method} {name} {'changed' if changed else 'did not change'} the server")


@pytest.mark.parametrize("key", READING, ids=[f"{n}-{m}" for n, m in READING])
def test_each_role_reads_what_the_table_says(world, signed_in, key):
    """Reads change nothing, so one world serves all six roles; every cell is checked."""
    wrong = []
    for role in ROLES:
        client = signed_in(role)
        response = send(client, world, role, key)
        if response.status_code != TABLE[key][role].status:
            wrong.append(f"{role}: {response.status_code} (table: {TABLE[key][role].status})")
    assert not wrong, f"{key}: " + "; ".join(wrong)


def first_allowed(key: tuple[str, str]) -> str:
    return next(role for role in ROLES if TABLE[key][role].takes_effect)


@pytest.mark.parametrize("key", STATE_CHANGING, ids=[f"{n}-{m}" for n, m in STATE_CHANGING])
def test_no_token_the_app_origin_or_a_get_changes_nothing(world, signed_in, settings, key):
    """As a role the row lets act:
    1. without a CSRF token: 403;
    2. with the token, from the sandbox origin of HTML5 apps (`--zip-port`,
       kolibri_like/zip_app.py) or the opaque origin `null` they run in: 403 (a page there
       that got hold of a token must not act for the signed-in user);
    3. by GET (a link or an <img> can make a browser GET anything): its own row if it has
       one, else 405;
    and the server is exactly as before."""
    settings.ZIP_PORT = 8001
    role = first_allowed(key)
    client = signed_in(role)
    before = state_of(world)
    refused = {"no token": send(client, world, role, key)}
    for origin in ("http://127.0.0.1:8001", "null"):
        refused[origin] = send(client, world, role, key, HTTP_HOST="127.0.0.1:8000",
                               HTTP_ORIGIN=origin, **with_token(client))
    statuses = {why: response.status_code for why, response in refused.items()}
    assert set(statuses.values()) == {403}, statuses
    response = send(client, world, role, key, method="GET")
    if (key[0], "GET") not in TABLE:
        expected = 200 if key[0] in PUBLIC_READS else 405
        assert response.status_code == expected, (response.status_code, response.content[:300])
    assert state_of(world) == before


def test_the_same_origin_with_a_token_is_let_through(world, signed_in, settings):
    """The control for the test above: the same request from the main origin works."""
    settings.ZIP_PORT = 8001
    client = signed_in("owner")
    response = send(client, world, "owner", ("draft-detail", "PATCH"),
                    HTTP_HOST="127.0.0.1:8000", HTTP_ORIGIN="http://127.0.0.1:8000",
                    **with_token(client))
    assert response.status_code == 200, response.content[:300]


# Lists of private things: who finds the learner's object in them (others get their own).
PRIVATE_LISTS = [
    ("/api/attempts/", lambda world: str(world.attempt.id), {"learner"}),
    ("/api/certificates/", lambda world: str(world.certificate.id), {"learner"}),
    ("/learn/certificates/", lambda world: world.certificate.code, {"learner"}),
    ("/api/progress/", lambda world: world.document_id, {"learner"}),
    ("/api/tasks/", lambda world: str(world.job.id), {"owner", "admin"}),
    ("/api/drafts/", lambda world: str(world.draft.id), {"owner", "admin"}),
    ("/admin/channels/", lambda world: world.channel_id, {"owner", "admin"}),
]


@pytest.mark.parametrize(("url", "secret", "seen_by"), PRIVATE_LISTS,
                         ids=[url for url, _secret, _seen in PRIVATE_LISTS])
def test_private_lists_hold_only_what_is_yours(world, signed_in, url, secret, seen_by):
    for role in ROLES[1:]:
        response = signed_in(role).get(url)
        assert response.status_code == (200 if role in seen_by else response.status_code)
        found = secret(world) in response.content.decode()
        assert found == (role in seen_by), f"{role} {'sees' if found else 'misses'} {url}"


def url_names(patterns: list[Any], namespace: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern) == "django-admin/":
                names.add("django-admin")  # Django's own admin: one row for all of it
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            assert pattern.name, f"unnamed URL pattern {pattern.pattern}"
            names.add(namespace + pattern.name)
    return names


def test_every_url_has_a_row():
    in_table = {name for name, _method in TABLE}
    missing = url_names(get_resolver().url_patterns) - in_table - PUBLIC
    assert not missing, f"URL patterns with no row in MATRIX and not in PUBLIC: {missing}"
    assert not in_table & PUBLIC
    assert set(CALLS) == set(TABLE)


def test_someone_elses_ids_inside_ones_own_urls_are_404(world, signed_in):
    """Ids mixed across owners: another author's file under one's own draft, a draft for a
    course someone else owns (its publish would replace their course)."""
    from authoring.models import Draft

    other_draft = Draft.objects.create(owner=world.users["author2"], name="Other")
    other_file = stored_draft_file(other_draft, PDF + b"% other\n", "other.pdf",
                                   file_type="document")
    owner, author2 = signed_in("owner"), signed_in("author2")
    before = state_of(world)
    mixed = f"/api/drafts/{world.draft.id}/files/{other_file.id}/"
    assert owner.get(mixed).status_code == 404
    assert owner.delete(mixed, HTTP_X_CSRFTOKEN=owner.csrf_token).status_code == 404
    response = author2.post("/api/drafts/", {"channel_id": world.channel_id},
                            content_type="application/json", **with_token(author2))
    assert response.status_code == 404, response.content
    response = author2.post("/author/drafts/new/", {"channel_id": world.channel_id},
                            **with_token(author2))
    assert response.status_code == 302 and response["Location"] == "/author/"
    assert state_of(world) == before
