"""ContentDBRoutingMiddleware through Django's test client (same thread as the test).

Because the client runs the request in the test's own thread, any state the middleware left
behind would be visible here: each test checks that nothing stays active.
"""

from __future__ import annotations

import pytest
from django.test import Client

from routers.context import get_active_content_database, using_content_database

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.routers.middleware_urls")]


def files_in(folder) -> set[str]:
    return {path.name for path in folder.iterdir()}


def node_titles(client: Client, channel_id: str) -> list[str]:
    response = client.get(f"/api/content/{channel_id}/contentnode/")
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert {node["channel_id"] for node in results} == {channel_id}
    return [node["title"] for node in results]


def test_each_channel_url_answers_from_its_own_file(client, make_channel):
    maths, science = make_channel("maths"), make_channel("science")
    for _ in range(3):
        assert node_titles(client, maths.channel_id)[0] == "maths root"
        assert node_titles(client, science.channel_id)[0] == "science root"
        assert get_active_content_database() is None


@pytest.mark.parametrize("bad_id", [
    "a" * 31,
    "a" * 33,
    "A" * 32,
    "g" * 32,
    "a" * 32 + "%0A",
    "a" * 30 + "%0A",
    "..%2f..%2f" + "a" * 22,
    "..",
    "%2e%2e",
    "0x" + "a" * 30,
    "{" + "a" * 30 + "}",
    "%D9%A3" * 32,
    "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa",
])
def test_malformed_channel_ids_answer_404_and_touch_no_file(client, make_channel, content_dir,
                                                             bad_id):
    make_channel("maths")
    databases = content_dir / "databases"
    before = files_in(databases)
    for suffix in ("contentnode/", "file/", f"contentnode/{'b' * 32}/"):
        response = client.get(f"/api/content/{bad_id}/{suffix}")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert "detail" in response.json()
    response = client.get(f"/content/databases/{bad_id}.sqlite3")
    assert response.status_code == 404
    assert files_in(databases) == before
    assert get_active_content_database() is None


def test_a_well_formed_unknown_channel_answers_404_and_creates_no_file(client, make_channel,
                                                                        content_dir):
    make_channel("maths")
    databases = content_dir / "databases"
    before = files_in(databases)
    unknown = "c" * 32
    for path in (f"/api/content/{unknown}/contentnode/", f"/api/content/{unknown}/file/",
                 f"/content/databases/{unknown}.sqlite3", f"/api/test/{unknown}/stream/"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json() == {
            "detail": "No such channel on this server. See /api/channels/ for the installed ones."}
    assert files_in(databases) == before
    assert not (databases / f"{unknown}.sqlite3").exists()


def test_a_registered_channel_whose_file_is_gone_answers_404(client, make_channel, content_dir):
    maths = make_channel("maths")
    maths.path.unlink()
    response = client.get(f"/api/content/{maths.channel_id}/contentnode/")
    assert response.status_code == 404
    assert not maths.path.exists()


def test_a_file_without_a_registry_row_is_not_served(client, make_channel, content_dir):
    """Dropped into the folder but not yet checked by `scanchannels`: not servable."""
    maths = make_channel("maths")
    stranger = content_dir / "databases" / ("d" * 32 + ".sqlite3")
    stranger.write_bytes(maths.path.read_bytes())
    assert client.get(f"/api/content/{'d' * 32}/contentnode/").status_code == 404


def test_the_state_is_reset_after_a_view_raised(make_channel):
    maths, science = make_channel("maths"), make_channel("science")
    client = Client(raise_request_exception=False)
    response = client.get(f"/api/test/{maths.channel_id}/fail/")
    assert response.status_code == 500
    assert response.json()["detail"].startswith("The server failed")
    assert get_active_content_database() is None
    # The next request, in the same thread, reads its own channel.
    assert node_titles(client, science.channel_id)[0] == "science root"


def test_an_exception_reaching_the_caller_also_resets_the_state(make_channel):
    maths = make_channel("maths")
    client = Client(raise_request_exception=True)
    with pytest.raises(RuntimeError, match="the view failed"):
        client.get(f"/api/test/{maths.channel_id}/fail/")
    assert get_active_content_database() is None


def test_an_error_inside_a_channel_does_not_leak_into_an_outer_block(make_channel):
    maths, science = make_channel("maths"), make_channel("science")
    client = Client(raise_request_exception=False)
    with using_content_database(science.channel_id):
        assert client.get(f"/api/test/{maths.channel_id}/fail/").status_code == 500
        assert get_active_content_database() == science.channel_id


def test_a_streaming_body_iterates_with_its_channel_active(client, make_channel):
    maths, science = make_channel("maths"), make_channel("science")
    response = client.get(f"/api/test/{maths.channel_id}/stream/")
    assert response.status_code == 200 and response.streaming
    # The view has returned and the middleware has reset the state; the body is not made yet.
    assert get_active_content_database() is None
    with using_content_database(science.channel_id):
        lines = [chunk.decode() for chunk in response.streaming_content]
        assert get_active_content_database() == science.channel_id
    assert lines == [f"{maths.channel_id} {maths.channel_id} maths root\n",
                     f"{maths.channel_id} {maths.channel_id} maths topic 0\n",
                     f"{maths.channel_id} {maths.channel_id} maths leaf 0.0\n"]
    assert get_active_content_database() is None


def test_urls_without_a_channel_are_left_alone(client, make_channel):
    make_channel("maths")
    response = client.get("/api/channels/")
    assert response.status_code == 200
    assert get_active_content_database() is None
