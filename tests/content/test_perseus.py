"""Exercise files: the builder repeats exercise.json in content_assessmentmetadata."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from channels.builder import ChannelBuildError, FileSpec, NodeSpec
from content.models import AssessmentMetaData, ContentNode
from content.perseus import InvalidExerciseFileError, read_exercise_manifest
from routers.context import using_content_database


def perseus(manifest: object) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("exercise.json", json.dumps(manifest))
        archive.writestr("item-a.json", json.dumps({"question": {"content": "2 + 2 = ?"}}))
    return buffer.getvalue()


def test_it_reads_the_items_and_mastery_model():
    manifest = read_exercise_manifest(perseus({"all_assessment_items": ["a", "b"],
                                               "mastery_model": "m_of_n", "randomize": True}))
    assert manifest.item_ids == ["a", "b"]
    assert manifest.mastery_model == {"type": "m_of_n", "m": 2, "n": 2}
    assert manifest.randomize is True


@pytest.mark.parametrize("data", [b"not a zip", perseus({"items": []}),
                                  perseus({"all_assessment_items": "a"})])
def test_it_refuses_what_is_not_an_exercise_file(data):
    with pytest.raises(InvalidExerciseFileError):
        read_exercise_manifest(data)


@pytest.mark.django_db
def test_built_exercises_carry_their_assessment_metadata(make_channel):
    exercise = NodeSpec(title="Sums", kind="exercise", files=[FileSpec(
        "exercise", "perseus", perseus({"all_assessment_items": ["a", "b", "c"],
                                        "mastery_model": {"type": "do_all"}}))])
    built = make_channel("quiz", root=NodeSpec(title="quiz root", children=[exercise]))
    with using_content_database(built.channel_id):
        row = AssessmentMetaData.objects.get()
        assert row.contentnode_id == ContentNode.objects.get(kind="exercise").id
        assert row.assessment_item_ids == ["a", "b", "c"]
        assert row.number_of_assessments == 3
        assert row.mastery_model == {"type": "do_all"}


@pytest.mark.django_db
def test_a_broken_exercise_file_stops_the_build_naming_it(make_channel):
    exercise = NodeSpec(title="Broken", kind="exercise",
                        files=[FileSpec("exercise", "perseus", b"not a zip")])
    with pytest.raises(ChannelBuildError, match="Broken"):
        make_channel("broken", root=NodeSpec(title="root", children=[exercise]))
