"""Grading a test on the server: pure functions over the items and the learner's answers.

A question is right when the set of chosen choices equals the set of correct ones exactly
(a partly right multiple-choice answer is wrong); an unanswered question is wrong; a question
we cannot show (`UnsupportedItem`) is not graded and not counted. The score is right / graded,
and the test is passed when that fraction reaches the pass mark, compared as exact fractions
(0.8 of 5 questions is 4: 4/5 >= 4/5 passes, where floats could say 0.8 < 0.8000000000000002).

    answers = clean_answers(payload["answers"], exercise.items)
    grade = grade_answers(exercise.items, answers, Fraction(4, 5))
    grade.score, grade.passed, grade.results     # 0.8, True, {"q1": True, "q2": None, ...}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from django.utils.translation import gettext

from content.perseus import RadioItem, UnsupportedItem
from learning.errors import InvalidLearningInputError, NotGradableError
from learning.questions import choice_id

Item = RadioItem | UnsupportedItem


@dataclass(frozen=True)
class Grade:
    # question id -> True (right), False (wrong or unanswered), None (not graded).
    results: dict[str, bool | None]
    right: int
    graded: int
    score: float
    passed: bool


def clean_answers(raw: object, items: Sequence[Item]) -> dict[str, list[str]]:
    """`{question_id: [choice_id, ...]}` checked against the test: unknown questions or choices
    are refused (400), so a typo is not silently graded as wrong."""
    if not isinstance(raw, dict):
        raise InvalidLearningInputError(
            gettext('answers must be an object: {"<question id>": ["<choice id>", ...]}.'))
    by_id = {item.item_id: item for item in items}
    unknown = sorted(str(key) for key in raw if key not in by_id)
    if unknown:
        raise InvalidLearningInputError(
            gettext("No such question in this test: %(ids)s. Reload the test.")
            % {"ids": ", ".join(unknown[:5])})
    clean: dict[str, list[str]] = {}
    for question_id, chosen in raw.items():
        if not isinstance(chosen, list) or not all(isinstance(value, str) for value in chosen):
            raise InvalidLearningInputError(
                gettext("The answer to %(question)s must be a list of choice ids.")
                % {"question": question_id})
        item = by_id[question_id]
        if isinstance(item, RadioItem):
            known = {choice_id(index) for index in range(len(item.choices))}
            wrong = sorted(set(chosen) - known)
            if wrong:
                raise InvalidLearningInputError(
                    gettext("Question %(question)s has no choice %(choice)s. Reload the test.")
                    % {"question": question_id, "choice": repr(wrong[0])})
        # Order and repeats mean nothing: a choice is chosen or not.
        clean[question_id] = sorted(set(chosen))
    return clean


def correct_choice_ids(item: RadioItem) -> set[str]:
    return {choice_id(index) for index, choice in enumerate(item.choices) if choice.correct}


def grade_answers(items: Sequence[Item], answers: Mapping[str, Sequence[str]],
                  pass_mark: Fraction) -> Grade:
    results: dict[str, bool | None] = {}
    right = graded = 0
    for item in items:
        if isinstance(item, UnsupportedItem):
            results[item.item_id] = None
            continue
        graded += 1
        is_right = set(answers.get(item.item_id, ())) == correct_choice_ids(item)
        results[item.item_id] = is_right
        right += is_right
    if graded == 0:
        raise NotGradableError(gettext(
            "This test has no question this server can show, so it cannot be graded; ask the "
            "course author to replace its questions."))
    return Grade(results=results, right=right, graded=graded, score=right / graded,
                 passed=Fraction(right, graded) >= pass_mark)
