"""Test sets (wizard step 3): every rule of `clean_test_sets`, ids kept across saves, images of
this draft only, and the exercise file and options one test set publishes as."""

from __future__ import annotations

import copy
import math
import re
import uuid
from typing import Any

import pytest

from authoring.models import Draft, DraftFile
from authoring.testsets import build_exercise_file, clean_test_sets, exercise_options
from channels.builder import FileSpec, NodeSpec
from content.models import AssessmentMetaData, ContentNode
from content.perseus import RadioItem, read_exercise_items, read_exercise_manifest, \
    unescape_markdown
from routers.context import using_content_database
from storage.files import put_file
from storage.paths import storage_path

pytestmark = pytest.mark.django_db
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5d1f6d00000000049454e44ae426082")
HEX_ID = re.compile(r"[0-9a-f]{32}")


def upload(draft: Draft, name: str, data: bytes = PNG, *, file_type: str = "image",
           state: str = DraftFile.State.FINISHED) -> DraftFile:
    extension = name.rsplit(".", 1)[-1]
    stored = put_file(data, extension)
    return DraftFile.objects.create(
        draft=draft, name=name, usage=DraftFile.Usage.TEST, file_type=file_type,
        extension=extension, size=stored.size, received=stored.size,
        checksum=stored.checksum, state=state)


@pytest.fixture
def draft(author_user) -> Draft:
    return Draft.objects.create(owner=author_user, name="Fractions")


@pytest.fixture
def image(draft) -> DraftFile:
    return upload(draft, "half.png")


def answer(text: str = "", correct: bool = False, **fields: Any) -> dict[str, Any]:
    return {"text": text, "correct": correct, **fields}


def question(text: str = "What is half of 4?", answers: list[dict[str, Any]] | None = None,
             **fields: Any) -> dict[str, Any]:
    return {"text": text, "multiple": False,
            "answers": answers or [answer("2", True), answer("3")], **fields}


def a_test_set(**fields: Any) -> dict[str, Any]:
    return {"title": "Halves", "questions": [question()], **fields}


def only_error(raw: object, draft: Draft) -> tuple[str, str]:
    clean, errors = clean_test_sets(raw, draft)
    assert len(errors) == 1, errors
    return next(iter(errors.items()))


def test_it_fills_defaults_strips_texts_and_makes_ids(draft):
    raw = [{"title": "  Halves  ", "questions": [{
        "text": " Half of 4? ", "answers": [{"text": " 2 ", "correct": True}, {"text": "3"}]}]}]
    clean, errors = clean_test_sets(raw, draft)
    assert errors == {}
    [test] = clean
    assert HEX_ID.fullmatch(test.pop("id"))
    [item] = test.pop("questions")
    assert test == {"title": "Halves", "pass_mark": 0.8, "display": "one",
                    "max_attempts": None, "topic": ""}
    assert HEX_ID.fullmatch(item.pop("id"))
    answers = item.pop("answers")
    assert item == {"text": "Half of 4?", "multiple": False, "image": None}
    assert [(a["text"], a["correct"], a["image"]) for a in answers] == [
        ("2", True, None), ("3", False, None)]
    assert all(HEX_ID.fullmatch(a["id"]) for a in answers)


def test_ids_stay_the_same_across_saves(draft):
    kept = uuid.uuid4().hex
    first, _ = clean_test_sets([a_test_set(id=kept)], draft)
    second, errors = clean_test_sets(copy.deepcopy(first), draft)
    assert errors == {}
    assert second == first
    assert first[0]["id"] == kept


@pytest.mark.parametrize("sent", ["ABCDEF" + "0" * 26, str(uuid.uuid4()), "x" * 32, 42, None])
def test_it_replaces_ids_that_are_not_32_lowercase_hex(draft, sent):
    clean, errors = clean_test_sets([a_test_set(id=sent)], draft)
    assert errors == {}
    assert clean[0]["id"] != sent and HEX_ID.fullmatch(clean[0]["id"])


def test_a_copied_question_or_a_taken_node_id_gets_a_new_id(draft):
    resource = upload(draft, "lesson.pdf", b"%PDF-1.4 x", file_type="document")
    shared = uuid.uuid4().hex
    raw = [a_test_set(id=resource.node_id, questions=[question(id=shared)]),
           a_test_set(questions=[question(id=shared), question(id=shared)])]
    clean, errors = clean_test_sets(raw, draft)
    assert errors == {}
    assert clean[0]["id"] != resource.node_id
    question_ids = [item["id"] for test in clean for item in test["questions"]]
    assert question_ids[0] == shared
    assert len(set(question_ids)) == 3


def test_answers_of_a_question_get_distinct_ids(draft):
    same = uuid.uuid4().hex
    raw = [a_test_set(questions=[question(answers=[answer("2", True, id=same),
                                                 answer("3", id=same)])])]
    clean, errors = clean_test_sets(raw, draft)
    assert errors == {}
    assert len({a["id"] for a in clean[0]["questions"][0]["answers"]}) == 2


@pytest.mark.parametrize(("fields", "accepted"), [
    ({"pass_mark": 1}, 1.0), ({"pass_mark": 0.5}, 0.5),
    ({"display": "all"}, "all"), ({"max_attempts": 100}, 100), ({"max_attempts": None}, None),
    ({"topic": " Halves "}, "Halves"),
])
def test_it_accepts_the_settings_of_a_test_set(draft, fields, accepted):
    clean, errors = clean_test_sets([a_test_set(**fields)], draft)
    assert errors == {}
    assert clean[0][next(iter(fields))] == accepted


@pytest.mark.parametrize(("fields", "path"), [
    ({"title": ""}, "0.title"), ({"title": "   "}, "0.title"), ({"title": "x" * 201}, "0.title"),
    ({"title": 7}, "0.title"),
    ({"pass_mark": 0}, "0.pass_mark"), ({"pass_mark": 1.01}, "0.pass_mark"),
    ({"pass_mark": True}, "0.pass_mark"), ({"pass_mark": "0.8"}, "0.pass_mark"),
    ({"pass_mark": math.nan}, "0.pass_mark"), ({"pass_mark": None}, "0.pass_mark"),
    ({"display": "some"}, "0.display"),
    ({"max_attempts": 0}, "0.max_attempts"), ({"max_attempts": 101}, "0.max_attempts"),
    ({"max_attempts": 2.5}, "0.max_attempts"), ({"max_attempts": True}, "0.max_attempts"),
    ({"topic": 5}, "0.topic"), ({"topic": "t" * 201}, "0.topic"),
    ({"questions": []}, "0.questions"), ({"questions": [question()] * 201}, "0.questions"),
    ({"questions": "q"}, "0.questions"),
    ({"colour": "red"}, "0"),
])
def test_it_refuses_wrong_settings_naming_the_field(draft, fields, path):
    assert only_error([a_test_set(**fields)], draft)[0] == path


def test_a_missing_title_or_questions_list_is_refused(draft):
    _, errors = clean_test_sets([{}], draft)
    assert set(errors) == {"0.title", "0.questions"}


@pytest.mark.parametrize("raw", [None, {"title": "x"}, "sets"])
def test_it_wants_a_list(draft, raw):
    assert only_error(raw, draft)[0] == ""


def test_at_most_fifty_test_sets(draft):
    assert only_error([a_test_set()] * 51, draft)[0] == ""


@pytest.mark.parametrize(("item", "path", "words"), [
    (question(text=""), "0.questions.0.text", "text or an image"),
    (question(text="q" * 2001), "0.questions.0.text", "2000"),
    (question(answers=[answer("2", True)]), "0.questions.0.answers", "2 to 10"),
    (question(answers=[answer(str(n), n == 0) for n in range(11)]),
     "0.questions.0.answers", "2 to 10"),
    (question(answers=[answer("2", True), answer("")]), "0.questions.0.answers.1.text",
     "text or an image"),
    (question(answers=[answer("2", True), answer("a" * 501)]), "0.questions.0.answers.1.text",
     "500"),
    (question(answers=[answer("2", True), answer("4", True)]), "0.questions.0.answers",
     "exactly one"),
    (question(answers=[answer("2"), answer("4")]), "0.questions.0.answers", "exactly one"),
    (question(multiple=True, answers=[answer("2"), answer("4")]), "0.questions.0.answers",
     "at least one"),
    (question(multiple="yes"), "0.questions.0.multiple", "true"),
    (question(answers=[answer("2", "true"), answer("3")]), "0.questions.0.answers.0.correct",
     "true or false"),
    (question(hint="h"), "0.questions.0", "hint"),
    (question(answers=[answer("2", True, weight=1), answer("3")]), "0.questions.0.answers.0",
     "weight"),
    (question(answers=["2", answer("3", True)]), "0.questions.0.answers.0", "object"),
])
def test_it_refuses_wrong_questions_and_answers_naming_where(draft, item, path, words):
    _, errors = clean_test_sets([a_test_set(questions=[question(), item])],
                                draft)
    path = path.replace("questions.0", "questions.1")
    assert list(errors) == [path]
    assert words in errors[path]


def test_multiple_choice_may_have_several_correct_answers(draft):
    item = question(multiple=True, answers=[answer("2", True), answer("4", True), answer("5")])
    clean, errors = clean_test_sets([a_test_set(questions=[item])], draft)
    assert errors == {}
    assert clean[0]["questions"][0]["multiple"] is True


def test_a_question_or_answer_may_be_only_an_image(draft, image):
    image_id = str(image.id)
    item = question(text="", image=image.id.hex,
                    answers=[answer("", True, image=image_id), answer("no")])
    clean, errors = clean_test_sets([a_test_set(questions=[item])], draft)
    assert errors == {}
    cleaned = clean[0]["questions"][0]
    # The file API's form of the id, whichever form was sent.
    assert cleaned["image"] == image_id
    assert cleaned["answers"][0]["image"] == image_id


def test_images_must_be_finished_images_of_this_draft(draft, author_user):
    other_draft = Draft.objects.create(owner=author_user)
    theirs = upload(other_draft, "theirs.png", PNG + b"other")
    document = upload(draft, "notes.pdf", b"%PDF-1.4 notes", file_type="document")
    uploading = upload(draft, "late.png", PNG + b"late", state=DraftFile.State.UPLOADING)
    failed = upload(draft, "bad.png", PNG + b"bad", state=DraftFile.State.ERROR)
    sent = [str(theirs.id), str(document.id), str(uploading.id), str(failed.id),
            str(uuid.uuid4()), "not-an-id", 12]
    questions = [question(image=value) for value in sent]
    _, errors = clean_test_sets([a_test_set(questions=questions)], draft)
    assert {path: message.split(" ")[0] for path, message in errors.items()} == {
        "0.questions.0.image": "no",
        "0.questions.1.image": "notes.pdf",
        "0.questions.2.image": "late.png",
        "0.questions.3.image": "bad.png",
        "0.questions.4.image": "no",
        "0.questions.5.image": "no",
        "0.questions.6.image": "must",
    }
    assert "uploading" in errors["0.questions.2.image"]


def clean_one(draft: Draft, raw: dict[str, Any]) -> dict[str, Any]:
    clean, errors = clean_test_sets([raw], draft)
    assert errors == {}
    return clean[0]


def test_the_exercise_file_holds_the_questions_images_and_mastery(draft, image):
    test = clean_one(draft, a_test_set(pass_mark=0.8, questions=[
        question("Which is [[\u2603 radio 1]] half?", image=str(image.id),
                 answers=[answer("$2$", True, image=str(image.id)), answer("3")]),
        *[question(f"Question {n}") for n in range(3)],
        question("Even?", multiple=True, answers=[answer("2", True), answer("4", True),
                                                  answer("5")]),
    ]))
    loads: list[str] = []

    def load_image(file_id: str) -> tuple[bytes, str]:
        loads.append(file_id)
        item = DraftFile.objects.get(id=file_id)
        return storage_path(item.checksum, item.extension).read_bytes(), item.extension

    data = build_exercise_file(test, image_loader=load_image)
    assert loads == [str(image.id)]  # one image used twice is loaded and stored once
    manifest = read_exercise_manifest(data)
    assert manifest.item_ids == [item["id"] for item in test["questions"]]
    # 0.8 of 5 is 4 (not 5, as 0.8 * 5 = 4.000000000000001 in floats would round up to).
    assert manifest.mastery_model == {"type": "m_of_n", "m": 4, "n": 5}
    assert manifest.randomize is False
    first, *_, last = read_exercise_items(data)
    assert isinstance(first, RadioItem) and isinstance(last, RadioItem)
    assert first.images == {f"{image.checksum}.png": PNG}
    assert unescape_markdown(first.question.split("\n\n")[0]) == "Which is [[\u2603 radio 1]] half?"
    assert unescape_markdown(first.choices[0].markdown.split("\n\n")[0]) == "$2$"
    assert [choice.correct for choice in first.choices] == [True, False]
    assert last.multiple is True and [c.correct for c in last.choices] == [True, True, False]
    assert build_exercise_file(test, image_loader=load_image) == data


@pytest.mark.parametrize(("pass_mark", "count", "needed"), [
    (0.8, 5, 4), (1, 3, 3), (0.5, 3, 2), (0.01, 3, 1), (0.7, 10, 7), (0.6, 5, 3)])
def test_the_pass_mark_rounds_up_to_whole_questions(draft, pass_mark, count, needed):
    test = clean_one(draft, a_test_set(pass_mark=pass_mark,
                                     questions=[question(f"q{n}") for n in range(count)]))
    assert exercise_options(test)["completion_criteria"] == {
        "model": "mastery", "learner_managed": False,
        "threshold": {"mastery_model": "m_of_n", "m": needed, "n": count}}


def test_the_options_carry_our_players_settings(draft):
    test = clean_one(draft, a_test_set(pass_mark=0.5, display="all", max_attempts=3))
    assert exercise_options(test)["kolibri_like_test"] == {
        "pass_mark": 0.5, "display": "all", "max_attempts": 3}


def test_a_built_channel_carries_the_exercise_as_kolibri_reads_it(draft, make_channel):
    test = clean_one(draft, a_test_set(questions=[question(), question("Next?")]))
    exercise = NodeSpec(title=test["title"], kind="exercise", id=test["id"],
                        options=exercise_options(test),
                        files=[FileSpec("exercise", "perseus", build_exercise_file(
                            test, image_loader=lambda file_id: (b"", "png")))])
    built = make_channel("authored", root=NodeSpec(title="Course", children=[exercise]))
    with using_content_database(built.channel_id):
        node = ContentNode.objects.get(kind="exercise")
        row = AssessmentMetaData.objects.get()
    assert node.id == test["id"]
    assert node.options == exercise_options(test)
    assert row.contentnode_id == test["id"]
    assert row.assessment_item_ids == [item["id"] for item in test["questions"]]
    assert row.mastery_model == {"type": "m_of_n", "m": 2, "n": 2}


def test_saving_a_draft_keeps_clean_test_sets_or_answers_every_error(draft, author_user):
    from authoring.drafts import update_draft
    from authoring.errors import InvalidDraftError

    saved = update_draft(author_user, draft.id, {"test_sets": [a_test_set()]})
    saved.refresh_from_db()
    assert saved.test_sets[0]["pass_mark"] == 0.8
    assert HEX_ID.fullmatch(saved.test_sets[0]["id"])
    with pytest.raises(InvalidDraftError) as refused:
        update_draft(author_user, draft.id, {"test_sets": [a_test_set(title="", pass_mark=2)]})
    assert set(refused.value.errors["test_sets"]) == {"0.title", "0.pass_mark"}
    saved.refresh_from_db()
    assert saved.test_sets[0]["title"] == "Halves"
