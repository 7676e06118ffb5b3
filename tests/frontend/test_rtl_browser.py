"""Right to left in a real browser: the same admin page in English and in Arabic, and where its
boxes land. The style sheets use logical properties (text-align: start, padding-inline-start),
so a cell's text sits at the left edge of its cell in English and at the right edge in Arabic;
a physical `text-align: left` would keep it on the left in both."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.browser import watched_page
from tests.servers import ServerProcess

BROWSER_WAIT_MS = 20_000
# ServerProcess's first admin (KOLIBRI_LIKE_ADMIN_USERNAME / _PASSWORD).
ADMIN_USERNAME, ADMIN_PASSWORD = "admin", "admin-pass"

pytestmark = [pytest.mark.browser, pytest.mark.server]


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("rtl") / "server") as server:
        yield server


def sides_of_first_account(server: ServerProcess, language: str) -> dict[str, float]:
    """How far the first account's name sits from its cell's left and right edges on
    /admin/users/, and from the page's left and right edges, in `language`."""
    with watched_page(server.url, wait_ms=BROWSER_WAIT_MS) as page:
        page.set_extra_http_headers({"Accept-Language": language})
        page.goto(server.url + "/login/")
        page.locator("input[name=username]").fill(ADMIN_USERNAME)
        page.locator("input[name=password]").fill(ADMIN_PASSWORD)
        page.locator("form.form button[type=submit]").click()
        page.wait_for_url(server.url + "/")
        page.goto(server.url + "/admin/users/")
        assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
        cell = page.locator(".admin-table tbody th").first
        name = cell.locator("a")
        assert name.inner_text() == ADMIN_USERNAME
        cell_box, name_box = cell.bounding_box(), name.bounding_box()
        width = page.evaluate("document.documentElement.clientWidth")
        return {
            "from_cell_left": name_box["x"] - cell_box["x"],
            "from_cell_right": (cell_box["x"] + cell_box["width"])
            - (name_box["x"] + name_box["width"]),
            "name_centre": name_box["x"] + name_box["width"] / 2,
            "page_width": width,
        }


def test_an_admin_table_reads_from_the_left_in_english_and_from_the_right_in_arabic(
        admin_server):
    english = sides_of_first_account(admin_server, "en")
    arabic = sides_of_first_account(admin_server, "ar")
    # The column is wider than the name (its heading is longer): the side the name hugs is
    # where the text starts.
    assert english["from_cell_left"] + 10 < english["from_cell_right"], english
    assert arabic["from_cell_right"] + 10 < arabic["from_cell_left"], arabic
    # The whole table mirrors too: the first column is on the page's left, then on its right.
    assert english["name_centre"] < english["page_width"] / 2 < arabic["name_centre"]
