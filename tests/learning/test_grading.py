"""Grading: exact sets, unanswered, unsupported, pass mark edges (pure functions)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from content.perseus import RadioChoice, RadioItem, UnsupportedItem
from learning.errors import InvalidLearningInputError, NotGradableError
from learning.grading import clean_answers, grade_answers
from learning.questions import mastery_pass_mark

SINGLE = RadioItem("s", "2+2?", (RadioChoice("4", True), RadioChoice("5", False)))
MULTIPLE = RadioItem("m", "primes?", (RadioChoice("2", True), RadioChoice("3", True),
                                      RadioChoice("4", False)), multiple=True)
OTHER = UnsupportedItem("u", "numeric input", ("numeric-input",))


def test_single_choice_is_right_only_with_the_right_choice():
    items = [SINGLE]
    assert grade_answers(items, {"s": ["0"]}, Fraction(1)).results == {"s": True}
    assert grade_answers(items, {"s": ["1"]}, Fraction(1)).results == {"s": False}
    # Both choices of a single-choice question: not the correct set.
    assert grade_answers(items, {"s": ["0", "1"]}, Fraction(1)).results == {"s": False}


def test_multiple_choice_needs_exactly_the_correct_set():
    items = [MULTIPLE]
    assert grade_answers(items, {"m": ["1", "0"]}, Fraction(1)).passed is True
    partial = grade_answers(items, {"m": ["0"]}, Fraction(1))
    assert partial.results == {"m": False} and partial.score == 0.0
    assert grade_answers(items, {"m": ["0", "1", "2"]}, Fraction(1)).results == {"m": False}


def test_unanswered_is_wrong_and_unsupported_is_not_counted():
    grade = grade_answers([SINGLE, MULTIPLE, OTHER], {"s": ["0"], "u": []}, Fraction(1, 2))
    assert grade.results == {"s": True, "m": False, "u": None}
    assert (grade.right, grade.graded, grade.score, grade.passed) == (1, 2, 0.5, True)


def test_a_test_with_nothing_gradable_is_refused():
    with pytest.raises(NotGradableError):
        grade_answers([OTHER], {}, Fraction(4, 5))


def five(right: int) -> tuple[list[RadioItem], dict[str, list[str]]]:
    items = [RadioItem(f"q{index}", "?", (RadioChoice("a", True), RadioChoice("b", False)))
             for index in range(5)]
    return items, {f"q{index}": ["0" if index < right else "1"] for index in range(5)}


def test_the_pass_mark_is_exact_at_its_edge():
    items, answers = five(4)
    assert grade_answers(items, answers, Fraction("0.8")).passed is True
    items, answers = five(3)
    assert grade_answers(items, answers, Fraction("0.8")).passed is False
    # 0.7 of 10 questions is 7, where 0.1 * 7 in floats is 0.7000000000000001.
    items = [RadioItem(f"q{index}", "?", (RadioChoice("a", True), RadioChoice("b", False)))
             for index in range(10)]
    seven = {f"q{index}": ["0" if index < 7 else "1"] for index in range(10)}
    assert grade_answers(items, seven, Fraction("0.7")).passed is True


@given(st.integers(1, 60), st.data())
def test_passing_agrees_with_exact_arithmetic(count, data):
    right = data.draw(st.integers(0, count))
    percent = data.draw(st.integers(1, 100))
    items = [RadioItem(f"q{index}", "?", (RadioChoice("a", True), RadioChoice("b", False)))
             for index in range(count)]
    answers = {f"q{index}": ["0" if index < right else "1"] for index in range(count)}
    grade = grade_answers(items, answers, Fraction(str(percent / 100)))
    assert grade.passed == (right * 100 >= percent * count)


def test_answers_naming_unknown_questions_or_choices_are_refused():
    with pytest.raises(InvalidLearningInputError, match="No such question"):
        clean_answers({"nope": ["0"]}, [SINGLE])
    with pytest.raises(InvalidLearningInputError, match="no choice"):
        clean_answers({"s": ["7"]}, [SINGLE])
    with pytest.raises(InvalidLearningInputError, match="list of choice ids"):
        clean_answers({"s": "0"}, [SINGLE])
    with pytest.raises(InvalidLearningInputError):
        clean_answers(["s"], [SINGLE])
    assert clean_answers({"s": ["0", "0"], "u": ["anything"]}, [SINGLE, OTHER]) == {
        "s": ["0"], "u": ["anything"]}


def test_kolibri_mastery_models_become_pass_marks():
    assert mastery_pass_mark({"type": "m_of_n", "m": 3, "n": 5}, 10) == Fraction(3, 5)
    assert mastery_pass_mark({"type": "do_all"}, 4) == 1
    assert mastery_pass_mark({"type": "num_correct_in_a_row_3"}, 10) == Fraction(3, 10)
    assert mastery_pass_mark({"type": "num_correct_in_a_row_10"}, 4) == 1
    assert mastery_pass_mark({"type": "m_of_n", "m": 9, "n": 2}, 4) == Fraction(4, 5)
