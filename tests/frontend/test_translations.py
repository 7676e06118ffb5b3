"""The interface in French and Arabic: chosen by the browser (Accept-Language) or by the header's
language picker (Django's set_language view), translated with no English left in the parts that
are marked, right-to-left for Arabic, the JavaScript catalog, and committed .mo files that match
their .po files (so a machine without gettext still shows translations)."""

from __future__ import annotations

import gettext
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from django.conf import settings
from django.test import Client

from authoring.models import Draft
from channels.models import Channel
from tests.browser import watched_page
from tests.frontend.channels import VIDEO_ID, build_media_channel
from tests.servers import ServerProcess

pytestmark = pytest.mark.django_db

# Every package's catalogs: pages (frontend, accounts, learning) and Python messages (jobs, ...).
LOCALE_DIRS = sorted(path for path in settings.BASE_DIR.glob("*/locale")
                     if not path.parent.name.startswith("."))
PO_FILES = sorted(po for locale_dir in LOCALE_DIRS for po in locale_dir.glob("*/LC_MESSAGES/*.po"))

# What the header says in English: none of it may be left on a translated page.
HEADER_ENGLISH = ["Skip to content", "Search all channels", ">Search<", "Sign in<", "My courses",
                  "My certificates", "Change password", "Sign out", "Change language", ">Admin<"]


def html_of(response) -> str:
    assert response.status_code == 200, response.content[:800]
    return response.content.decode()


def signed_in(user, language: str | None = None) -> Client:
    client = Client(headers={"accept-language": language} if language else {})
    client.force_login(user)
    return client


def assert_no_english(html: str, phrases: list[str]) -> None:
    left = [phrase for phrase in phrases if phrase in html]
    assert not left, f"English left on a translated page: {left}"


def header_of(html: str) -> str:
    return re.search(r'<header class="site-header">.*?</header>', html, re.S).group(0)


def main_of(html: str) -> str:
    return re.search(r'<main id="main".*?</main>', html, re.S).group(0)


# Choosing the language

def test_english_stays_the_default(client):
    html = html_of(client.get("/"))
    assert '<html lang="en" dir="ltr">' in html
    assert "Search all channels" in html and "No channels are installed" in html


def test_the_browser_language_chooses_french(client, make_channel):
    build_media_channel(make_channel)
    html = html_of(client.get("/", headers={"accept-language": "fr-FR,fr;q=0.9,en;q=0.5"}))
    assert '<html lang="fr" dir="ltr">' in html
    assert "<h1>Chaînes</h1>" in html
    assert "8 éléments" in html and "version 1" in html
    assert 'placeholder="Rechercher dans toutes les chaînes"' in html
    assert ">Se connecter<" in html
    assert_no_english(header_of(html), HEADER_ENGLISH)
    assert_no_english(main_of(html), ["Channels", "items"])


def test_the_language_picker_keeps_the_choice_over_the_browser(client):
    html = html_of(client.get("/"))
    picker = re.search(r'<form class="language-picker".*?</form>', html, re.S).group(0)
    assert 'action="/i18n/setlang/"' in picker
    assert 'value="fr"' in picker and 'value="ar"' in picker and ">français<" in picker
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/search/"})
    assert response.status_code == 302 and response["Location"] == "/search/"
    html = html_of(client.get("/search/", headers={"accept-language": "en"}))
    assert '<html lang="fr"' in html and "<h1>Rechercher</h1>" in html
    assert "Tous les types" in html and "Toutes les chaînes" in html
    assert_no_english(main_of(html), ["All kinds", "All channels", "Words", ">Search<"])


def test_a_signed_in_learner_picks_arabic_and_gets_right_to_left(learner_user):
    client = signed_in(learner_user)
    client.post("/i18n/setlang/", {"language": "ar", "next": "/"})
    html = html_of(client.get("/learn/"))
    assert '<html lang="ar" dir="rtl">' in html
    assert "<h1>دوراتي</h1>" in html and "تسجيل الخروج" in html and "شهاداتي" in html
    assert_no_english(header_of(html), HEADER_ENGLISH)


# Translated pages

def test_the_sign_in_page_in_french(client):
    html = html_of(client.get("/login/", headers={"accept-language": "fr"}))
    assert "<h1>Se connecter</h1>" in html
    assert ">Nom d’utilisateur<" in html and ">Mot de passe<" in html
    assert_no_english(main_of(html), ["Sign in", "Username", "Password"])


def test_the_sign_in_page_in_arabic_is_right_to_left(client):
    html = html_of(client.get("/login/", headers={"accept-language": "ar"}))
    assert '<html lang="ar" dir="rtl">' in html
    assert "<h1>تسجيل الدخول</h1>" in html and ">اسم المستخدم<" in html
    assert_no_english(main_of(html), ["Sign in", "Username", "Password"])


def test_a_content_page_in_french_and_arabic(client, make_channel):
    channel = build_media_channel(make_channel)
    path = f"/channels/{channel.channel_id}/content/{VIDEO_ID}/"
    french = html_of(client.get(path, headers={"accept-language": "fr"}))
    assert "Ce navigateur n’a pas pu lire ce fichier vidéo." in french
    assert 'aria-label="Fil d’Ariane"' in french
    assert_no_english(main_of(french), ["This browser could not play", "Breadcrumbs", "Download "])
    arabic = html_of(client.get(path, headers={"accept-language": "ar"}))
    assert 'dir="rtl"' in arabic and "تعذّر على هذا المتصفح تشغيل الفيديو" in arabic
    assert_no_english(main_of(arabic), ["This browser could not play", "Breadcrumbs", "Download "])


def test_a_topic_page_in_arabic(client, make_channel):
    channel = build_media_channel(make_channel)
    html = html_of(client.get(f"/channels/{channel.channel_id}/", headers={"accept-language": "ar"}))
    assert 'dir="rtl"' in html and "الإصدار 1" in html
    assert_no_english(main_of(html), ["Version ", "Topic<", "Breadcrumbs"])


def test_the_wizard_in_french_for_an_author(author_user):
    draft = Draft.objects.create(owner=author_user)
    html = html_of(signed_in(author_user, "fr").get(f"/author/drafts/{draft.id}/"))
    assert "<h1 data-wizard-title>Nouveau cours</h1>" in html
    assert "Informations de base" in html and "Séries de tests" in html
    assert "Récapitulatif et confirmation" in html and ">Publier<" in html
    assert ">Annuler le brouillon<" in html and ">Monter<" in html
    assert_no_english(main_of(html), [
        "New course", "Basic information", "Test sets", "Overview and confirm", "Course name",
        "Next:", ">Back<", ">Publish<", "Cancel draft", "Move up", "Remove", "All changes saved"])


def test_the_admin_channels_page_in_french(admin_user, make_channel):
    make_channel("maths")
    Channel.objects.update(state="rejected", problem="checksum")
    html = html_of(signed_in(admin_user, "fr").get("/admin/channels/"))
    assert "<h1>Chaînes de ce serveur</h1>" in html and "Gérer les chaînes" in html
    assert ">Versions conservées<" in html and ">refusée<" in html
    assert 'aria-label="Administration"' in html and ">Importer<" in html
    assert_no_english(main_of(html), ["Channels on this server", "Kept versions", "Import<",
                                      "Users<", ">rejected<", ">State<", ">Size<"])



def test_the_admin_import_and_accounts_pages_in_arabic(admin_user):
    client = signed_in(admin_user, "ar")
    html = html_of(client.get("/admin/import/"))
    assert 'dir="rtl"' in html and "<h1>استيراد القنوات</h1>" in html and "من أين؟" in html
    assert_no_english(main_of(html), ["Import channels", "From where?", "Show channels",
                                      "Servers found on the network", "Rescan"])
    html = html_of(client.get("/admin/users/"))
    assert "<h1>الحسابات</h1>" in html and ">حساب جديد<" in html
    assert_no_english(main_of(html), ["Accounts", "New account", "Every role", ">Find<"])



def test_the_admin_pages_messages_are_translated_too(admin_user, make_channel):
    channel_id = make_channel("maths").channel_id
    client = signed_in(admin_user, "fr")
    response = client.post(f"/admin/channels/{channel_id}/revert/", {"version": "latest"},
                           follow=True)
    html = html_of(response)
    assert "Choisissez une version à laquelle revenir." in html
    assert "Choose a version" not in html



# English words a template may show as they are: a path typed as an example, and the
# certificate PDF, which a background task renders in no request's language with a font
# (Helvetica) that has no Arabic letters.
UNMARKED_ALLOWED = {"frontend/templates/frontend/admin/channel.html": {"placeholder=/media/usb"},
                    "learning/templates/learning/certificate.html": None}
TEMPLATE_ROOTS = ["frontend/templates", "accounts/templates", "learning/templates"]


def unmarked_text(template: str) -> list[str]:
    """Words of a template outside {% translate %} / {% blocktranslate %}: text between tags and
    the attributes people read (aria-label, placeholder, title, alt)."""
    for pattern in (r"\{% comment %\}.*?\{% endcomment %\}", r"\{#.*?#\}",
                    r"\{% blocktranslate.*?\{% endblocktranslate %\}", r"\{%.*?%\}",
                    r"\{\{.*?\}\}", r"<(script|style)\b.*?</\1>"):
        template = re.sub(pattern, " ", template, flags=re.S)
    def has_words(text: str) -> bool:
        return re.search(r"[A-Za-z]{2,}", text) is not None

    words = [text.strip() for text in re.findall(r">([^<>]*)<", template) if has_words(text)]
    words += [f"{name}={value.strip()}" for name, value in re.findall(
        r'\b(aria-label|placeholder|title|alt)="([^"]*)"', template) if has_words(value)]
    return words


def test_every_page_template_marks_its_words_for_translation():
    left = {}
    for root in TEMPLATE_ROOTS:
        for path in sorted((settings.BASE_DIR / root).rglob("*.html")):
            name = path.relative_to(settings.BASE_DIR).as_posix()
            allowed = UNMARKED_ALLOWED.get(name, set())
            if allowed is None:
                continue
            words = set(unmarked_text(path.read_text(encoding="utf-8"))) - allowed
            if words:
                left[name] = sorted(words)
    assert left == {}, f"wrap these in {{% translate %}} and add them to the catalogs: {left}"


def test_the_template_check_sees_unmarked_words():
    assert unmarked_text('<p>{% translate "Hello" %}</p><p aria-label="Close">x</p>') == [
        "aria-label=Close"]
    assert unmarked_text("<h1>Welcome {{ name }}</h1>") == ["Welcome"]


# The JavaScript catalog

def catalog_in(client, language: str | None) -> dict:
    headers = {"accept-language": language} if language else {}
    response = client.get("/jsi18n/", headers=headers)
    assert response.status_code == 200 and "javascript" in response["Content-Type"]
    found = re.search(r"const newcatalog = (\{.*?\});\n", response.content.decode(), re.S)
    return json.loads(found.group(1)) if found else {}


def test_the_javascript_catalog_serves_french_and_arabic(client):
    french = catalog_in(client, "fr")
    # connection.js (every page), test_player.js (tests), wizard.js (authors), admin.js (tasks).
    assert french["The server is not answering. Retrying…"] == "Le serveur ne répond pas. Nouvel essai…"
    assert french["Submit answers"] == "Envoyer les réponses"
    assert french["All changes saved."] == "Toutes les modifications sont enregistrées."
    assert french["Cancelling…"] == "Annulation…"
    assert french["%(count)s question."] == ["%(count)s question.", "%(count)s questions."]
    assert catalog_in(client, "ar")["Submit answers"] == "إرسال الإجابات"
    assert catalog_in(client, None) == {}


def test_every_page_loads_the_catalog_before_its_scripts(client):
    html = html_of(client.get("/"))
    assert html.index('src="/jsi18n/"') < html.index("connection")


# The catalogs themselves

def catalog_of(mo_file: Path) -> dict:
    with mo_file.open("rb") as handle:
        return dict(gettext.GNUTranslations(handle)._catalog)  # type: ignore[attr-defined]


def test_there_are_french_and_arabic_catalogs_for_pages_and_scripts():
    names = {(po.parts[-3], po.name) for po in PO_FILES}
    assert {("fr", "django.po"), ("ar", "django.po"), ("fr", "djangojs.po"),
            ("ar", "djangojs.po")} <= names


@pytest.mark.parametrize("po_file", PO_FILES, ids=lambda path: "/".join(path.parts[-5:]))
def test_every_message_is_translated_and_compiled(po_file):
    """msgfmt leaves untranslated and fuzzy messages out of the .mo: the committed .mo holds
    exactly the .po's messages only when every one is translated and the .mo is current."""
    text = po_file.read_text(encoding="utf-8")
    assert "#, fuzzy" not in text
    message_count = len(re.findall(r"^msgid ", text, flags=re.M)) - 1  # less the header
    mo_file = po_file.with_suffix(".mo")
    assert mo_file.exists(), f"{mo_file} is missing: run compilemessages and commit it"
    compiled = {key[0] if isinstance(key, tuple) else key for key in catalog_of(mo_file)} - {""}
    assert len(compiled) == message_count, "untranslated messages, or a stale .mo"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="needs gettext's msgfmt (make test)")
@pytest.mark.parametrize("po_file", PO_FILES, ids=lambda path: "/".join(path.parts[-5:]))
def test_the_committed_mo_matches_its_po(po_file, tmp_path):
    fresh = tmp_path / "fresh.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(po_file)], check=True)
    assert catalog_of(po_file.with_suffix(".mo")) == catalog_of(fresh), (
        f"{po_file.with_suffix('.mo')} is stale: run compilemessages and commit it")


# In a real browser: the picker, the scripts' words, right to left

BROWSER_WAIT_MS = 20_000


@pytest.fixture(scope="module")
def author_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("translations") / "server")
    server.home.mkdir(parents=True, exist_ok=True)
    server.run_command("migrate", "--noinput")
    server.run_command("shell", "-c", (
        "from accounts.models import User; "
        "User.objects.create_user('erin', password='erin-pass', role='author')"))
    with server:
        yield server


@pytest.mark.browser
@pytest.mark.server
def test_an_author_picks_arabic_then_french_and_the_wizard_scripts_speak_it(author_server):
    from playwright.sync_api import expect

    url = author_server.url
    with watched_page(url, wait_ms=BROWSER_WAIT_MS) as page:
        page.goto(url + "/login/")
        page.locator("#language-picker__select").select_option("ar")
        page.get_by_role("button", name="Change language").click()
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        expect(page.locator("h1")).to_have_text("تسجيل الدخول")
        # The header reads right to left: the site's name is at the right edge.
        name_box = page.locator(".site-name").bounding_box()
        assert name_box["x"] > 1280 / 2
        page.get_by_label("اسم المستخدم").fill("erin")
        page.get_by_label("كلمة المرور").fill("erin-pass")
        page.locator("form.form button[type=submit]").click()
        page.wait_for_url(url + "/")

        page.locator("#language-picker__select").select_option("fr")
        page.get_by_role("button", name="تغيير اللغة").click()
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        page.goto(url + "/author/")
        page.get_by_role("button", name="Nouveau cours").click()
        page.wait_for_url(re.compile(re.escape(url) + r"/author/drafts/[0-9a-f-]{36}/$"))
        # Words written by the scripts (wizard.js, wizard-tests.js), not by the template.
        page.get_by_label("Nom du cours").fill("Fractions")
        expect(page.locator("[data-save-status]")).to_have_text(
            "Toutes les modifications sont enregistrées.")
        page.get_by_role("button", name="3 Séries de tests").click()
        page.get_by_role("button", name="Ajouter une série de tests").click()
        expect(page.locator(".test-set h3").first).to_have_text("Série de tests 1")
        expect(page.get_by_label("Note de réussite (% de bonnes réponses)")).to_be_visible()
        assert "Test set" not in page.locator("[data-test-sets]").inner_text()
