"""The LibreOffice adapter: pure argument and profile builders, finding the binary, and real
conversions of documents written here by hand (no python-docx), checked with pypdf.

LibreOffice is required: `make test` installs Debian's libreoffice-writer-nogui and
libreoffice-impress-nogui; without them these tests fail, loudly.

The document builders are used by tests/authoring/test_conversion.py too.
"""

from __future__ import annotations

import io
import shutil
import sys
import time
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from pypdf import PdfReader

from media import office
from media.office import (
    DEAD_PROXY_PORT,
    OfficeError,
    OfficeNotFoundError,
    OfficeResourceError,
    OfficeTimeoutError,
    build_convert_args,
    convert_to_pdf,
    network_isolation,
    profile_settings,
    run_soffice,
    soffice_available,
    soffice_binary,
)

ODF_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
          'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" '
          'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"')


def _odf(mimetype: str, body: str) -> bytes:
    """An OpenDocument package: `mimetype` first and stored (that is how readers detect it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
        package.writestr("META-INF/manifest.xml", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
            ' manifest:version="1.2">'
            f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/>'
            '<manifest:file-entry manifest:full-path="content.xml" '
            'manifest:media-type="text/xml"/></manifest:manifest>'),
            compress_type=zipfile.ZIP_DEFLATED)
        package.writestr("content.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODF_NS} '
            f'office:version="1.2"><office:body>{body}</office:body></office:document-content>'),
            compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def odt_bytes(*paragraphs: str) -> bytes:
    text = "".join(f"<text:p>{paragraph}</text:p>" for paragraph in paragraphs)
    return _odf("application/vnd.oasis.opendocument.text", f"<office:text>{text}</office:text>")


def odp_bytes(*slides: str) -> bytes:
    pages = "".join(
        f'<draw:page draw:name="slide{number}"><draw:frame svg:x="2cm" svg:y="2cm" '
        f'svg:width="20cm" svg:height="5cm"><draw:text-box><text:p>{words}</text:p>'
        f"</draw:text-box></draw:frame></draw:page>"
        for number, words in enumerate(slides, start=1))
    return _odf("application/vnd.oasis.opendocument.presentation",
                f"<office:presentation>{pages}</office:presentation>")


def docx_bytes(*paragraphs: str) -> bytes:
    """The three parts Word needs: content types, the package relationship, the body."""
    body = "".join(f"<w:p><w:r><w:t>{paragraph}</w:t></w:r></w:p>" for paragraph in paragraphs)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'))
        package.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'))
        package.writestr("word/document.xml", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body>{body}</w:body></w:document>"))
    return buffer.getvalue()


# A zip signature (what the upload check lets through as .docx) and nothing a reader can open.
CORRUPT_DOCX = b"PK\x03\x04" + b"\x00 not really a Word document " * 40


def pdf_text(data: bytes | Path) -> str:
    raw = data.read_bytes() if isinstance(data, Path) else data
    reader = PdfReader(io.BytesIO(raw))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def live_processes_mentioning(needle: str) -> list[str]:
    """Processes (not zombies) whose command line contains `needle`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in command and state != "Z":
            found.append(f"{entry.name} {state} {command}")
    return found


# Pure builders -------------------------------------------------------------------------------

def test_convert_args_use_a_private_profile_and_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = build_convert_args(Path("-rf.docx"), Path("out"), Path("profile"))
    assert args[0] == f"-env:UserInstallation=file://{tmp_path}/profile"
    assert "--headless" in args and "--norestore" in args
    assert args[args.index("--convert-to") + 1] == "pdf"
    assert args[args.index("--outdir") + 1] == f"{tmp_path}/out"
    # The document is the last argument, absolute: a name starting with "-" is no option.
    assert args[-1] == f"{tmp_path}/-rf.docx"


def test_the_profile_sends_libreoffice_fetches_nowhere_and_runs_no_macros():
    root = ElementTree.fromstring(profile_settings())
    values = {}
    for item in root:
        prop = item[0]
        name = prop.get("{http://openoffice.org/2001/registry}name")
        values[name] = prop[0].text
    assert values["ooInetProxyType"] == "1"  # manual proxies
    for scheme in ("HTTP", "HTTPS", "FTP"):
        assert values[f"ooInet{scheme}ProxyName"] == "127.0.0.1"
        assert values[f"ooInet{scheme}ProxyPort"] == str(DEAD_PROXY_PORT)
    assert values["DisableMacrosExecution"] == "true"
    assert values["BlockUntrustedRefererLinks"] == "true"


def test_run_soffice_refuses_a_shell_string():
    with pytest.raises(TypeError, match="never one shell string"):
        run_soffice("--headless --convert-to pdf x.docx")


# Finding the binary --------------------------------------------------------------------------

def test_a_configured_binary_that_is_not_executable_is_an_error(settings, tmp_path):
    settings.SOFFICE_BINARY = str(tmp_path / "no-such-soffice")
    with pytest.raises(OfficeNotFoundError, match="SOFFICE_BINARY is set to"):
        soffice_binary()
    assert soffice_available() is False


def test_a_configured_binary_wins(settings):
    real = shutil.which("soffice")
    assert real, "LibreOffice is not installed: apt install libreoffice-writer-nogui"
    settings.SOFFICE_BINARY = real
    assert soffice_binary() == real and soffice_available() is True


def test_without_libreoffice_the_error_says_how_to_install_it(settings, monkeypatch):
    settings.SOFFICE_BINARY = ""
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(OfficeNotFoundError, match="apt install libreoffice-writer-nogui"):
        soffice_binary()
    assert soffice_available() is False


def test_soffice_runs_without_network_and_with_dead_proxies(settings, tmp_path):
    """A stand-in soffice reports what it sees: no network interface but loopback (where the
    kernel allows namespaces, as here) and proxies pointing at a closed port."""
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\ntail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ' '\n"
                    "echo\necho \"$http_proxy\"\n"
                    "echo \"$HOME\"\n")
    fake.chmod(0o755)
    settings.SOFFICE_BINARY = str(fake)
    output = run_soffice(["--version"], home=tmp_path / "home").splitlines()
    assert output[1] == f"http://127.0.0.1:{DEAD_PROXY_PORT}"
    assert output[2] == str(tmp_path / "home")
    assert network_isolation(), "unshare --net is available on this machine"
    assert output[0].split() == ["lo"]


# Real conversions ----------------------------------------------------------------------------

@pytest.mark.parametrize("extension, build", [("docx", docx_bytes), ("odt", odt_bytes)])
def test_a_text_document_becomes_a_pdf_with_its_words(tmp_path, extension, build):
    source = tmp_path / f"lesson.{extension}"
    source.write_bytes(build("Photosynthesis turns sunlight into sugar.",
                             "Chlorophyll makes leaves green."))
    pdf = convert_to_pdf(source, tmp_path / "work", timeout=120)
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "Photosynthesis turns sunlight into sugar." in text
    assert "Chlorophyll makes leaves green." in text


def test_slides_become_a_pdf_page_each(tmp_path):
    source = tmp_path / "slides.odp"
    source.write_bytes(odp_bytes("Volcanoes erupt", "Glaciers carve valleys"))
    pdf = convert_to_pdf(source, tmp_path / "work", timeout=120)
    reader = PdfReader(pdf)
    assert len(reader.pages) == 2
    assert "Volcanoes erupt" in reader.pages[0].extract_text()
    assert "Glaciers carve valleys" in reader.pages[1].extract_text()


def test_a_powerpoint_file_becomes_a_pdf(tmp_path):
    """A .pptx made by LibreOffice itself from hand-made slides, then converted like an
    upload (needs libreoffice-impress-nogui)."""
    slides = tmp_path / "slides.odp"
    slides.write_bytes(odp_bytes("Rivers reach the sea"))
    profile = tmp_path / "profile"
    office.prepare_profile(profile)
    run_soffice(["-env:UserInstallation=" + profile.as_uri(), "--headless", "--convert-to",
                 "pptx", "--outdir", str(tmp_path / "pptx"), str(slides)], timeout=120)
    pptx = tmp_path / "pptx" / "slides.pptx"
    assert pptx.read_bytes().startswith(b"PK\x03\x04")
    assert "Rivers reach the sea" in pdf_text(convert_to_pdf(pptx, tmp_path / "work",
                                                             timeout=120))


def test_a_corrupt_document_fails_with_libreoffices_reason(tmp_path):
    source = tmp_path / "broken.docx"
    source.write_bytes(CORRUPT_DOCX)
    with pytest.raises(OfficeError) as raised:
        convert_to_pdf(source, tmp_path / "work", timeout=120)
    assert not isinstance(raised.value, OfficeTimeoutError)
    assert "source file could not be loaded" in str(raised.value)
    assert "javaldx" not in str(raised.value)  # noise is not a reason


def test_parallel_conversions_do_not_block_each_other(tmp_path):
    """Each run has its own profile: with a shared one, the second soffice hands its work to
    the first and exits without writing anything."""
    import threading

    results: dict[int, str] = {}

    def convert(number: int) -> None:
        source = tmp_path / f"doc{number}.odt"
        source.write_bytes(odt_bytes(f"Parallel document number {number}"))
        results[number] = pdf_text(convert_to_pdf(source, tmp_path / f"work{number}",
                                                  timeout=120))

    threads = [threading.Thread(target=convert, args=(number,)) for number in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert results == {1: "Parallel document number 1", 2: "Parallel document number 2"}


def test_a_timeout_kills_soffice_and_its_children(tmp_path):
    source = tmp_path / "lesson.odt"
    source.write_bytes(odt_bytes("Too slow"))
    work = tmp_path / "work"
    started = time.monotonic()
    with pytest.raises(OfficeTimeoutError, match="longer than 0.3 s"):
        convert_to_pdf(source, work, timeout=0.3)
    assert time.monotonic() - started < 10
    # soffice.bin is a grandchild; none of this run's processes may survive the timeout.
    deadline = time.monotonic() + 5
    while live_processes_mentioning(str(work)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert live_processes_mentioning(str(work)) == []


def test_a_failing_exit_status_is_an_error_with_the_output_tail(settings, tmp_path):
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\necho 'Warning: failed to launch javaldx'\n"
                    "echo 'Error: something specific' >&2\nexit 3\n")
    fake.chmod(0o755)
    settings.SOFFICE_BINARY = str(fake)
    with pytest.raises(OfficeError, match="exit status 3: Error: something specific$"):
        run_soffice(["--headless"])


def test_the_binary_is_run_directly_not_through_a_shell(settings, tmp_path):
    marker = tmp_path / "should-not-exist"
    fake = tmp_path / "soffice"
    fake.write_text('#!/bin/sh\nfor argument in "$@"; do echo "[$argument]"; done\n')
    fake.chmod(0o755)
    settings.SOFFICE_BINARY = str(fake)
    output = run_soffice([f"; touch {marker}", "$(id)"])
    assert output.splitlines() == [f"[; touch {marker}]", "[$(id)]"]
    assert not marker.exists()


def test_a_run_over_its_memory_limit_is_an_error_naming_the_setting(settings, tmp_path):
    # A stand-in soffice that allocates what a document bomb would make LibreOffice allocate.
    fake = tmp_path / "soffice"
    fake.write_text(f"#!/bin/sh\nexec {sys.executable} -c "
                    "'block = bytearray(512 * 1024 * 1024); print(\"converted\")'\n")
    fake.chmod(0o755)
    settings.SOFFICE_BINARY = str(fake)
    settings.MEDIA_MEMORY_LIMIT = 256 * 1024**2
    with pytest.raises(OfficeResourceError, match="256 MiB of memory .setting MEDIA_MEMORY_LIMIT"):
        run_soffice(["--headless"])
    settings.MEDIA_MEMORY_LIMIT = 1024**3
    assert "converted" in run_soffice(["--headless"])
