"""A real browser on the admin pages of a real server with its task consumer: sign in, revert a
channel with its button, export it to a folder and start a rescan, watching each task's progress
bar end.

Debian's chromium through Playwright (never `playwright install`); every wait bounded; the
browser talks to 127.0.0.1 only, and the test checks that and that no request failed.
"""

from __future__ import annotations

from typing import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser import watched_page
from tests.servers import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.server]

WAIT_MS = 30_000


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("admin-browser") / "server", consumer=True)
    server.home.mkdir(parents=True, exist_ok=True)
    server.run_command("migrate", "--noinput")
    # Twice with the same seed: one channel with versions 1 and 2.
    server.run_command("generate_demo_channel", "--nodes", "12", "--seed", "5")
    server.run_command("generate_demo_channel", "--nodes", "12", "--seed", "5")
    with server:
        yield server


@pytest.fixture
def page(admin_server: ServerProcess):
    with watched_page(admin_server.url, wait_ms=WAIT_MS) as browser_page:
        yield browser_page


def sign_in(page, server: ServerProcess) -> None:
    page.goto(server.url + "/login/?next=/admin/channels/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "admin-pass")
    page.click("form.form button[type=submit]")
    page.wait_for_url(server.url + "/admin/channels/")


def test_an_admin_reverts_a_channel_and_runs_a_task(page, admin_server, tmp_path):
    sign_in(page, admin_server)
    page.screenshot(path=str(tmp_path / "admin-channels.png"), full_page=True)
    page.locator("table.admin-table tbody a").first.click()
    page.wait_for_url(f"{admin_server.url}/admin/channels/*/")
    assert "Serving version 2" in page.locator("main").inner_text()

    page.get_by_role("button", name="Revert to 1").click()
    page.wait_for_load_state()
    assert "now serves version 1" in page.locator(".messages").inner_text()
    assert "Serving version 1" in page.locator("main").inner_text()
    page.screenshot(path=str(tmp_path / "admin-channel.png"), full_page=True)

    # Export to a folder: the form posts to /api/tasks/ and the new task's bar fills.
    drive = tmp_path / "usb"
    drive.mkdir()
    page.fill("#export-drive", str(drive))
    page.get_by_role("button", name="Export").click()
    exported = page.locator("[data-task-list] [data-task-id]").first
    exported.wait_for()
    page.wait_for_function(
        "['done', 'failed'].includes(document.querySelector('[data-task-list] [data-task-id]')"
        ".getAttribute('data-task-state'))", timeout=WAIT_MS)
    assert exported.get_attribute("data-task-state") == "done", exported.inner_text()
    assert exported.locator("progress").get_attribute("value") == "100"
    databases = list((drive / "KOLIBRI_DATA" / "content" / "databases").glob("*.sqlite3"))
    assert len(databases) == 1
    page.screenshot(path=str(tmp_path / "admin-export.png"), full_page=True)

    page.get_by_role("link", name="Delete this channel…").click()
    page.wait_for_url(f"{admin_server.url}/admin/channels/*/delete/")
    assert page.get_by_role("button", name="Yes, delete it").is_visible()
    page.get_by_role("link", name="No, keep it").click()       # and nothing is deleted
    page.wait_for_url(f"{admin_server.url}/admin/channels/*/")

    page.goto(admin_server.url + "/admin/import/")
    page.get_by_role("button", name="Rescan the databases folder").click()
    task = page.locator("[data-task-list] [data-task-id]").first
    task.wait_for()
    page.wait_for_function(
        "document.querySelector('[data-task-list] [data-task-id]')"
        ".getAttribute('data-task-state') === 'done'", timeout=WAIT_MS)
    assert task.locator("progress").get_attribute("value") == "100"
    # The word shown follows the attribute (the page may redraw the list in between).
    expect(task.locator("[data-task-field=state]")).to_have_text("done", timeout=WAIT_MS)
    assert not task.locator("[data-task-cancel]").is_visible()
    page.screenshot(path=str(tmp_path / "admin-import.png"), full_page=True)
