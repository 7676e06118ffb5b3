"""A test set authored in our wizard plays in the real Kolibri 0.19.5.

Inside one of our servers (`kolibri-like shell`) a draft gets an uploaded image and a test set
of a single-choice question with that image and a multiple-choice question; step 3's checks
clean it, `build_exercise_file` and `exercise_options` make the exercise node, and our builder
makes the channel. We export it to a drive, Kolibri imports it, and Kolibri's own API and zip
server then hand its exercise player what it needs: the item ids and mastery model (from
`content_assessmentmetadata`), our node options (completion criteria), the `.perseus` file, and
`exercise.json` read out of that zip.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
from pathlib import Path
from typing import Any

from tests.interop.kolibri import KolibriHome, get_bytes, get_json
from tests.servers import ServerProcess

BUILD_AUTHORED = ("from tests.interop.test_authored_exercise_into_kolibri import "
                  "build_authored_channel; build_authored_channel()")


def build_authored_channel() -> None:
    """Run inside our server: author the test set as the wizard would, build the channel and
    print, as JSON on the last line, what Kolibri must then show."""
    from accounts.models import User
    from authoring.models import Draft, DraftFile
    from authoring.testsets import build_exercise_file, clean_test_sets, exercise_options
    from channels.builder import ChannelSpec, FileSpec, NodeSpec, build_channel, stable_id
    from storage.files import put_file
    from storage.paths import storage_path
    from tests.interop.every_kind import PNG

    author = User.objects.create_user("interop-author", password="interop-pass", role="author")
    draft = Draft.objects.create(owner=author, name="Interop: authored test")
    stored = put_file(PNG, "png")
    image = DraftFile.objects.create(
        draft=draft, name="cat.png", usage=DraftFile.Usage.TEST, file_type="image",
        extension="png", size=stored.size, received=stored.size, checksum=stored.checksum,
        state=DraftFile.State.FINISHED)
    raw = [{"title": "Animals", "pass_mark": 0.5, "display": "all", "max_attempts": 2,
            "questions": [
                {"text": "Which is a cat? [[\u2603 radio 1]]", "image": str(image.id),
                 "answers": [{"text": "This one", "correct": True, "image": str(image.id)},
                             {"text": "A trout", "correct": False}]},
                {"text": "Which are mammals?", "multiple": True,
                 "answers": [{"text": "Cat", "correct": True}, {"text": "Whale", "correct": True},
                             {"text": "Trout", "correct": False}]}]}]
    [test_set], errors = clean_test_sets(raw, draft)
    assert not errors, errors

    def load_image(file_id: str) -> tuple[bytes, str]:
        item = DraftFile.objects.get(id=file_id, draft=draft)
        return storage_path(item.checksum, item.extension).read_bytes(), item.extension

    exercise = NodeSpec(title=test_set["title"], kind="exercise", id=test_set["id"],
                        options=exercise_options(test_set),
                        files=[FileSpec("exercise", "perseus",
                                        build_exercise_file(test_set, image_loader=load_image))])
    spec = ChannelSpec(name="Interop: authored test", id=stable_id("interop", "authored test"),
                       author="kolibri-like tests",
                       root=NodeSpec(title="Interop: authored test", kind="topic",
                                     children=[exercise]))
    result = build_channel(spec)
    print(json.dumps({"channel_id": result.channel_id, "exercise_id": test_set["id"],
                      "item_ids": [item["id"] for item in test_set["questions"]],
                      "options": exercise_options(test_set),
                      "image_checksum": stored.checksum}))


def test_kolibri_plays_the_exercise_of_an_authored_test_set(
        kolibri_home: KolibriHome, tmp_path: Path) -> None:
    ours = ServerProcess(tmp_path / "ours")
    drive = tmp_path / "drive"
    drive.mkdir()
    try:
        ours.run_command("migrate", "--noinput", "-v", "0")
        built = json.loads(
            ours.run_command("shell", "-c", BUILD_AUTHORED).stdout.strip().splitlines()[-1])
        ours.run_command("exportcontent", built["channel_id"], str(drive))
    finally:
        ours.drop_database()

    channel_id, exercise_id = built["channel_id"], built["exercise_id"]
    kolibri_home.manage("importchannel", "disk", channel_id, str(drive / "KOLIBRI_DATA"))
    kolibri_home.manage("importcontent", "disk", channel_id, str(drive / "KOLIBRI_DATA"))

    with kolibri_home.server() as base_url:
        node = get_json(f"{base_url}/api/content/contentnode/{exercise_id}/")
        assert node["kind"] == "exercise"
        assert node["available"] is True
        metadata = node["assessmentmetadata"]
        assert metadata["assessment_item_ids"] == built["item_ids"]
        assert metadata["number_of_assessments"] == 2
        assert metadata["mastery_model"] == {"type": "m_of_n", "m": 1, "n": 2}
        assert metadata["randomize"] is False
        assert node["options"] == built["options"]
        [perseus] = [entry for entry in node["files"] if entry["preset"] == "exercise"]
        checksum = perseus["checksum"]
        served = get_bytes(f"{base_url}/content/storage/{checksum[0]}/{checksum[1]}/"
                           f"{checksum}.perseus")
        assert hashlib.md5(served).hexdigest() == checksum
        check_kolibri_zip_server(kolibri_home, f"{checksum}.perseus", built)

    # What Kolibri serves, our own reader reads back as the questions we wrote.
    from content.perseus import RadioItem, read_exercise_items, unescape_markdown

    single, multiple = read_exercise_items(served)
    assert isinstance(single, RadioItem) and isinstance(multiple, RadioItem)
    assert unescape_markdown(single.question.split("\n\n")[0]) == (
        "Which is a cat? [[\u2603 radio 1]]")
    assert [choice.correct for choice in single.choices] == [True, False]
    assert single.multiple is False
    assert set(single.images) == {f"{built['image_checksum']}.png"}
    assert multiple.multiple is True
    assert [choice.correct for choice in multiple.choices] == [True, True, False]


def check_kolibri_zip_server(kolibri_home: KolibriHome, zipped_name: str,
                             built: dict[str, Any]) -> None:
    """Kolibri's player fetches exercise.json, the items and their images out of the zip through
    its zip content server (the port it writes into `server.pid`)."""
    pid_lines = (kolibri_home.home / "server.pid").read_text().split()
    zip_url = f"http://127.0.0.1:{pid_lines[2]}/content/zipcontent/{zipped_name}"
    try:
        manifest = json.loads(get_bytes(f"{zip_url}/exercise.json"))
    except urllib.error.HTTPError as error:
        raise AssertionError(f"Kolibri's zip server answered {error.code} for "
                             f"{zip_url}/exercise.json") from None
    assert manifest["all_assessment_items"] == built["item_ids"]
    single_id, multiple_id = built["item_ids"]
    assert manifest["assessment_mapping"] == {single_id: "single_selection",
                                              multiple_id: "multiple_selection"}
    first_item = json.loads(get_bytes(f"{zip_url}/{single_id}.json"))
    assert first_item["question"]["widgets"]["radio 1"]["type"] == "radio"
    image = get_bytes(f"{zip_url}/images/{built['image_checksum']}.png")
    assert hashlib.md5(image).hexdigest() == built["image_checksum"]
