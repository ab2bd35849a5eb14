"""bench/replay.py's bookkeeping, checked by hand: what it prints is what a composer change
is judged by."""

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
