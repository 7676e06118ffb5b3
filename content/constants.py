"""Content kinds, file presets and extensions (le-utils' names, which Kolibri renders).

Each preset says which extensions it takes and whether its file is a thumbnail or supplementary
(captions, exercise images). Our own presets (`ogg_video`, `office_document`, `flash`) carry
the seed's Word, Flash and ogg files; Kolibri imports channels that use them and simply does not
render what it does not know.
"""

from __future__ import annotations

from dataclasses import dataclass

TOPIC = "topic"
VIDEO = "video"
AUDIO = "audio"
EXERCISE = "exercise"
DOCUMENT = "document"
HTML5 = "html5"
SLIDESHOW = "slideshow"
H5P = "h5p"
ZIM = "zim"
QUIZ = "quiz"
CONTENT_KINDS = (TOPIC, VIDEO, AUDIO, EXERCISE, DOCUMENT, HTML5, SLIDESHOW, H5P, ZIM, QUIZ)


@dataclass(frozen=True)
class Preset:
    name: str
    kind: str | None
    extensions: tuple[str, ...]
    thumbnail: bool = False
    supplementary: bool = False
    # Among a node's essential files, the lower number plays first.
    order: int = 1


_PRESET_LIST = (
    Preset("high_res_video", VIDEO, ("mp4", "webm"), order=1),
    Preset("low_res_video", VIDEO, ("mp4", "webm"), order=2),
    Preset("ogg_video", VIDEO, ("ogv", "ogg"), order=3),
    Preset("video_thumbnail", VIDEO, ("png", "jpg", "jpeg"), thumbnail=True),
    Preset("video_subtitle", VIDEO, ("vtt",), supplementary=True),
    Preset("audio", AUDIO, ("mp3",)),
    Preset("audio_thumbnail", AUDIO, ("png", "jpg", "jpeg"), thumbnail=True),
    Preset("document", DOCUMENT, ("pdf",)),
    Preset("epub", DOCUMENT, ("epub",), order=2),
    Preset("office_document", DOCUMENT, ("doc", "docx", "odt", "rtf", "ppt", "pptx", "odp"),
           order=3),
    Preset("document_thumbnail", DOCUMENT, ("png", "jpg", "jpeg"), thumbnail=True),
    Preset("exercise", EXERCISE, ("perseus",)),
    Preset("qti", EXERCISE, ("zip",), order=2),
    Preset("exercise_image", EXERCISE, ("png", "jpg", "jpeg", "gif", "svg"), supplementary=True),
    Preset("exercise_graphie", EXERCISE, ("svg", "json", "graphie"), supplementary=True),
    Preset("exercise_thumbnail", EXERCISE, ("png", "jpg", "jpeg"), thumbnail=True),
    Preset("html5_zip", HTML5, ("zip",)),
    Preset("html5_thumbnail", HTML5, ("png", "jpg", "jpeg"), thumbnail=True),
    Preset("flash", HTML5, ("swf",), order=2),
    Preset("h5p", H5P, ("h5p",)),
    Preset("h5p_thumbnail", H5P, ("png", "jpg", "jpeg"), thumbnail=True),
    Preset("zim", ZIM, ("zim",)),
    Preset("zim_thumbnail", ZIM, ("png", "jpg", "jpeg"), thumbnail=True),
    # As le-utils has them: the manifest is the essential file a slideshow plays (its
    # captions and order), the images come after it; neither is supplementary, so a Kolibri
    # drive's slideshow imports and renders whole.
    Preset("slideshow_manifest", SLIDESHOW, ("json",), order=1),
    Preset("slideshow_image", SLIDESHOW, ("png", "jpg", "jpeg"), order=3),
    Preset("slideshow_thumbnail", SLIDESHOW, ("png", "jpg", "jpeg"), thumbnail=True),
    Preset("channel_thumbnail", None, ("png", "jpg", "jpeg"), thumbnail=True),
    Preset("topic_thumbnail", TOPIC, ("png", "jpg", "jpeg"), thumbnail=True),
)
PRESETS: dict[str, Preset] = {preset.name: preset for preset in _PRESET_LIST}

# What each extension is (served Content-Type) lives with the store: storage.mime.MIME_TYPES.

# The player a node's essential file opens in, by extension.
PLAYERS: dict[str, str] = {
    "mp4": "video",
    "webm": "video",
    "ogv": "video",
    "ogg": "video",
    "mp3": "audio",
    "pdf": "pdf",
    "epub": "epub",  # epub.js, on the sandbox origin
    "json": "slideshow",  # only a slideshow's manifest is an essential .json
    "perseus": "exercise",
    "zip": "html5",
    "h5p": "h5p",  # h5p-standalone, on the sandbox origin
    "swf": "flash",  # Ruffle, on the sandbox origin
    "doc": "download",
    "docx": "download",
    "odt": "download",
    "rtf": "download",
    "ppt": "download",
    "pptx": "download",
    "odp": "download",
    "zim": "download",
    "png": "image",
    "jpg": "image",
    "jpeg": "image",
}


# Presets whose extension says less than the preset: a QTI exercise is a .zip, but not an
# HTML5 app (no index.html); nothing here plays it yet, so it is offered for download.
PRESET_PLAYERS: dict[str, str] = {"qti": "download"}


def preset_for(name: str) -> Preset | None:
    return PRESETS.get(name)
