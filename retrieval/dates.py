"""Dates in questions: which days a question is about, given the day it is asked.

"What happened on Tuesday?" asked on Thursday 2022-06-23 is about 2022-06-21; "in October"
asked in July 2022 is about October 2021. `read_dates` turns a question and its as-of date
into a window of days (inclusive, never ending after the as-of date, since no article can
be dated later) and a flag saying whether the question asks about the present ("the
latest", "recently", "now"), for a search to filter or boost article dates with.

The windows are what the words literally say; callers decide how hard to apply them. Two
things to know when doing so: an article about an event is often dated the day after it
(measured on the RealTimeQA dev set), and a date can name the event rather than the news
("the riot on January 6, 2021" asked about in 2022), so a far-past window is better a
boost than a filter.

Conventions (all windows inclusive):
- a week is rolling: "this week" is the 7 days ending on the as-of date (news quizzes say
  "this week" on Thursday of things that happened last Sunday), "last week" the 7 before;
- a month and a year are calendar ones: "this month" runs from the 1st to the as-of date,
  "last month" is the whole previous month; "the past month/year" is rolling instead;
- a weekday is its most recent occurrence on or before the as-of date ("last Tuesday":
  strictly before);
- a month or day without a year is its most recent occurrence that has begun by the
  as-of date; in a question about the future ("will", "scheduled") it gets no window;
- absolute dates count after a preposition ("on Dec. 18", "in October 2022", "since June",
  "in 2021"), not as adjectives ("the 2022 Emmy Awards", "the Jan. 6 committee");
- with several date phrases, the narrowest window wins.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

__all__ = ["DateHint", "date_window", "implies_present", "read_dates"]

_MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): n for n, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_WEEKDAYS = {name.lower(): n for n, name in enumerate(calendar.day_name)}
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a couple of": 2, "a few": 3,
            "several": 3}

_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_NUM = r"(?P<n>\d+|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + r")"
_UNIT = r"(?P<unit>hour|day|week|month|year)s?"
_WEEKDAY = r"(?P<weekday>" + "|".join(_WEEKDAYS) + r")(?:'s|’s)?"
# Named days that are not "the most recent such weekday".
_NOT_A_WEEKDAY = r"(?<!super )(?<!black )(?<!good )(?<!cyber )(?<!ash )(?<!holy )(?<!fat )(?<!giving )"

_FUTURE = re.compile(r"\b(will|won't|scheduled|upcoming|next|plans? to|planning to|set to|going to|expected to)\b")
_PRESENT = re.compile(
    r"\b(latest|newest|most recent|recent|recently|now|currently|current|today|tonight|this week|"
    r"these days|so far|at the moment|at present|ongoing)\b"
)


@dataclass(frozen=True)
class DateHint:
    """What a question says about time: a window of days (inclusive) or None, whether it
    asks about the present, and the words the window was read from."""

    window: tuple[dt.date, dt.date] | None
    present: bool
    phrase: str = ""


# -- calendar arithmetic ---------------------------------------------------------------------
def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _shift_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (earlier when negative), clamped to the month's end."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _back(as_of: dt.date, n: int, unit: str) -> dt.date:
    if unit in ("hour", "day"):
        return as_of - dt.timedelta(days=max(1, -(-n // 24)) if unit == "hour" else n)
    if unit == "week":
        return as_of - dt.timedelta(weeks=n)
    if unit == "month":
        return _shift_months(as_of, -n)
    return _shift_months(as_of, -12 * n)


def _last_weekday(as_of: dt.date, weekday: int, strictly_before: bool = False) -> dt.date:
    back = (as_of.weekday() - weekday) % 7
    if back == 0 and strictly_before:
        back = 7
    return as_of - dt.timedelta(days=back)


def _number(text: str) -> int:
    return int(text) if text.isdigit() else _NUMBERS[text]


def _make_day(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None  # "Feb. 30"


# -- the phrases ----------------------------------------------------------------------------
# Each rule: a pattern and a function (match, as_of, future) -> (start, end) or None.
# Windows may reach past the as-of date here; read_dates clips them.
def _rel(pattern: str, fn):
    """A relative phrase; "since" before it stretches its window to the as-of date."""
    return re.compile(r"\b(?:since\s+)?" + pattern + r"\b"), fn


def _abs(preposition: str, pattern: str, fn):
    """An absolute date after a preposition; "since" may stand for it."""
    return re.compile(r"\b(?:" + preposition + r"|since)\s+" + pattern + r"\b"), fn


def _weekend(as_of: dt.date, last: bool) -> tuple[dt.date, dt.date]:
    saturday = _last_weekday(as_of, 5)
    if as_of.weekday() in (5, 6):  # it is the weekend now
        if not last:
            return saturday, as_of
        saturday -= dt.timedelta(days=7)
    return saturday, saturday + dt.timedelta(days=1)


def _day_of(m: re.Match, as_of: dt.date, future: bool) -> tuple[dt.date, dt.date] | None:
    month, day = _MONTHS[m["month"]], int(m["day"])
    if m.groupdict().get("year"):
        found = _make_day(int(m["year"]), month, day)
        return (found, found) if found else None
    if future:
        return None
    for year in (as_of.year, as_of.year - 1):
        found = _make_day(year, month, day)
        if found is not None and found <= as_of:
            return found, found
    return None


def _month_of(m: re.Match, as_of: dt.date, future: bool, strictly_before: bool = False) -> tuple[dt.date, dt.date] | None:
    month = _MONTHS[m["month"]]
    if m.groupdict().get("year"):
        year = int(m["year"])
    elif future:
        return None
    else:
        latest = as_of.month - 1 if strictly_before else as_of.month
        year = as_of.year if month <= latest else as_of.year - 1
    return dt.date(year, month, 1), _month_end(year, month)


def _ago(m, as_of, future):
    n, unit = _number(m["n"]), m["unit"]
    if unit in ("hour", "day"):
        day = _back(as_of, n, unit)
        return day, day
    if unit == "week":
        middle = as_of - dt.timedelta(weeks=n)
        return middle - dt.timedelta(days=3), middle + dt.timedelta(days=3)
    return None  # "a year ago" is nearly always a comparison ("higher than a year ago")


_DAY_FORMS = [  # "Dec. 18", "December 18th, 2022", "18 December 2022"
    _MONTH + r"\s+" + _DAY + r"(?:,?\s+" + _YEAR + r")?",
    _DAY + r"\s+" + _MONTH + r"(?:,?\s+" + _YEAR + r")?",
]
_PART = r"(?:early\s+|mid-?\s*|late\s+)?"
_NOT_THE = r"(?<!the )"  # "over the last year" is rolling, "last year" a calendar year

_RULES = [
    _rel(r"(?:today|tonight|this (?:morning|afternoon|evening))", lambda m, a, f: (a, a)),
    _rel(r"(?:yesterday|last night)", lambda m, a, f: (a - dt.timedelta(days=1),) * 2),
    _rel(r"(?:earlier )?this week", lambda m, a, f: (a - dt.timedelta(days=6), a)),
    _rel(r"(?:over |in |during )?the (?:past|last) week", lambda m, a, f: (a - dt.timedelta(days=7), a)),
    _rel(_NOT_THE + r"last week", lambda m, a, f: (a - dt.timedelta(days=13), a - dt.timedelta(days=7))),
    _rel(r"(?:this|over the) weekend", lambda m, a, f: _weekend(a, last=False)),
    _rel(r"last weekend", lambda m, a, f: _weekend(a, last=True)),
    _rel(r"(?:earlier )?this month", lambda m, a, f: (a.replace(day=1), a)),
    _rel(r"(?:over |in |during )?the (?:past|last) month", lambda m, a, f: (_back(a, 1, "month"), a)),
    _rel(_NOT_THE + r"last month",
         lambda m, a, f: (_shift_months(a.replace(day=1), -1), a.replace(day=1) - dt.timedelta(days=1))),
    _rel(r"(?:earlier )?this year", lambda m, a, f: (dt.date(a.year, 1, 1), a)),
    _rel(r"(?:over |in |during )?the (?:past|last) year", lambda m, a, f: (_back(a, 1, "year"), a)),
    _rel(_NOT_THE + r"last year", lambda m, a, f: (dt.date(a.year - 1, 1, 1), dt.date(a.year - 1, 12, 31))),
    _rel(r"(?:the )?(?:past|last) " + _NUM + r" " + _UNIT, lambda m, a, f: (_back(a, _number(m["n"]), m["unit"]), a)),
    _rel(r"(?<!than )" + _NUM + r" " + _UNIT + r" ago", _ago),
    *[_abs(r"on|dated", form, _day_of) for form in _DAY_FORMS],
    _abs(r"in|during|throughout", _PART + _MONTH + r"(?:,?\s+" + _YEAR + r")?", _month_of),
    _rel(r"last\s+" + _MONTH, lambda m, a, f: _month_of(m, a, False, strictly_before=True)),
    _abs(r"in|during|throughout", _PART + _YEAR,
         lambda m, a, f: (dt.date(int(m["year"]), 1, 1), dt.date(int(m["year"]), 12, 31))),
    _rel(r"last " + _WEEKDAY, lambda m, a, f: (_last_weekday(a, _WEEKDAYS[m["weekday"]], True),) * 2),
    _rel(_NOT_A_WEEKDAY + _WEEKDAY, lambda m, a, f: (_last_weekday(a, _WEEKDAYS[m["weekday"]]),) * 2),
]


def _normalise(question: str) -> str:
    return " ".join(question.replace("’", "'").lower().split())


def read_dates(question: str, as_of: dt.date) -> DateHint:
    """The window of days `question` is about, as of `as_of`, and whether it asks about now."""
    text = _normalise(question)
    future = _FUTURE.search(text) is not None
    best: tuple[int, int, dt.date, dt.date, str] | None = None
    for pattern, rule in _RULES:
        for m in pattern.finditer(text):
            since = m.group(0).startswith("since")
            window = rule(m, as_of, future and not since)
            if window is None:
                continue
            start, end = window[0], as_of if since else min(window[1], as_of)
            if start > end:
                continue  # wholly after the as-of date: no article can be there
            key = ((end - start).days, m.start(), start, end, m.group(0))
            if best is None or key[:2] < best[:2]:
                best = key
    present = implies_present(question)
    if best is None:
        return DateHint(None, present)
    return DateHint((best[2], best[3]), present, best[4])


def date_window(question: str, as_of: dt.date) -> tuple[dt.date, dt.date] | None:
    """(first day, last day) that `question` is about, inclusive, or None."""
    return read_dates(question, as_of).window


def implies_present(question: str) -> bool:
    """Whether the question asks about the state of things now ("the latest", "currently")."""
    return _PRESENT.search(_normalise(question)) is not None
