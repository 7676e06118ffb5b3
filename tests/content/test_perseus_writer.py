"""The `.perseus` writer and the item reader: what one writes the other reads back, byte for
byte the same every time, and author text never turns into widgets, images or math."""

from __future__ import annotations

import io
import json
import string
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from content.perseus import (
    LOCALPATH,
    RadioChoice,
    RadioItem,
    UnsupportedItem,
    escape_markdown,
    image_markdown,
    read_exercise_items,
    read_exercise_manifest,
    unescape_markdown,
    write_exercise,
)

PNG = b"\x89PNG\r\n\x1a\n fake png bytes"
GIF = b"GIF89a fake gif bytes"
ITEM_1 = "a" * 32
ITEM_2 = "b" * 32
M_OF_N = {"type": "m_of_n", "m": 1, "n": 2}


def single_with_image() -> RadioItem:
    return RadioItem(ITEM_1, escape_markdown("Which is a cat?") + "\n\n" + image_markdown("cat.png"),
                     (RadioChoice("Left", True), RadioChoice(image_markdown("dog.gif"), False)),
                     images={"cat.png": PNG, "dog.gif": GIF})


def multiple() -> RadioItem:
    return RadioItem(ITEM_2, escape_markdown("Which are even?"),
                     (RadioChoice("2", True), RadioChoice("3", False), RadioChoice("4", True)),
                     multiple=True)


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_what_it_writes_reads_back_item_for_item():
    data = write_exercise([single_with_image(), multiple()], mastery_model=M_OF_N)
    manifest = read_exercise_manifest(data)
    assert manifest.item_ids == [ITEM_1, ITEM_2]
    assert manifest.mastery_model == M_OF_N
    assert manifest.randomize is False
    assert read_exercise_items(data) == [single_with_image(), multiple()]


def test_exercise_json_maps_each_item_to_its_question_type():
    data = write_exercise([single_with_image(), multiple()], mastery_model=M_OF_N,
                          randomize=True)
    manifest = json.loads(members(data)["exercise.json"])
    assert manifest == {"all_assessment_items": [ITEM_1, ITEM_2],
                        "assessment_mapping": {ITEM_1: "single_selection",
                                               ITEM_2: "multiple_selection"},
                        "mastery_model": M_OF_N, "randomize": True}


def test_each_item_is_one_graded_radio_widget_as_kolibri_plays_it():
    item = json.loads(members(write_exercise([multiple()], mastery_model=M_OF_N))
                      [f"{ITEM_2}.json"])
    assert item["question"]["content"].endswith("\n\n[[\u2603 radio 1]]")
    widget = item["question"]["widgets"]["radio 1"]
    assert widget["type"] == "radio" and widget["graded"] is True
    assert widget["options"]["multipleSelect"] is True
    assert widget["options"]["randomize"] is False
    assert [choice["correct"] for choice in widget["options"]["choices"]] == [True, False, True]


def test_images_go_inside_the_zip_where_kolibri_looks_for_them():
    files = members(write_exercise([single_with_image()], mastery_model=M_OF_N))
    assert files["images/cat.png"] == PNG
    assert files["images/dog.gif"] == GIF
    content = json.loads(files[f"{ITEM_1}.json"])["question"]["content"]
    assert f"({LOCALPATH}/images/cat.png)" in content


def test_the_same_items_give_the_same_bytes():
    first = write_exercise([single_with_image(), multiple()], mastery_model=M_OF_N)
    reordered_images = RadioItem(ITEM_1, single_with_image().question,
                                 single_with_image().choices,
                                 images={"dog.gif": GIF, "cat.png": PNG})
    second = write_exercise([reordered_images, multiple()], mastery_model=dict(M_OF_N))
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert {info.date_time for info in infos} == {(2020, 1, 1, 0, 0, 0)}


@pytest.mark.parametrize("text", [
    "[[\u2603 radio 1]]",
    "![x](${\u2623 LOCALPATH}/images/cat.png)",
    "costs $5 or $x^2$ and \\$",
    "# heading\n\n* list [link](http://example.org) <b>bold</b> `code`",
])
def test_author_text_stays_text(text):
    item = RadioItem(ITEM_1, escape_markdown(text),
                     (RadioChoice(escape_markdown(text), True), RadioChoice("no", False)))
    data = write_exercise([item], mastery_model=M_OF_N)
    [read] = read_exercise_items(data)
    assert isinstance(read, RadioItem)
    assert unescape_markdown(read.question) == text
    assert unescape_markdown(read.choices[0].markdown) == text
    raw = members(data)[f"{ITEM_1}.json"].decode()
    # Exactly our own widget, and nothing Kolibri's image rewriting would pick up.
    assert raw.count("[[\u2603") == 1
    assert LOCALPATH not in raw


@given(st.text())
def test_escaping_any_text_is_reversible_and_leaves_no_markup(text):
    escaped = escape_markdown(text)
    assert unescape_markdown(escaped) == text
    # Read as markdown does: a backslash takes the next character literally. No punctuation
    # (`[`, `!`, `$`, `{` ...) may be left to open a widget, an image, math or a placeholder.
    position = 0
    while position < len(escaped):
        if escaped[position] == "\\":
            assert escaped[position + 1] in string.punctuation
            position += 2
        else:
            assert escaped[position] not in string.punctuation, escaped
            position += 1


def test_it_refuses_markdown_with_a_widget_or_an_image_it_does_not_carry():
    with pytest.raises(ValueError, match="widget"):
        write_exercise([RadioItem(ITEM_1, "[[\u2603 radio 1]]",
                                  (RadioChoice("a", True), RadioChoice("b", False)))],
                       mastery_model=M_OF_N)
    with pytest.raises(ValueError, match="no such image"):
        write_exercise([RadioItem(ITEM_1, image_markdown("cat.png"),
                                  (RadioChoice("a", True), RadioChoice("b", False)))],
                       mastery_model=M_OF_N)


@pytest.mark.parametrize("items", [
    [],
    [RadioItem("../x", "q", (RadioChoice("a", True), RadioChoice("b", False)))],
    [RadioItem(ITEM_1, "q", (RadioChoice("a", True),))],
    [multiple(), multiple()],
    [RadioItem(ITEM_1, "q", (RadioChoice("a", True), RadioChoice("b", False)),
               images={"../cat.png": PNG})],
])
def test_it_refuses_items_kolibri_could_not_play(items):
    with pytest.raises(ValueError):
        write_exercise(items, mastery_model=M_OF_N)


def perseus_zip(items: dict[str, object], files: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("exercise.json", json.dumps({"all_assessment_items": list(items)}))
        for item_id, item in items.items():
            if item is not None:
                archive.writestr(f"{item_id}.json", json.dumps(item))
        for name, content in (files or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def perseus_item(content: str, widgets: dict[str, object]) -> dict[str, object]:
    return {"question": {"content": content, "images": {}, "widgets": widgets}}


RADIO = {"type": "radio", "options": {"choices": [{"content": "yes", "correct": True},
                                                  {"content": "no"}]}}


def test_it_lists_items_it_cannot_play_as_unsupported_in_their_order():
    data = perseus_zip({
        "numeric": perseus_item("2 + 2 = [[\u2603 numeric-input 1]]",
                                {"numeric-input 1": {"type": "numeric-input"}}),
        "two-radios": perseus_item("[[\u2603 radio 1]] [[\u2603 radio 2]]",
                                   {"radio 1": RADIO, "radio 2": RADIO}),
        "missing": None,
        "no-image": perseus_item(f"![]({LOCALPATH}/images/gone.png) [[\u2603 radio 1]]",
                                 {"radio 1": RADIO}),
        "graphie": perseus_item(f"![](web+graphie:{LOCALPATH}/images/g) [[\u2603 radio 1]]",
                                {"radio 1": RADIO}),
        "studio": perseus_item(f"Which?\n\n![]({LOCALPATH}/images/ok.png)\n\n[[\u2603 radio 1]]",
                               {"radio 1": RADIO}),
    }, files={"images/ok.png": PNG})
    read = read_exercise_items(data)
    assert [item.item_id for item in read] == [
        "numeric", "two-radios", "missing", "no-image", "graphie", "studio"]
    assert [type(item) for item in read] == [UnsupportedItem] * 5 + [RadioItem]
    assert read[0].widgets == ("numeric-input",)
    assert read[1].widgets == ("radio", "radio")
    assert "missing" in read[2].reason
    assert "gone.png" in read[3].reason
    assert read[5] == RadioItem("studio", f"Which?\n\n![]({LOCALPATH}/images/ok.png)",
                                (RadioChoice("yes", True), RadioChoice("no", False)),
                                images={"ok.png": PNG})
