"""A real browser on a real server: an admin imports a class from a CSV file, gives a learner a
generated password, and the learner signs in with it and changes it from the account menu.

Debian's chromium through Playwright (never `playwright install`); every wait bounded; the
browser talks to 127.0.0.1 only, and the test checks that and that no request failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.browser import watched_page
from tests.servers import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.server]

WAIT_MS = 30_000
CLASS_LIST = ("username,full_name,password,role\n"
              "amina,Amina Khumalo,river-stone-42,\n"
              "bongani,Bongani Dube,lamp-orange-77,learner\n"
              "admin,Taken,river-stone-42,\n")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("users-browser") / "server")
    server.home.mkdir(parents=True, exist_ok=True)
    server.run_command("migrate", "--noinput")
    with server:
        yield server


def sign_in(page, server: ServerProcess, username: str, password: str, next_path: str) -> None:
    page.goto(f"{server.url}/login/?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.form button[type=submit]")
    page.wait_for_url(server.url + next_path)


def test_an_admin_imports_a_class_and_a_learner_takes_over_their_password(server, tmp_path):
    csv_path = Path(tmp_path / "class-5b.csv")
    csv_path.write_bytes(CLASS_LIST.encode("utf-8-sig"))
    with watched_page(server.url, wait_ms=WAIT_MS) as page:
        sign_in(page, server, "admin", "admin-pass", "/admin/channels/")
        page.get_by_role("link", name="Users", exact=True).click()
        page.wait_for_url(server.url + "/admin/users/")
        page.get_by_role("link", name="Import from a CSV file").click()
        page.set_input_files("input[name=file]", str(csv_path))
        page.get_by_role("button", name="Import").click()
        page.wait_for_load_state()
        main = page.locator("main").inner_text()
        assert "2 accounts created, 1 bad row." in main
        assert "The username 'admin' is taken." in main
        page.screenshot(path=str(tmp_path / "users-import.png"), full_page=True)

        page.goto(server.url + "/admin/users/?search=amina")
        page.get_by_role("link", name="amina", exact=True).click()
        page.get_by_role("button", name="Generate a password").click()
        page.wait_for_load_state()
        generated = page.locator("code[data-generated-password]").inner_text().strip()
        assert len(generated) >= 12
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_load_state()

    with watched_page(server.url, wait_ms=WAIT_MS) as page:
        sign_in(page, server, "amina", generated, "/")
        page.get_by_role("link", name="Change password").click()
        page.wait_for_url(server.url + "/account/password/")
        page.fill("input[name=old_password]", generated)
        page.fill("input[name=new_password]", "amina-owns-this-1")
        page.fill("input[name=new_password_again]", "amina-owns-this-1")
        page.get_by_role("button", name="Change password").click()
        page.wait_for_load_state()
        assert "Your password was changed." in page.locator("main").inner_text()
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_load_state()
        sign_in(page, server, "amina", "amina-owns-this-1", "/")
