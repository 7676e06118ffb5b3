"""The OpenAPI schema (`/api/schema/`) and its Swagger UI (`/api/docs/`), kolibri_like/openapi/.

The schema must cover every API route, validate without a warning, agree with INTERFACE.md and
with what the endpoints really answer, and its docs page must load nothing from outside.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

ROOT = Path(__file__).resolve().parents[2]
# The fields INTERFACE.md (the team's interface contract, kept beside the repository, not in
# it) promises for these answers; a test must not read a file outside the checkout.
CHANNEL_FIELDS = {"id", "name", "description", "version", "version_label", "root_id",
                  "node_count", "total_size", "thumbnail"}
NODE_FIELDS = {"id", "channel_id", "content_id", "parent", "title", "description", "kind",
               "sort_order", "available", "thumbnail", "files"}
FILE_FIELDS = {"id", "checksum", "extension", "preset", "thumbnail", "supplementary", "lang",
               "file_size", "url"}
DETAIL_EXTRA = {"ancestors", "rendering"}
# The schema and its page document the API; they are not part of it.
NOT_API_OPERATIONS = {"/api/schema/", "/api/docs/"}


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker) -> dict[str, Any]:
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200, response.content
    return response.json()


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def response_properties(schema: dict[str, Any], path: str, *, paginated: bool) -> dict[str, Any]:
    content = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    body = resolve(schema, content["schema"])
    if paginated:
        assert set(body["properties"]) == {"count", "next", "previous", "results"}
        body = resolve(schema, body["properties"]["results"]["items"])
    return body["properties"]


def item_properties(schema: dict[str, Any], properties: dict[str, Any],
                    name: str) -> dict[str, Any]:
    return resolve(schema, properties[name]["items"])["properties"]


def api_routes(patterns: list[Any] | None = None, prefix: str = "") -> list[str]:
    """Every route of the URLconf under /api/, as `/api/channels/{}/` (parameters unnamed)."""
    found = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += api_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/"):
            found.append(unnamed("/" + route))
    return found


def unnamed(path: str) -> str:
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


def test_it_validates_without_a_warning(tmp_path):
    output = tmp_path / "schema.yaml"
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn",
         "--file", str(output)], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "kolibri_like.test_settings"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert output.read_text(encoding="utf-8").startswith("openapi: 3.")


def test_it_serves_yaml_and_json(client):
    yaml_response = client.get("/api/schema/")
    assert yaml_response.status_code == 200
    assert yaml_response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert b"/api/content/{channel_id}/contentnode/:" in yaml_response.content
    json_response = client.get("/api/schema/", {"format": "json"})
    assert json_response.status_code == 200
    assert json_response.json()["openapi"].startswith("3.")


def test_every_api_route_is_in_the_schema(schema):
    routes = set(api_routes()) - {unnamed(path) for path in NOT_API_OPERATIONS}
    documented = {unnamed(path) for path in schema["paths"]}
    assert len(routes) > 20
    assert routes - documented == set()


def test_both_authentications_are_documented(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["tokenAuth"] == {"type": "apiKey", "in": "header", "name": "Authorization",
                                    "description": schemes["tokenAuth"]["description"]}
    assert "Token" in schemes["tokenAuth"]["description"]
    assert schemes["cookieAuth"]["in"] == "cookie"
    operation = schema["paths"]["/api/tasks/"]["post"]
    assert {"tokenAuth": []} in operation["security"]
    assert {"cookieAuth": []} in operation["security"]


def test_the_channel_list_has_the_interface_fields_and_answers_them(schema, client,
                                                                   make_channel):
    documented = response_properties(schema, "/api/channels/", paginated=True)
    assert CHANNEL_FIELDS <= set(documented)

    make_channel("maths")
    answered = client.get("/api/channels/").json()["results"][0]
    assert set(answered) == set(documented)


def test_content_nodes_have_the_interface_fields_and_answer_them(schema, client,
                                                                make_channel):
    node_fields, file_fields, detail_extra = NODE_FIELDS, FILE_FIELDS, DETAIL_EXTRA
    listed = response_properties(schema, "/api/content/{channel_id}/contentnode/",
                                 paginated=True)
    detail = response_properties(schema, "/api/content/{channel_id}/contentnode/{node_id}/",
                                 paginated=False)
    assert node_fields <= set(listed)
    assert file_fields <= set(item_properties(schema, listed, "files"))
    assert node_fields | detail_extra <= set(detail)
    assert set(detail) - set(listed) == detail_extra

    channel = make_channel("maths", topics=1, leaves=1)
    url = f"/api/content/{channel.channel_id}/contentnode/"
    nodes = client.get(url).json()["results"]
    leaf = next(node for node in nodes if node["files"])
    assert set(leaf) == set(listed)
    assert set(leaf["files"][0]) == set(item_properties(schema, listed, "files"))
    assert set(client.get(f"{url}{leaf['id']}/").json()) == set(detail)


def test_errors_are_documented_as_detail(schema):
    operation = schema["paths"]["/api/content/{channel_id}/contentnode/{node_id}/"]["get"]
    error = resolve(schema, operation["responses"]["404"]["content"]["application/json"]
                    ["schema"])
    assert error["properties"] == {"detail": {"type": "string"}}


def test_the_files_endpoint_documents_the_tus_headers(schema):
    operations = schema["paths"]["/api/drafts/{draft_id}/files/{file_id}/"]
    chunk = operations["patch"]
    assert {parameter["name"] for parameter in chunk["parameters"]
            if parameter["in"] == "header"} >= {"Tus-Resumable", "Upload-Offset"}
    assert "application/offset+octet-stream" in chunk["requestBody"]["content"]
    assert "Upload-Offset" in chunk["responses"]["204"]["headers"]
    create = schema["paths"]["/api/drafts/{draft_id}/files/"]["post"]
    assert {parameter["name"] for parameter in create["parameters"]} >= {
        "Tus-Resumable", "Upload-Length", "Upload-Metadata"}
    assert "Location" in create["responses"]["201"]["headers"]


class AssetFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


def test_the_docs_page_loads_only_local_files(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    finder = AssetFinder()
    finder.feed(page)
    assert len(finder.urls) >= 3
    for url in finder.urls:
        assert url.startswith("/static/drf_spectacular_sidecar/"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert b"".join(asset.streaming_content if asset.streaming else [asset.content])
    assert "//cdn" not in page and "https://" not in page
    assert '"/api/schema/"' in page


DOCS_IN_PRODUCTION = """
import re

import django
from django.core.management import call_command
from django.test import Client

django.setup()
call_command("collectstatic", interactive=False, verbosity=0)
client = Client()
page = client.get("/api/docs/")
print(page.status_code)
for url in re.findall(r'(?:src|href)="([^"]+)"', page.content.decode()):
    asset = client.get(url)
    print(url, asset.status_code, asset.get("Cache-Control", ""))
"""


def test_collectstatic_gathers_the_docs_files_and_whitenoise_serves_them(tmp_path):
    """Production settings: hashed names from collectstatic's manifest, served by whitenoise."""
    result = subprocess.run(
        [sys.executable, "-c", DOCS_IN_PRODUCTION], cwd=ROOT, capture_output=True, text=True,
        timeout=300, env={**os.environ, "DJANGO_SETTINGS_MODULE": "kolibri_like.settings",
                          "KOLIBRI_LIKE_HOME": str(tmp_path), "ALLOWED_HOSTS": "testserver",
                          "DEBUG": "false"})
    assert result.returncode == 0, result.stderr
    status, *assets = result.stdout.splitlines()
    assert status == "200"
    assert len(assets) >= 3
    for line in assets:
        url, asset_status, cache_control = line.split(" ", 2)
        assert re.fullmatch(r"/static/drf_spectacular_sidecar/[\w./-]+\.[0-9a-f]{12}\.\w+", url)
        assert asset_status == "200", line
        assert "immutable" in cache_control or "max-age" in cache_control, line
    assert (tmp_path / "static" / "drf_spectacular_sidecar" / "swagger-ui-dist").is_dir()


def test_path_ids_say_what_they_look_like(schema):
    for path in ("/api/content/{channel_id}/contentnode/{node_id}/", "/api/channels/{id}/"):
        for parameter in schema["paths"][path]["get"]["parameters"]:
            if parameter["in"] == "path":
                assert parameter["schema"] == {"type": "string", "pattern": "^[0-9a-f]{32}$"}
    task = schema["paths"]["/api/tasks/{job_id}/"]["get"]["parameters"][0]
    assert task["schema"] == {"type": "string", "format": "uuid"}
    user = schema["paths"]["/api/users/{id}/"]["get"]["parameters"][0]
    assert user["schema"] == {"type": "integer"}


def test_guests_may_read_content_without_credentials_but_not_start_tasks(schema):
    node_list = schema["paths"]["/api/content/{channel_id}/contentnode/"]["get"]
    assert {} in node_list["security"]
    assert {"tokenAuth": []} in node_list["security"]
    assert {} not in schema["paths"]["/api/tasks/"]["post"]["security"]
    assert {} not in schema["paths"]["/api/channels/{id}/"]["delete"]["security"]


def test_serving_the_api_does_not_load_the_schema_code(tmp_path):
    """Its imports cost start-up time (about 85 ms); only the schema and docs routes need them."""
    result = subprocess.run(
        [sys.executable, "-c", "import sys, django; django.setup(); "
         "from django.test import Client; from django.urls import get_resolver; "
         "get_resolver().url_patterns; print(Client().get('/api/tasks/').status_code, "
         "'kolibri_like.openapi' in sys.modules, 'drf_spectacular.plumbing' in sys.modules)"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "kolibri_like.test_settings",
             "KOLIBRI_LIKE_HOME": str(tmp_path), "ALLOWED_HOSTS": "testserver"})
    assert result.stdout.split() == ["401", "False", "False"], result.stderr


@pytest.mark.browser
@pytest.mark.server
def test_swagger_ui_renders_and_tries_an_endpoint_from_this_server_only(tmp_path):
    """The production server (`kolibri-like start`) and Debian's chromium: the page asks no
    other host, no request fails, no script errors (tests/browser.py watches all three)."""
    from tests.browser import watched_page
    from tests.servers import ServerProcess

    server = ServerProcess(tmp_path / "server")
    server.home.mkdir(parents=True, exist_ok=True)
    server.run_command("migrate", "--noinput")
    server.run_command("generate_demo_channel", "--nodes", "10", "--seed", "1")
    with server, watched_page(server.url, wait_ms=20_000) as page:
        page.goto(server.url + "/api/docs/")
        operation = page.locator("#operations-api-api_channels_list")
        operation.wait_for()
        assert page.locator(".opblock").count() > 30
        operation.locator(".opblock-summary").click()
        page.locator("#operations-api-api_channels_list .try-out__btn").click()
        with page.expect_response(lambda answer: "/api/channels/" in answer.url) as answered:
            page.locator("#operations-api-api_channels_list .execute").click()
        assert answered.value.status == 200
        assert answered.value.json()["count"] == 1
