"""The content rendering workflow (seed 3): what to play for a node, and with what.

1. Start with a ContentNode.
2. Take its File rows (each with a preset).
3. The thumbnail file gives the poster image.
4. Supplementary files (captions, exercise images) go beside the player.
5. The essential files (neither thumbnail nor supplementary) give the main source; its extension
   chooses the player. Videos keep every essential file as an alternative source, mp4 first,
   then webm, then ogg, so each browser picks one it decodes.

    rendering = render_node(node)     # inside using_content_database(channel_id)
    rendering.player, rendering.essential.url, [c.url for c in rendering.supplementary]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from content.constants import PLAYERS, PRESET_PLAYERS, PRESETS
from content.models import ContentNode, File
from storage.mime import mime_type_for

# Browsers try <source> elements in order: the most widely decoded format first.
VIDEO_SOURCE_ORDER = {"mp4": 0, "webm": 1, "ogv": 2, "ogg": 2}
PLAYER_TEMPLATES = {
    "video": "frontend/players/video.html",
    "audio": "frontend/players/audio.html",
    "pdf": "frontend/players/pdf.html",
    "image": "frontend/players/image.html",
    "exercise": "frontend/players/exercise.html",
    # HTML5 apps, Flash, EPUB and H5P play in a frame from the sandbox origin
    # (kolibri_like/zip_app.py): their own HTML never runs on the main site.
    "html5": "frontend/players/html5.html",
    "flash": "frontend/players/flash.html",
    "epub": "frontend/players/epub.html",
    "h5p": "frontend/players/h5p.html",
    # A slideshow's manifest and images are data, not markup: shown on the main site.
    "slideshow": "frontend/players/slideshow.html",
    "download": "frontend/players/download.html",
    "topic": "frontend/players/topic.html",
    "none": "frontend/players/unavailable.html",
}


@dataclass(frozen=True)
class RenderedFile:
    id: str
    checksum: str
    extension: str
    preset: str
    lang: str | None
    url: str
    mime_type: str
    file_size: int | None

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "checksum": self.checksum, "extension": self.extension,
                "preset": self.preset, "lang": self.lang, "url": self.url,
                "mime_type": self.mime_type, "file_size": self.file_size}


@dataclass(frozen=True)
class Rendering:
    player: str
    template: str
    essential: RenderedFile | None
    alternatives: list[RenderedFile] = field(default_factory=list)
    supplementary: list[RenderedFile] = field(default_factory=list)
    thumbnail: RenderedFile | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "player": self.player,
            "essential_file": self.essential.as_dict() if self.essential else None,
            "alternatives": [item.as_dict() for item in self.alternatives],
            "supplementary_files": [item.as_dict() for item in self.supplementary],
            "thumbnail": self.thumbnail.url if self.thumbnail else None,
        }


def rendered_file(file_row: File) -> RenderedFile:
    extension = file_row.extension or file_row.local_file.extension
    checksum = file_row.checksum or file_row.local_file_id
    return RenderedFile(
        id=file_row.id, checksum=checksum, extension=extension, preset=file_row.preset,
        lang=file_row.lang_id, url=file_row.get_url(),
        mime_type=mime_type_for(extension),
        file_size=file_row.file_size)


def _essential_order(item: RenderedFile) -> tuple[int, int]:
    preset = PRESETS.get(item.preset)
    return (preset.order if preset else 9, VIDEO_SOURCE_ORDER.get(item.extension, 5))


def render_files(kind: str, files: Iterable[File]) -> Rendering:
    """The workflow on already fetched File rows (the API fetches them for many nodes at once)."""
    thumbnail: RenderedFile | None = None
    supplementary: list[RenderedFile] = []
    essential: list[RenderedFile] = []
    for file_row in files:
        item = rendered_file(file_row)
        if file_row.thumbnail:
            thumbnail = thumbnail or item
        elif file_row.supplementary:
            supplementary.append(item)
        else:
            essential.append(item)
    essential.sort(key=_essential_order)
    supplementary.sort(key=lambda item: (item.preset, item.lang or ""))
    if kind == "topic":
        player = "topic"
    elif not essential:
        player = "none"
    else:
        player = PRESET_PLAYERS.get(essential[0].preset) or PLAYERS.get(essential[0].extension,
                                                                       "download")
    # The other essential files: a video's other formats (its player's <source>s), a document's
    # original beside its PDF copy (offered for download).
    alternatives = essential[1:]
    if player == "video":
        alternatives = [item for item in alternatives if PLAYERS.get(item.extension) == "video"]
    return Rendering(player=player, template=PLAYER_TEMPLATES[player],
                     essential=essential[0] if essential else None, alternatives=alternatives,
                     supplementary=supplementary, thumbnail=thumbnail)


def render_node(node: ContentNode) -> Rendering:
    return render_files(node.kind, node.files.select_related("local_file").all())
