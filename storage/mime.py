"""Content-Type of stored files by extension. Served files are never sniffed (nosniff)."""

from __future__ import annotations

MIME_TYPES: dict[str, str] = {
    "mp4": "video/mp4",
    "webm": "video/webm",
    "ogv": "video/ogg",
    "ogg": "video/ogg",
    "mp3": "audio/mpeg",
    "oga": "audio/ogg",
    "vtt": "text/vtt; charset=utf-8",
    "pdf": "application/pdf",
    "epub": "application/epub+zip",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "svg": "image/svg+xml",
    "json": "application/json",
    "perseus": "application/zip",
    "zip": "application/zip",
    "h5p": "application/zip",
    "zim": "application/octet-stream",
    "swf": "application/x-shockwave-flash",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
    "rtf": "application/rtf",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "graphie": "application/octet-stream",
}


DEFAULT_MIME_TYPE = "application/octet-stream"


def mime_type_for(extension: str) -> str:
    return MIME_TYPES.get(extension.lower(), DEFAULT_MIME_TYPE)
