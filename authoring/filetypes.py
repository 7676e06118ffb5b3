"""What a course may contain, by extension, and whether an upload's bytes are what it says.

An upload is classified by its name's extension (the wizard offers only these types), then
its first bytes are compared with the magic numbers of that type, without any external
library: a `.pdf` that holds a PNG image, or an `.mp4` that is a renamed `.exe`, is refused
before the rest of it is stored. A matching signature does not prove the file is playable
(the encoder and the player find that out); it catches wrong and disguised files early.

    file_type = classify("Lesson 1.MP4")        # FileType(name="video", extension="mp4")
    check_signature(file_type, first_bytes)     # UploadRejectedError if the bytes disagree
    safe_display_name("../../etc/\x00evil.pdf")  # "evil.pdf"
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext

from authoring.errors import UploadRejectedError

# The first bytes an upload is checked against: more than any signature below needs.
SIGNATURE_BYTES = 64
MAX_NAME_LENGTH = 255

TYPES_BY_NAME: dict[str, tuple[str, ...]] = {
    "video": ("mp4", "m4v", "mov", "webm", "mkv", "ogv", "ogg", "avi", "mpg", "mpeg", "wmv",
              "flv"),
    "audio": ("mp3",),
    "document": ("pdf", "epub"),
    "office": ("doc", "docx", "odt", "rtf", "ppt", "pptx", "odp"),
    "flash": ("swf",),
    "image": ("png", "jpg", "jpeg", "gif"),
    "html5": ("zip",),
}
TYPE_BY_EXTENSION: dict[str, str] = {extension: name for name, extensions in TYPES_BY_NAME.items()
                                     for extension in extensions}


@dataclass(frozen=True)
class FileType:
    name: str  # video, audio, document, office, flash, image, html5
    extension: str  # lowercase, without the dot


def allowed_types_text() -> str:
    """"videos (mp4, m4v, ...), audio (mp3), ..." for messages that name what is allowed."""
    labels = {"video": "videos", "audio": "audio", "document": "documents",
              "office": "office documents", "flash": "Flash", "image": "images",
              "html5": "HTML5 apps"}
    return "; ".join(f"{labels[name]} ({', '.join(extensions)})"
                     for name, extensions in TYPES_BY_NAME.items())


def safe_display_name(filename: object) -> str:
    """The name shown to people: no folders, no control or format characters, at most 255.

    Browsers send a bare name, but scripts and old browsers may send a path (with `/` or
    `\\`). Format characters (Unicode Cf) go too: a right-to-left override can make
    "evil\u202efdp.exe" display as "evilexe.pdf". A long name keeps its extension.
    """
    text = filename if isinstance(filename, str) else ""
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(character for character in text
                   if unicodedata.category(character) not in ("Cc", "Cf", "Cs", "Co"))
    text = " ".join(text.split()).strip(" .")
    if len(text) > MAX_NAME_LENGTH:
        stem, dot, extension = text.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            text = stem[:MAX_NAME_LENGTH - len(extension) - 1].rstrip() + "." + extension
        else:
            text = text[:MAX_NAME_LENGTH]
    return text


def extension_of(filename: str) -> str:
    stem, dot, extension = filename.rpartition(".")
    return extension.lower() if dot else ""


def classify(filename: object) -> FileType:
    """The type of an upload by its name's extension; UploadRejectedError (415) naming the
    allowed types if the extension is missing or not one a course may contain."""
    name = safe_display_name(filename)
    extension = extension_of(name)
    type_name = TYPE_BY_EXTENSION.get(extension)
    if type_name is None:
        what = (gettext("“.%(extension)s” files") % {"extension": extension} if extension
                else gettext("files without an extension"))
        raise UploadRejectedError(gettext("%(what)s cannot be part of a course. Allowed: "
                                          "%(allowed)s.")
                                  % {"what": what, "allowed": allowed_types_text()})
    return FileType(type_name, extension)


def _starts(*prefixes: bytes) -> Callable[[bytes], bool]:
    return lambda head: head.startswith(prefixes)


def _is_mp3(head: bytes) -> bool:
    # An ID3v2 tag, or straight into an MPEG audio frame: 11 set bits of frame sync, then a
    # version and layer that are not "reserved" (so random 0xFF bytes do not pass).
    if head.startswith(b"ID3"):
        return True
    return (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0
            and head[1] & 0x18 != 0x08 and head[1] & 0x06 != 0)


def _is_iso_media(head: bytes) -> bool:
    # MP4, M4V and QuickTime: a box size, then `ftyp` (older QuickTime files open with a
    # `moov`, `mdat`, `wide` or `free` atom instead).
    return len(head) >= 8 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free")


def _is_pdf(head: bytes) -> bool:
    # Readers accept a few bytes of junk (a BOM, a blank line) before the header.
    return b"%PDF-" in head[:SIGNATURE_BYTES]


def _is_avi(head: bytes) -> bool:
    return head.startswith(b"RIFF") and head[8:12] == b"AVI "


ZIP = b"PK\x03\x04"
OLE = bytes.fromhex("D0CF11E0A1B11AE1")
EBML = bytes.fromhex("1A45DFA3")
ASF = bytes.fromhex("3026B2758E66CF11")

# extension -> (what a person calls it, does the head match)
SIGNATURES: dict[str, tuple[str, Callable[[bytes], bool]]] = {
    "mp4": ("an MP4 video", _is_iso_media),
    "m4v": ("an M4V video", _is_iso_media),
    "mov": ("a QuickTime video", _is_iso_media),
    "webm": ("a WebM video", _starts(EBML)),
    "mkv": ("a Matroska video", _starts(EBML)),
    "ogv": ("an Ogg video", _starts(b"OggS")),
    "ogg": ("an Ogg file", _starts(b"OggS")),
    "avi": ("an AVI video", _is_avi),
    "mpg": ("an MPEG video", _starts(b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")),
    "mpeg": ("an MPEG video", _starts(b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")),
    "wmv": ("a Windows Media video", _starts(ASF)),
    "flv": ("a Flash video", _starts(b"FLV")),
    "mp3": ("an MP3 file", _is_mp3),
    "pdf": ("a PDF", _is_pdf),
    "epub": ("an EPUB book", _starts(ZIP)),
    "doc": ("a Word document", _starts(OLE)),
    "docx": ("a Word document", _starts(ZIP)),
    "odt": ("an OpenDocument text", _starts(ZIP)),
    "rtf": ("an RTF document", _starts(b"{\\rtf")),
    "ppt": ("a PowerPoint presentation", _starts(OLE)),
    "pptx": ("a PowerPoint presentation", _starts(ZIP)),
    "odp": ("an OpenDocument presentation", _starts(ZIP)),
    "swf": ("a Flash file", _starts(b"FWS", b"CWS", b"ZWS")),
    "png": ("a PNG image", _starts(b"\x89PNG\r\n\x1a\n")),
    "jpg": ("a JPEG image", _starts(b"\xff\xd8\xff")),
    "jpeg": ("a JPEG image", _starts(b"\xff\xd8\xff")),
    "gif": ("a GIF image", _starts(b"GIF87a", b"GIF89a")),
    # An app's archive is checked whole once it is in (authoring.uploads, check_zip_archive).
    "zip": ("a zip archive (an HTML5 app)", _starts(ZIP)),
}


def sniff(first_bytes: bytes) -> str | None:
    """What the bytes look like ("a PNG image"), for the message; None if nothing known."""
    # Specific signatures first: a zip could be any of several office types.
    for extension in ("png", "jpg", "gif", "pdf", "mp4", "webm", "ogg", "avi", "mpg", "wmv",
                      "flv", "rtf", "swf", "mp3"):
        label, matches = SIGNATURES[extension]
        if matches(first_bytes):
            return label
    if first_bytes.startswith(ZIP):
        return "a zip archive"
    if first_bytes.startswith(OLE):
        return "an old Microsoft Office file"
    if first_bytes.startswith(b"MZ"):
        return "a Windows program"
    if first_bytes.startswith(b"\x7fELF"):
        return "a program"
    return None


def check_signature(file_type: FileType, first_bytes: bytes) -> None:
    """UploadRejectedError (415) if `first_bytes` (up to SIGNATURE_BYTES of the file's start)
    contradict `file_type`; the message says what the bytes look like when we can tell."""
    label, matches = SIGNATURES[file_type.extension]
    if matches(first_bytes):
        return
    seen = sniff(first_bytes)
    looks = (gettext("they look like %(seen)s") % {"seen": seen} if seen
             else gettext("their content is something else"))
    raise UploadRejectedError(gettext(
        "The file's bytes are not %(label)s: the name ends in .%(extension)s but %(looks)s. "
        "Save or export the file again in the right format, or give it the extension that "
        "matches its content.")
        % {"label": label, "extension": file_type.extension, "looks": looks})
