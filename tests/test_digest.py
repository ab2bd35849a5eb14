"""Digest schedules (when a slot is due, once) and digest rendering, without Discord."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.digest import parse_time, render_digest
from retrieval.schedules import DigestStore, Schedule
from retrieval.digest import Digest, Story, lead
from retrieval.errors import DateError
from retrieval.models import Citation

PARIS = ZoneInfo("Europe/Paris")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def schedule(**changes) -> Schedule:
    values = dict(guild_id=1, channel_id=2, hour=8, minute=30, weekday=None, topic="",
                  created_at=at("2024-01-08T06:00:00").timestamp(), last_slot=None, last_posted=None)
    return Schedule(**(values | changes))


def test_a_daily_slot_is_due_once_and_a_missed_week_is_owed_once():
    daily = schedule()
    assert daily.due(at("2024-01-08T07:29:00"), PARIS) is None  # 08:29 in Paris
    slot = daily.due(at("2024-01-08T07:30:00"), PARIS)
    assert slot == dt.datetime(2024, 1, 8, 8, 30, tzinfo=PARIS)
    posted = schedule(last_slot=slot.timestamp())
    assert posted.due(at("2024-01-08T20:00:00"), PARIS) is None
    # Down from Monday evening to the next Monday noon: only that Monday's slot is owed.
    assert posted.due(at("2024-01-15T11:00:00"), PARIS) == dt.datetime(2024, 1, 15, 8, 30, tzinfo=PARIS)
    # A slot before the schedule was set is not owed.
    assert schedule(created_at=at("2024-01-08T08:00:00").timestamp()).due(at("2024-01-08T09:00:00"), PARIS) is None


def test_a_weekly_slot_falls_on_its_weekday():
    weekly = schedule(weekday=2)  # Wednesday
    assert weekly.due(at("2024-01-09T12:00:00"), PARIS) is None  # a Tuesday
    assert weekly.due(at("2024-01-10T08:00:00"), PARIS) == dt.datetime(2024, 1, 10, 8, 30, tzinfo=PARIS)
    assert weekly.latest_slot(at("2024-01-16T08:00:00"), PARIS) == dt.datetime(2024, 1, 10, 8, 30, tzinfo=PARIS)


def test_parse_time():
    assert [parse_time(t) for t in ("08:30", "8:05", "23:59")] == [(8, 30), (8, 5), (23, 59)]
    with pytest.raises(DateError, match="24-hour HH:MM"):
        parse_time("8pm")


def test_the_store_keeps_a_schedule_per_server_and_what_it_posted(tmp_path):
    store = DigestStore.in_dir(tmp_path)
    store.set(1, 2, 8, 30, None, "", 100.0)
    store.record(1, ["a", "b"], slot=200.0, now=201.0)
    store.set(1, 3, 9, 0, 4, "floods", 300.0)  # replaced: the new one starts afresh, what was posted stays
    assert store.all() == [Schedule(1, 3, 9, 0, 4, "floods", 300.0, None, 201.0)]
    assert store.posted(1) == {"a", "b"}
    assert store.remove(1) and store.all() == []


def test_lead_is_one_or_two_sentences():
    assert lead("First one. Second one. Third one.") == "First one. Second one."
    assert lead("A long first sentence " + "x" * 300 + ". Second.") == "A long first sentence " + "x" * 300 + "."


def test_a_digest_is_split_between_stories_under_2000_characters_and_pings_nobody():
    stories = [Story(Citation(n, f"d{n}", f"Title {n} @everyone", f"Source {n}", "2024-01-08", f"http://127.0.0.1/{n}",
                              f"Lead of story {n} <@123> " + "word " * 80),
                     [Citation(0, f"c{n}", "", "Copy Desk", "2024-01-09", "", "")]) for n in range(1, 9)]
    parts = render_digest(Digest(dt.date(2024, 1, 7), None, None, stories), "Daily digest")
    assert [len(p) <= 2000 for p in parts] == [True] * len(parts) and len(parts) == 3
    assert parts[0].startswith("**Daily digest** · since 2024-01-07\n\n**Title 1 @\u200beveryone**\n“Lead of story 1 <\u200b@123>")
    assert all(p.split("\n\n")[-1].endswith("· also in: Copy Desk") for p in parts)
    assert render_digest(Digest(dt.date(2024, 1, 7), None, "floods", []), "What's new") == [
        "**What's new** on “floods” · since 2024-01-07\n\nNothing new in the archive on “floods” since 2024-01-07."]
