"""The admin pages through Django's test client: who sees what, and that every form is there
and does what it says (revert, delete with confirmation, export, import, cancel)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from channels.models import Channel
from frontend import admin_selectors
from jobs.models import Job
from jobs.services import start_job

pytestmark = pytest.mark.django_db

CHANNEL_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def maths(make_channel, author_user) -> Channel:
    make_channel("maths", channel_id=CHANNEL_ID, version_label="autumn")
    make_channel("maths", channel_id=CHANNEL_ID, topics=3, version_label="spring")
    Channel.objects.filter(id=CHANNEL_ID).update(owner=author_user)
    return Channel.objects.get(id=CHANNEL_ID)


@pytest.fixture
def science(make_channel) -> Channel:
    return Channel.objects.get(id=make_channel("science").channel_id)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html_of(response) -> str:
    assert response.status_code == 200, response.content[:800]
    return response.content.decode()


def forms(html: str) -> list[str]:
    return re.findall(r"<form\b.*?</form>", html, flags=re.S)


# Who may see the pages

@pytest.mark.parametrize("path", ["/admin/channels/", f"/admin/channels/{CHANNEL_ID}/",
                                  "/admin/import/"])
def test_anonymous_visitors_are_sent_to_sign_in(client, maths, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("path", ["/admin/channels/", f"/admin/channels/{CHANNEL_ID}/",
                                  f"/admin/channels/{CHANNEL_ID}/delete/", "/admin/import/"])
def test_learners_are_told_the_pages_are_not_for_them(learner_user, maths, path):
    response = signed_in(learner_user).get(path)
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()


def test_an_author_sees_only_their_own_channels(author_user, maths, science):
    client = signed_in(author_user)
    html = html_of(client.get("/admin/channels/"))
    assert "Your channels" in html and "Maths" in html and "Science" not in html
    assert client.get(f"/admin/channels/{science.id}/").status_code == 403
    assert client.get("/admin/import/").status_code == 403
    assert client.get("/admin/channels/" + "e" * 32 + "/").status_code == 404


def test_an_admin_sees_every_channel_and_the_problems(admin_user, maths, science):
    Channel.objects.filter(id=science.id).update(state=Channel.State.REJECTED,
                                                 problem="the file is not a SQLite database")
    html = html_of(signed_in(admin_user).get("/admin/channels/"))
    assert "Maths" in html and "Science" in html
    assert "rejected" in html and "the file is not a SQLite database" in html
    assert f'href="/admin/channels/{CHANNEL_ID}/"' in html
    # A rejected channel's page still opens (the routing middleware is not involved).
    assert "not served" in html_of(signed_in(admin_user).get(f"/admin/channels/{science.id}/"))


def test_the_header_links_to_the_admin_pages(client, admin_user, author_user, learner_user):
    assert ">Admin</a>" in html_of(signed_in(admin_user).get("/"))
    assert ">My channels</a>" in html_of(signed_in(author_user).get("/"))
    learner_html = html_of(signed_in(learner_user).get("/"))
    assert "/admin/channels/" not in learner_html
    assert "/admin/channels/" not in html_of(client.get("/"))


# The channel page: versions, revert, delete, export

def test_the_channel_page_lists_versions_with_a_revert_button_each(author_user, maths):
    html = html_of(signed_in(author_user).get(f"/admin/channels/{CHANNEL_ID}/"))
    assert "Serving version 2 (spring)" in html
    revert_forms = [form for form in forms(html) if "/revert/" in form]
    assert len(revert_forms) == 1, "the current version has no revert button"
    assert 'name="version" value="1"' in revert_forms[0]
    assert "csrfmiddlewaretoken" in revert_forms[0]
    assert f'href="/admin/channels/{CHANNEL_ID}/delete/"' in html
    assert "Export to a drive" not in html, "exporting is for admins"


def test_reverting_from_the_page(author_user, maths):
    client = signed_in(author_user)
    response = client.post(f"/admin/channels/{CHANNEL_ID}/revert/", {"version": "1"},
                           follow=True)
    html = html_of(response)
    assert "Maths now serves version 1." in html
    assert Channel.objects.get(id=CHANNEL_ID).version == 1
    assert "Serving version 1 (autumn)" in html


def test_reverting_to_a_missing_version_says_why(author_user, maths):
    response = signed_in(author_user).post(f"/admin/channels/{CHANNEL_ID}/revert/",
                                           {"version": "9"}, follow=True)
    assert "has no version 9" in html_of(response)
    assert Channel.objects.get(id=CHANNEL_ID).version == 2


def test_others_cannot_revert_or_delete(outsider_user, author_user, maths, django_user_model):
    other_author = django_user_model.objects.create_user("erin", role="author")
    for user in (outsider_user, other_author):
        client = signed_in(user)
        assert client.post(f"/admin/channels/{CHANNEL_ID}/revert/",
                           {"version": "1"}).status_code == 403
        assert client.post(f"/admin/channels/{CHANNEL_ID}/delete/").status_code == 403
    assert Channel.objects.get(id=CHANNEL_ID).version == 2


def test_delete_asks_first_then_deletes(author_user, maths):
    client = signed_in(author_user)
    html = html_of(client.get(f"/admin/channels/{CHANNEL_ID}/delete/"))
    assert "Delete Maths?" in html and "2 kept versions" in html
    confirm = [form for form in forms(html) if "Yes, delete it" in form]
    assert len(confirm) == 1 and 'method="post"' in confirm[0]
    assert Channel.objects.filter(id=CHANNEL_ID).exists(), "a GET deletes nothing"
    response = client.post(f"/admin/channels/{CHANNEL_ID}/delete/", follow=True)
    assert response.redirect_chain[-1][0] == "/admin/channels/"
    assert "Maths was deleted from this server." in html_of(response)
    assert not Channel.objects.filter(id=CHANNEL_ID).exists()


def test_an_admin_exports_from_the_channel_page(admin_user, maths, tmp_path, monkeypatch):
    monkeypatch.setattr(admin_selectors, "detected_drives", lambda: ["/media/usb-stick"])
    client = signed_in(admin_user)
    html = html_of(client.get(f"/admin/channels/{CHANNEL_ID}/"))
    export = next(form for form in forms(html) if 'value="export"' in form)
    assert "data-task-form" in export and 'name="drive"' in export
    assert f'name="channel_id" value="{CHANNEL_ID}"' in export
    assert "/media/usb-stick" in html
    response = client.post("/admin/tasks/start/", {
        "kind": "export", "channel_id": CHANNEL_ID, "drive": str(tmp_path),
        "content": ["0", "1"], "next": f"/admin/channels/{CHANNEL_ID}/"})
    assert response.status_code == 302 and response["Location"] == f"/admin/channels/{CHANNEL_ID}/"
    job = Job.objects.get()
    assert job.kind == "export" and job.params["content"] is True
    assert job.params["drive"] == str(tmp_path)
    html = html_of(client.get(f"/admin/channels/{CHANNEL_ID}/"))
    assert f'data-task-id="{job.id}"' in html and "<progress" in html


# The import page

def test_the_import_page_has_the_drives_a_folder_field_and_the_tasks(
        admin_user, monkeypatch, tmp_path):
    monkeypatch.setattr(admin_selectors, "detected_drives", lambda: ["/media/usb-stick"])
    job = start_job(admin_user, {"kind": "scan"})
    html = html_of(signed_in(admin_user).get("/admin/import/"))
    assert 'href="?from=/media/usb-stick"' in html
    source_form = next(form for form in forms(html) if 'name="from"' in form)
    assert 'method="get"' in source_form
    task = re.search(rf'<li class="task task--queued" data-task-id="{job.id}".*?</li>', html,
                     flags=re.S)
    assert task and "<progress" in task.group(0)
    assert f'action="/admin/tasks/{job.id}/cancel/"' in task.group(0)
    assert "/static/frontend/admin.js" in html
    assert "Rescan the databases folder" in html


def test_the_import_page_lists_what_a_folder_offers(admin_user, monkeypatch, tmp_path):
    offered = [
        {"id": "a" * 32, "name": "Biology", "version": 4, "total_size": 3 * 1024 ** 2,
         "node_count": 12, "installed_version": 3, "is_newer": True},
        {"id": "b" * 32, "name": "Chemistry", "version": 1, "total_size": 100,
         "node_count": 3, "installed_version": None, "is_newer": True},
        {"id": "c" * 32, "name": "", "version": 0, "total_size": 0, "node_count": 0,
         "installed_version": None, "is_newer": False, "problem": "corrupt database"},
    ]
    monkeypatch.setattr(admin_selectors, "_list_drive", lambda drive: offered)
    html = html_of(signed_in(admin_user).get("/admin/import/", {"from": str(tmp_path)}))
    assert "Biology" in html and "3.0 MB" in html and "newer than installed (3)" in html
    assert "Chemistry" in html and "not installed" in html
    assert "corrupt database" in html
    import_forms = [form for form in forms(html) if 'value="import"' in form]
    assert len(import_forms) == 2, "no Import button for a channel that cannot be imported"
    assert all(f'name="drive" value="{tmp_path}"' in form for form in import_forms)
    assert all('name="source" value="disk"' in form for form in import_forms)


def test_the_import_page_says_why_a_folder_cannot_be_listed(admin_user):
    html = html_of(signed_in(admin_user).get("/admin/import/", {"from": "/no/such/folder"}))
    assert "no folder /no/such/folder on this server" in html
    html = html_of(signed_in(admin_user).get("/admin/import/", {"from": "ftp://peer/"}))
    assert "give the full path" in html


def test_a_peer_address_is_listed_as_a_network_source(admin_user, monkeypatch):
    seen = []
    monkeypatch.setattr(admin_selectors, "_list_peer",
                        lambda url: seen.append(url) or [{"id": "d" * 32, "name": "Physics",
                                                          "version": 2, "is_newer": True}])
    html = html_of(signed_in(admin_user).get("/admin/import/",
                                             {"from": "http://127.0.0.1:9/"}))
    assert seen == ["http://127.0.0.1:9"]
    form = next(form for form in forms(html) if 'value="import"' in form)
    assert 'name="source" value="network"' in form
    assert 'name="url" value="http://127.0.0.1:9"' in form


def test_starting_and_cancelling_a_task_from_the_forms(admin_user, tmp_path):
    client = signed_in(admin_user)
    response = client.post("/admin/tasks/start/", {
        "kind": "import", "source": "disk", "channel_id": "a" * 32, "drive": str(tmp_path),
        "content": "0", "next": "/admin/import/"}, follow=True)
    assert "Task started (import)" in html_of(response)
    job = Job.objects.get()
    assert job.params["content"] is False and job.state == Job.State.QUEUED
    response = client.post(f"/admin/tasks/{job.id}/cancel/", {"next": "/admin/import/"},
                           follow=True)
    assert "Cancelled." in html_of(response)
    assert Job.objects.get().state == Job.State.CANCELLED


def test_a_bad_task_form_says_which_field(admin_user):
    response = signed_in(admin_user).post("/admin/tasks/start/", {
        "kind": "import", "source": "disk", "channel_id": "not-an-id", "drive": "/",
        "next": "https://elsewhere.example/"}, follow=True)
    assert response.redirect_chain[0][0] == "/admin/import/", "never redirected off-site"
    assert "Not started: channel_id: a channel id is 32 lowercase hex" in html_of(response)
    assert not Job.objects.exists()


def test_authors_cannot_start_admin_tasks(author_user, maths, tmp_path):
    response = signed_in(author_user).post("/admin/tasks/start/", {
        "kind": "export", "channel_id": CHANNEL_ID, "drive": str(tmp_path),
        "next": f"/admin/channels/{CHANNEL_ID}/"}, follow=True)
    assert "Not started: Only an admin" in html_of(response)
    assert not Job.objects.exists()


def test_pages_are_plain_and_offline(admin_user, maths):
    """No script or style from another host; actions are POST forms with a CSRF token."""
    client = signed_in(admin_user)
    for path in ("/admin/channels/", f"/admin/channels/{CHANNEL_ID}/", "/admin/import/",
                 f"/admin/channels/{CHANNEL_ID}/delete/"):
        html = html_of(client.get(path))
        assert not re.search(r"""(src|href|action)=["'](https?:)?//""", html), path
        for form in forms(html):
            if 'method="post"' in form:
                assert "csrfmiddlewaretoken" in form, (path, form[:200])


def test_the_import_page_lists_a_real_exported_drive(admin_user, make_channel, tmp_path):
    from channels.transfer.disk import export_content_to_disk

    built = make_channel("geography")
    drive = tmp_path / "usb"
    drive.mkdir()
    export_content_to_disk(built.channel_id, drive)
    make_channel("geography", channel_id=built.channel_id)     # version 2 installed here
    client = signed_in(admin_user)
    html = html_of(client.get("/admin/import/", {"from": str(drive / "KOLIBRI_DATA")}))
    assert "Geography" in html and built.channel_id in html
    assert "installed: version 2" in html and "newer than installed" not in html
    form = next(form for form in forms(html) if 'value="import"' in form)
    assert f'name="drive" value="{drive / "KOLIBRI_DATA"}"' in form
