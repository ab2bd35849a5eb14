"""bench/replay.py's bookkeeping, checked by hand: what it prints is what a composer change
is judged by."""

import datetime as dt

import pytest
import typer

from bench.replay import Outcome, changed, parse_settings, summary


def outcome(kind, right, abstained=False, answerable=True, text="an answer [1]"):
    return Outcome(kind, f"{kind} question", answerable, right, abstained, "", text)


def test_settings_are_typed_as_the_composer_options_are():
    assert parse_settings(["min_evidence=0.6", "max_sentences=3"]) == {"min_evidence": 0.6, "max_sentences": 3}
    assert isinstance(parse_settings(["max_sentences=3"])["max_sentences"], int)


@pytest.mark.parametrize("setting", ["min_evidnce=0.6", "min_evidence"])
def test_a_setting_the_composer_does_not_have_is_refused(setting):
    with pytest.raises(typer.BadParameter, match="expected NAME=VALUE"):
        parse_settings([setting])


def test_summary_counts_each_set_as_the_notes_report_it():
    outcomes = [
        outcome("natural", True), outcome("natural", False),  # answerable: one right
        outcome("natural", True, abstained=True, answerable=False),  # unanswerable, refused
        outcome("check", True), outcome("check", True), outcome("check", False, abstained=True, answerable=False),
        outcome("rtqa", True), outcome("rtqa", False, abstained=True),
        outcome("noopt", True, abstained=True), outcome("noopt", False),
    ]
    assert summary(outcomes) == "natural-dev 1 / 1, natural-train 2 / 0, RealTimeQA 1 / 1 / 1"


def test_changed_names_what_the_variant_gained_lost_or_only_moved():
    before = [outcome("natural", False), outcome("rtqa", True), outcome("natural", False), outcome("check", True)]
    after = [outcome("natural", True), outcome("rtqa", False, abstained=True),
             outcome("natural", False, text="another wrong answer [1]"), outcome("check", True)]
    assert [(change, o.kind) for change, o in changed(before, after)] == [
        ("gained", "natural"), ("lost", "rtqa"), ("moved", "natural")]


def test_folds_of_weeks_keep_a_week_s_quiz_and_its_chat_questions_together():
    from types import SimpleNamespace as Q

    from bench.composer_cv import CHECK_FOLD, Case, by_week

    def case(kind, day, fold=9):
        question = Q(date=day) if kind in ("rtqa", "noopt") else Q(as_of=day)
        return Case(kind, question, f"{kind} {day}", [], None, fold)

    found = [case("rtqa", dt.date(2022, 6, 16)), case("noopt", dt.date(2022, 6, 16)),
             case("rtqa", dt.date(2022, 6, 23)), case("rtqa", dt.date(2022, 7, 1)),
             case("natural", dt.date(2022, 6, 14)),  # the week of the 16 June quiz
             case("natural", dt.date(2022, 6, 23)),  # the quiz's own day
             case("natural", dt.date(2022, 7, 9)),  # after the last quiz: its week
             case("check", dt.date(2022, 6, 16))]
    assert [c.fold for c in by_week(found, folds=2)] == [0, 0, 1, 0, 0, 1, 0, CHECK_FOLD]
