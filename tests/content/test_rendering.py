"""The rendering workflow picks the player a node's files need (content/rendering.py).

File rows are built in memory: the choice depends only on their presets, flags and extensions.
The flags are those Kolibri's channels carry (le-utils' presets), so a node imported from a
Kolibri drive renders the same as one built here.
"""

from __future__ import annotations

import hashlib

import pytest

from content.constants import PRESETS
from content.models import File
from content.rendering import PLAYER_TEMPLATES, render_files


def file_row(preset: str, extension: str, name: str) -> File:
    checksum = hashlib.md5(name.encode()).hexdigest()
    preset_info = PRESETS[preset]
    return File(id=hashlib.md5(b"file " + name.encode()).hexdigest(), local_file_id=checksum,
                preset=preset, extension=extension, checksum=checksum, file_size=10,
                supplementary=preset_info.supplementary, thumbnail=preset_info.thumbnail)


def kolibri_row(preset: str, extension: str, name: str, *, supplementary: bool) -> File:
    """A File row with the flags a Kolibri channel database gives it."""
    row = file_row(preset, extension, name)
    row.supplementary = supplementary
    return row


@pytest.mark.parametrize(("kind", "preset", "extension", "player"), [
    ("document", "epub", "epub", "epub"),
    ("h5p", "h5p", "h5p", "h5p"),
    ("document", "document", "pdf", "pdf"),
    ("html5", "html5_zip", "zip", "html5"),
    ("zim", "zim", "zim", "download"),
    ("exercise", "qti", "zip", "download"),  # a zip, but not an app
])
def test_it_picks_the_player_by_the_essential_file(kind: str, preset: str, extension: str,
                                                   player: str) -> None:
    rendering = render_files(kind, [file_row(preset, extension, "one")])
    assert rendering.player == player
    assert rendering.template == PLAYER_TEMPLATES[player]


def test_a_slideshow_plays_its_manifest_with_every_image_beside_it() -> None:
    files = [file_row("slideshow_image", "png", "slide 2"),
             file_row("slideshow_thumbnail", "png", "thumb"),
             file_row("slideshow_manifest", "json", "manifest"),
             file_row("slideshow_image", "jpg", "slide 1")]
    rendering = render_files("slideshow", files)
    assert rendering.player == "slideshow"
    assert rendering.essential is not None and rendering.essential.preset == "slideshow_manifest"
    assert sorted(item.extension for item in rendering.alternatives) == ["jpg", "png"]
    assert rendering.thumbnail is not None and rendering.thumbnail.preset == "slideshow_thumbnail"


def test_a_slideshow_from_a_kolibri_drive_keeps_its_images() -> None:
    """le-utils marks neither the manifest nor the images supplementary."""
    files = [kolibri_row("slideshow_image", "png", "slide", supplementary=False),
             kolibri_row("slideshow_manifest", "json", "manifest", supplementary=False)]
    rendering = render_files("slideshow", files)
    assert rendering.player == "slideshow"
    assert [item.preset for item in rendering.alternatives] == ["slideshow_image"]
    assert PRESETS["slideshow_manifest"].supplementary is False
    assert PRESETS["slideshow_image"].supplementary is False


def test_a_slideshow_without_its_manifest_shows_its_image() -> None:
    rendering = render_files("slideshow", [file_row("slideshow_image", "png", "slide")])
    assert rendering.player == "image"
