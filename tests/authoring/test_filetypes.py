"""authoring.filetypes: what a course may contain, and bytes that contradict their name."""

from __future__ import annotations

import io
import zipfile

import pytest

from authoring.errors import UploadRejectedError
from authoring.filetypes import (
    SIGNATURES,
    TYPE_BY_EXTENSION,
    FileType,
    check_signature,
    classify,
    safe_display_name,
)
from tests.authoring.factories import PDF, PNG


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip")
    return buffer.getvalue()


# A real first few bytes of each type (padded: a signature never needs more than 64).
SAMPLES: dict[str, bytes] = {
    "mp4": b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41",
    "m4v": b"\x00\x00\x00\x1cftypM4V \x00\x00\x00\x01M4V M4A mp42isom",
    "mov": b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ",
    "webm": bytes.fromhex("1A45DFA3") + b"\x9f\x42\x86\x81\x01webm",
    "mkv": bytes.fromhex("1A45DFA3") + b"\xa3\x42\x86\x81\x01matroska",
    "ogv": b"OggS\x00\x02" + bytes(20) + b"\x80theora",
    "ogg": b"OggS\x00\x02" + bytes(20) + b"\x01vorbis",
    "avi": b"RIFF\x24\x10\x00\x00AVI LIST",
    "mpg": b"\x00\x00\x01\xba\x44\x00\x04\x00\x04\x01",
    "mpeg": b"\x00\x00\x01\xb3\x14\x00\xf0\x13",
    "wmv": bytes.fromhex("3026B2758E66CF11A6D900AA0062CE6C"),
    "flv": b"FLV\x01\x05\x00\x00\x00\x09",
    "mp3": b"ID3\x04\x00\x00\x00\x00\x00\x23TSSE",
    "pdf": PDF,
    "epub": zip_bytes(),
    "doc": bytes.fromhex("D0CF11E0A1B11AE1") + bytes(8),
    "docx": zip_bytes(),
    "odt": zip_bytes(),
    "rtf": b"{\\rtf1\\ansi\\deff0 {\\fonttbl}",
    "ppt": bytes.fromhex("D0CF11E0A1B11AE1") + bytes(8),
    "pptx": zip_bytes(),
    "odp": zip_bytes(),
    "swf": b"CWS\x0a\x00\x00\x00\x00",
    "png": PNG,
    "jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "jpeg": b"\xff\xd8\xff\xdb\x00\x43\x00",
    "gif": b"GIF89a\x01\x00\x01\x00",
    "zip": zip_bytes(),
}


def test_every_allowed_extension_has_a_signature_and_a_sample():
    assert set(TYPE_BY_EXTENSION) == set(SIGNATURES) == set(SAMPLES)


@pytest.mark.parametrize(("filename", "name", "extension"), [
    ("Lesson 1.MP4", "video", "mp4"), ("talk.ogv", "video", "ogv"),
    ("song.mp3", "audio", "mp3"), ("book.epub", "document", "epub"),
    ("slides.PPTX", "office", "pptx"), ("game.swf", "flash", "swf"),
    ("photo.JPEG", "image", "jpeg"), ("Shapes game.ZIP", "html5", "zip"),
    ("C:\\Users\\bob\\notes.pdf", "document", "pdf"),
])
def test_it_classifies_by_extension(filename, name, extension):
    assert classify(filename) == FileType(name, extension)


@pytest.mark.parametrize("filename", ["setup.exe", "page.html", "README", "archive.rar",
                                      "photo.png.exe", ""])
def test_it_refuses_other_types_naming_the_allowed_ones(filename):
    with pytest.raises(UploadRejectedError) as raised:
        classify(filename)
    assert raised.value.http_status == 415
    message = str(raised.value)
    assert "cannot be part of a course" in message
    assert "mp4" in message and "pdf" in message and "png" in message


@pytest.mark.parametrize("extension", sorted(SAMPLES))
def test_real_first_bytes_pass(extension):
    check_signature(FileType(TYPE_BY_EXTENSION[extension], extension), SAMPLES[extension][:64])


def test_a_pdf_holding_png_bytes_is_refused_saying_what_it_looks_like():
    with pytest.raises(UploadRejectedError) as raised:
        check_signature(FileType("document", "pdf"), PNG[:64])
    message = str(raised.value)
    assert "bytes are not a PDF" in message and "PNG image" in message
    assert raised.value.http_status == 415


@pytest.mark.parametrize(("extension", "data"), [
    ("mp4", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00"),  # a renamed Windows program
    ("docx", bytes.fromhex("D0CF11E0A1B11AE1")),  # an old .doc renamed .docx
    ("doc", b"PK\x03\x04\x14\x00"),
    ("avi", b"RIFF\x24\x10\x00\x00WAVEfmt "),  # a WAV file, not an AVI
    ("mp3", b"\xff\x00\x00\x00"),  # 0xFF alone is no frame sync
    ("mp3", bytes.fromhex("fff0") + bytes(8)),  # frame sync, but the layer bits say "reserved"
    ("gif", b"GIF90a"),
    ("webm", b"OggS\x00\x02"),
    ("jpg", b""),
    ("pdf", b"%PD"),  # too short to be anything
])
def test_bytes_that_contradict_the_type_are_refused(extension, data):
    with pytest.raises(UploadRejectedError, match="bytes are not"):
        check_signature(FileType(TYPE_BY_EXTENSION[extension], extension), data)


def test_an_mp3_may_start_with_a_frame_instead_of_a_tag():
    check_signature(FileType("audio", "mp3"), bytes.fromhex("fffb9064") + bytes(60))


@pytest.mark.parametrize(("given", "expected"), [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("C:\\fakepath\\Lesson 1.mp4", "Lesson 1.mp4"),
    ("bad\x00name\x1b[31m.pdf", "badname[31m.pdf"),
    ("evil\u202efdp.exe", "evilfdp.exe"),  # a right-to-left override is dropped
    ("  spaced \t out  .pdf", "spaced out .pdf"),
    ("trailing.pdf. ", "trailing.pdf"),
    ("Été à l'école.pdf", "Été à l'école.pdf"),
    (None, ""),
])
def test_display_names_are_made_safe(given, expected):
    assert safe_display_name(given) == expected


def test_a_long_name_is_cut_to_255_and_keeps_its_extension():
    name = safe_display_name("x" * 400 + ".pptx")
    assert len(name) == 255 and name.endswith(".pptx")
    assert classify("x" * 400 + ".pptx").extension == "pptx"
