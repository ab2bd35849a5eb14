"""Dates in questions: a table of phrasings and the exact windows they mean."""

import datetime as dt

import pytest

from retrieval.dates import DateHint, date_window, implies_present, read_dates
from retrieval.search import TimeHints

D = dt.date
THU = D(2022, 6, 23)  # a Thursday, like most RealTimeQA quiz dates
SUN = D(2022, 6, 26)
NEW_YEAR = D(2023, 1, 3)  # a Tuesday just after a year boundary

# (question, as of, expected window or None)
WINDOWS = [
    # relative days and weeks
    ("What happened today?", THU, (THU, THU)),
    ("Which team won tonight?", THU, (THU, THU)),
    ("Who resigned yesterday?", THU, (D(2022, 6, 22), D(2022, 6, 22))),
    ("What country elected its first leftist leader this week?", THU, (D(2022, 6, 17), THU)),
    ("Which bill passed earlier this week?", THU, (D(2022, 6, 17), THU)),
    ("Who was arrested last week?", THU, (D(2022, 6, 10), D(2022, 6, 16))),
    ("What happened over the past week?", THU, (D(2022, 6, 16), THU)),
    ("Which storm hit over the weekend?", THU, (D(2022, 6, 18), D(2022, 6, 19))),
    ("What did fans do this weekend?", SUN, (D(2022, 6, 25), SUN)),
    ("What did fans do last weekend?", SUN, (D(2022, 6, 18), D(2022, 6, 19))),
    ("What was said in the past 24 hours?", THU, (D(2022, 6, 22), THU)),
    ("What changed in the last three days?", THU, (D(2022, 6, 20), THU)),
    ("Which stocks fell over the past two weeks?", THU, (D(2022, 6, 9), THU)),
    ("Who was elected five days ago?", THU, (D(2022, 6, 18), D(2022, 6, 18))),
    ("What opened two weeks ago?", THU, (D(2022, 6, 6), D(2022, 6, 12))),
    ("Which items cost more than a year ago?", THU, None),
    # months and years, relative
    ("What launches this month?", THU, (D(2022, 6, 1), THU)),
    ("Who was fired last month?", THU, (D(2022, 5, 1), D(2022, 5, 31))),
    ("How did prices move in the past month?", THU, (D(2022, 5, 23), THU)),
    ("How did prices move in the past month?", D(2022, 3, 31), (D(2022, 2, 28), D(2022, 3, 31))),
    ("Which cities cancelled fireworks this year?", THU, (D(2022, 1, 1), THU)),
    ("Who won the title last year?", THU, (D(2021, 1, 1), D(2021, 12, 31))),
    ("How many books were banned over the last year?", THU, (D(2021, 6, 23), THU)),
    ("How much has rent risen since last year?", THU, (D(2021, 1, 1), THU)),
    # absolute days
    ("What happened on Dec. 18?", THU, (D(2021, 12, 18), D(2021, 12, 18))),
    ("What happened on December 18, 2021?", THU, (D(2021, 12, 18), D(2021, 12, 18))),
    ("What happened on 18 June?", THU, (D(2022, 6, 18), D(2022, 6, 18))),
    ("What happened on June 23rd?", THU, (THU, THU)),
    ("What happened on June 24?", THU, (D(2021, 6, 24), D(2021, 6, 24))),
    ("What happened on Feb. 30?", THU, None),
    ("How many minutes passed during the insurrection on January 6, 2021?", THU, (D(2021, 1, 6), D(2021, 1, 6))),
    ("What has the committee found since Jan. 6?", THU, (D(2022, 1, 6), THU)),
    # absolute months and years
    ("What happened in October 2022?", THU, None),
    ("What happened in October 2021?", THU, (D(2021, 10, 1), D(2021, 10, 31))),
    ("What happened in October?", THU, (D(2021, 10, 1), D(2021, 10, 31))),
    ("What happened in June?", THU, (D(2022, 6, 1), THU)),
    ("Which protests began in mid-June?", THU, (D(2022, 6, 1), THU)),
    ("What has changed since June?", THU, (D(2022, 6, 1), THU)),
    ("How far have prices risen since March 2020?", THU, (D(2020, 3, 1), THU)),
    ("Who won the election last October?", THU, (D(2021, 10, 1), D(2021, 10, 31))),
    ("What was decided in 2021?", THU, (D(2021, 1, 1), D(2021, 12, 31))),
    ("What was decided in 2022?", THU, (D(2022, 1, 1), THU)),
    ("Who has led the party since 2020?", THU, (D(2020, 1, 1), THU)),
    # weekdays: the most recent one, on or before the as-of date
    ("What NFL star announced his retirement on Tuesday?", THU, (D(2022, 6, 21), D(2022, 6, 21))),
    ("What did Tuesday's vote decide?", THU, (D(2022, 6, 21), D(2022, 6, 21))),
    ("Who spoke last Tuesday?", THU, (D(2022, 6, 21), D(2022, 6, 21))),
    ("How many were without power Thursday?", THU, (THU, THU)),
    ("Who spoke last Thursday?", THU, (D(2022, 6, 16), D(2022, 6, 16))),
    ("What did the Fed say on Friday?", THU, (D(2022, 6, 17), D(2022, 6, 17))),
    # adjectives, names and the future: no window
    ("Which team won the 2022 NHL Stanley Cup Finals?", THU, None),
    ("What did the Jan. 6 committee hear?", THU, None),
    ("Why were Fourth of July fireworks cancelled?", THU, None),
    ("Who won on Super Tuesday?", THU, None),
    ("What sold best on Black Friday?", THU, None),
    ("Which team will play in October?", THU, None),
    ("Which concert is scheduled on Dec. 18?", THU, None),
    ("Which countries grew closer since the war in Ukraine began?", THU, None),
    ("Which show was renewed for a new season?", THU, None),
    # several phrases: the narrowest window wins
    ("What did the president say on Monday about protests that began last month?", THU,
     (D(2022, 6, 20), D(2022, 6, 20))),
    ("Which law passed this week after months of talks since 2021?", THU, (D(2022, 6, 17), THU)),
    # across a year boundary
    ("Who was fired last month?", NEW_YEAR, (D(2022, 12, 1), D(2022, 12, 31))),
    ("Which storm hit this week?", NEW_YEAR, (D(2022, 12, 28), NEW_YEAR)),
    ("What happened on Dec. 30?", NEW_YEAR, (D(2022, 12, 30), D(2022, 12, 30))),
    ("What happened in December?", NEW_YEAR, (D(2022, 12, 1), D(2022, 12, 31))),
    ("Who won the title last year?", NEW_YEAR, (D(2022, 1, 1), D(2022, 12, 31))),
]

PRESENT = [
    ("What is the latest on the strike?", True),
    ("Which reptile was recently caught in Florida?", True),
    ("Which country is now bankrupt?", True),
    ("Who currently leads the polls?", True),
    ("Which cheese is popular right now?", True),
    ("What country elected its first leftist leader this week?", True),
    ("Which island nation plunged into chaos in recent days?", True),
    ("Who is the current prime minister?", True),
    ("Which team won the 2022 NHL Stanley Cup Finals?", False),
    ("What did the Jan. 6 committee hear last month?", False),
    ("How many people know the answer?", False),
]


@pytest.mark.parametrize("question,as_of,expected", WINDOWS, ids=[f"{q} @{a}" for q, a, _ in WINDOWS])
def test_date_window(question, as_of, expected):
    assert date_window(question, as_of) == expected


@pytest.mark.parametrize("question,expected", PRESENT, ids=[q for q, _ in PRESENT])
def test_implies_present(question, expected):
    assert implies_present(question) is expected


def test_windows_never_end_after_the_as_of_date():
    for question, as_of, _ in WINDOWS:
        window = date_window(question, as_of)
        if window is not None:
            assert window[0] <= window[1] <= as_of, question


def test_read_dates_says_which_words_it_read():
    assert read_dates("Which bill did the Senate pass this week, and what is in it now?", THU) == DateHint(
        window=(D(2022, 6, 17), THU), present=True, phrase="this week")
    assert read_dates("Who won the 2022 NHL Stanley Cup Finals?", THU) == DateHint(window=None, present=False)


@pytest.mark.parametrize("question, expected", [
    ("Which storm hit this week?", D(2022, 6, 14)),  # the week from Jun 17, less 3 days' grace
    ("Which bill passed yesterday?", D(2022, 6, 19)),
    ("What did the Senate pass on June 1?", None),  # a past day: later articles may tell of it
    ("What happened in October 2021?", None),
    ("Who won the vote?", None),  # no period named
])
def test_recent_since_only_for_periods_that_reach_the_present(question, expected):
    said = read_dates(question, THU)
    assert TimeHints(reference=THU, window=said.window, present=said.present).recent_since() == expected
