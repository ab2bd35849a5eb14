"""What a question asks for, and whether a sentence holds it.

The composer (retrieval/answers.py) ranks sentences and decides whether any of them answers;
these predicates tell it what kind of answer a question wants ("how many…?" a count of the
thing it counts, "when…?" a time, "who…?" a name the question does not hold, "which
hospital…?" a hospital named) and whether a sentence states one: in the ranking, as a bonus,
and in the refusals (`answers.missing_answer`), when no quoted sentence holds what was asked.
English-only regular expressions, each written from dev-set questions; bench/RESULTS.md
tells what each one moved.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Sequence

from .lexical import STOPWORDS, terms, words
from .sentences import sentence_spans


# "Which crossings closed?", "what ford models are covered…", "which 2 states…", "what are the
# symptoms…": the words right after "which" / "what" name the kind of thing asked for, and a
# plural or a count there asks for several.
_LIST_QUESTION = re.compile(r"^\W*(?:which|what)(?:\s+(?:are|were)\s+the)?\s+(.*)$", re.IGNORECASE)
_LIST_HEAD_END = STOPWORDS | {"did", "do", "does", "has", "have", "had", "were", "can", "could", "should", "from",
                              "after", "before", "since", "during", "about", "like", "besides"}
_MANY = frozenset("two three four five six seven eight nine ten both several".split())


def _plural(word: str) -> bool:
    return len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is"))


def asks_for_list(question: str) -> bool:
    """Whether `question` asks for several things: a plural or a count among the (at most
    three) words after "which" or "what", before the first small word ("which ports of entry
    were affected", not "what kind of missiles", "what did Washington get")."""
    asked = _LIST_QUESTION.match(question)
    if asked is None:
        return False
    for word in words(asked.group(1))[:3]:
        if word in _LIST_HEAD_END:
            return False
        if word in _MANY or (word.isdigit() and 2 <= int(word) <= 20) or _plural(word):
            return True
    return False


# "How many …?" is answered by a number; other questions by a name or a number. A question
# for a percentage or an age is a quantity question too, with its own kind of number
# (`states_quantity`).
_ASKS_PERCENTAGE = re.compile(r"\bwhat (?:percent(?:age)?|share|fraction|proportion)\b", re.IGNORECASE)
_ASKS_AGE = re.compile(r"\bhow old\b|\bwhat age\b", re.IGNORECASE)
_ASKS_QUANTITY = re.compile(
    r"\b(?:how (?:many|much|long|far|often|big|large|high|fast)|by how|approximately|what (?:number|amount|price))\b"
    rf"|{_ASKS_PERCENTAGE.pattern}|{_ASKS_AGE.pattern}", re.IGNORECASE)
# Digits, or a number written out ("two people", "hundreds of homes", "twice").
_NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen"
                 r"|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundreds?"
                 r"|thousands?|millions?|billions?|trillions?|dozens?|half|twice|double|triple")
_NUMBER = re.compile(rf"\d(?:[\d,.]*\d)?|\b(?:{_NUMBER_WORDS})\b", re.IGNORECASE)
_NAME = re.compile(r"\b[A-Z][\w’'&.-]+")


_ASKS_TIME = re.compile(r"^\W*(?:when|since when|since what|(?:what|which) (?:date|day|year|month|time))\b"
                        r"|\bwhen(?:'s|’s| is| was| will| did| does| do| are| were)\b", re.IGNORECASE)
# Day and month names, one list for telling times (`_TIME`) and for telling them from names
# (`_CALENDAR`); retrieval/dates.py reads dates with the same `calendar` names.
_DAY_NAMES = tuple(name.lower() for name in calendar.day_name)
_MONTH_NAMES = tuple(name.lower() for name in calendar.month_name if name)
_MONTHS = "|".join(_MONTH_NAMES + tuple(name.lower() for name in calendar.month_abbr if name)) + "|sept"
# A date or a time, absolute or relative: what a "when" question is answered with.
_TIME = re.compile(
    r"\b(?:(?:1[89]|20)\d\d|" + _MONTHS + "|" + "|".join(_DAY_NAMES) + r"|today"
    r"|tomorrow|yesterday|tonight|(?:this|next|last|later this|earlier this) (?:week|month|year|weekend|season)"
    r"|ago|a\.m|p\.m|noon|midnight|morning|evening|afternoon|spring|summer|autumn|fall|winter|decades?|century"
    r"|since|until|by the end of|(?:days?|weeks?|months?|years?) (?:later|earlier|after|before))\b", re.IGNORECASE)


# "How much did Ripley's pay?", "what price…", "the dollar figure…", "what was X's production
# budget?" (natural-train: unanswerable refused 129 -> 131 of 240, "…earning just 14% positive
# reviews" had answered the budget of Ride Along 2; nothing lost): answered with a sum of money.
# Not when the question is about a rate, a share or a span of time ("how much did the Fed
# raise rates", "how much time did she spend"), nor a verb that is as often about things
# ("give up ground", "make progress").
_ASKS_AMOUNT = re.compile(
    r"\bhow much\b.*\b(?:cost|costs|pay|paid|pays|fine|fined|price|worth|invest|invested|spend|spent|sell for"
    r"|sold for|charge|charged|earn|earned|owe|owed|seeking|seek|award|awarded|donate|donated|bid|value|valued"
    r"|budget|salary|money)\b|\bwhat (?:price|amount)\b"
    r"|\bwhat(?:'s|’s| is| was| were| are| will be)\b[^?]{0,60}?\b(?:budget|salary|price|cost|value|worth|payout"
    r"|bail|ransom|box office|gross|revenue)\b"
    r"|\bdollars? (?:amount|figure|value|estimate|fine|cost|price|total)\b", re.IGNORECASE)
_NOT_AMOUNT = re.compile(r"\b(?:percent|percentage|share|rate|rates|time|hours?|days?|weeks?|months?|years?)\b",
                         re.IGNORECASE)
_CURRENCY = (r"dollars|euros?|pounds|yen|yuan|rupees|francs|pesos|rubles|roubles|won|naira|rand|afn|bitcoins?"
             r"|usd|eur|gbp")
# "$4.8 million", "405 million euros", "100,000 AFN", "€1bn".
_AMOUNT = re.compile(
    r"(?:[$€£¥]|\bus\$)\s?\d[\d,.]*|\b\d[\d,.]*\s?(?:million|billion|trillion|thousand|m|bn|k)?\s?(?:"
    + _CURRENCY + r")\b", re.IGNORECASE)


def asks_amount(question: str) -> bool:
    return _ASKS_AMOUNT.search(question) is not None and _NOT_AMOUNT.search(question) is None


def states_amount(question: str, text: str) -> bool:
    """Whether `text` holds a sum of money that `question` does not already hold."""
    return _states_new(_AMOUNT, question, text)


# "What sentence did he get?", "what was her prison sentence?": a term ("12 years in federal
# prison", "eight months"), life, probation, death, or a fine.
_ASKS_PENALTY = re.compile(r"\bwhat (?:\w+ )?(?:prison |jail )?sentence (?:did|does|do|will|has|have|was|is)\b"
                           r"|\bwhat (?:was|is|will be) (?:the |his |her |their |[\w'’-]+(?:'s|’s) )(?:prison |jail )?"
                           r"sentence\b(?! (?:of|in|from|that) )", re.IGNORECASE)
_PENALTY = re.compile(rf"\b(?:\d+|{_NUMBER_WORDS})[-\s](?:years?|months?|weeks?|days?)\b|\blife\b|\bprobation\b"
                      r"|\bdeath (?:sentence|penalty)\b|\bcommunity service\b|\bfined?\b|\bacquitted\b", re.IGNORECASE)


def asks_penalty(question: str) -> bool:
    return _ASKS_PENALTY.search(question) is not None


def states_penalty(text: str) -> bool:
    return _PENALTY.search(text) is not None


def _states_new(pattern: re.Pattern, question: str, text: str) -> bool:
    """Whether `text` holds a match of `pattern` that `question` does not already hold."""
    asked = question.lower()
    return any(found.lower() not in asked for found in pattern.findall(text))


# "What did …", "how many years did he get": a question about what happened.
_ASKS_WHAT_HAPPENED = re.compile(r"\bdid\b", re.IGNORECASE)
# … unless it asks about the plan itself ("where did Nadal plan to play?").
_ASKS_PLAN = re.compile(r"\b(?:plan\w*|hop(?:e|es|ed|ing)|expect\w*|intend\w*|aim\w*|going to|will|would|'ll|’ll)\b",
                        re.IGNORECASE)
# What had not happened when the article was written: a plan, a hope, a maximum sentence, a
# date "in mind". Only phrases that state nothing done: "set to", "expected to" and
# "scheduled to" share their sentence with a reported fact too often ("Brady was set to
# announce his retirement", "It shed 200,000 subscribers …, adding that it expects to lose
# another two million": right answers in natural-train).
# What is not done yet in so many words is: "An investigation is set to be launched" for
# "what did FIDE's investigation conclude?", "has yet to", "is to be named" (natural-dev
# unanswerable refused 26 -> 27 of 40, written from that question; natural-train and
# RealTimeQA unmoved, nothing lost).
_PROSPECT = re.compile(r"\b(?:plans? to|planning to|hoping|hopes? (?:to|that|the|a|an|it|its|this|they|he|she|we)"
                       r"|faces? up to|next attempt|in mind|(?:set|yet|is|are) to be \w+ed|(?:has|have) yet to)\b",
                       re.IGNORECASE)


def asks_what_happened(question: str) -> bool:
    return _ASKS_WHAT_HAPPENED.search(question) is not None and _ASKS_PLAN.search(question) is None


def tells_prospect(text: str) -> bool:
    """Whether `text` tells of something planned or expected ("Instagram plans to appeal")."""
    return _PROSPECT.search(text) is not None


# A question about how a process ended ("finally", "officially", "fully", "end up"), not about
# a plan: the best sentence of an archive that stops before the end tells what would, could or
# will happen, what is expected or planned, or that it was delayed ("scrubbed", "postponed",
# "continues to sit on the launchpad": "when did artemis I finally launch", natural-train 123 ->
# 125 refused, nothing lost; bench/RESULTS.md, session 15).
_ASKS_OUTCOME = re.compile(r"\b(?:finally|actually|officially|fully|ultimately|eventually|end(?:ed|s)? up)\b",
                           re.IGNORECASE)
_HYPOTHETICAL = re.compile(r"\b(?:will|would|could|if|expects?|expected|plans?|planned|intends?|intention|set to"
                           r"|hopes?|hoping|scheduled|likely|unlikely|scrubbed|postponed|delayed|yet to|continues to)\b",
                           re.IGNORECASE)


def asks_final_outcome(question: str) -> bool:
    """Whether `question` asks how something ended, not what may happen ("could … eventually")."""
    return _ASKS_OUTCOME.search(question) is not None and not tells_hypothetical(question)


def tells_hypothetical(text: str) -> bool:
    return _HYPOTHETICAL.search(text) is not None


# "What caused the bridge collapse?", "what started the fire?", "what did Vin Scully die of?":
# answered by a sentence that tells a cause ("because", "due to", "caused by", "started by",
# "died of", "after", "from", "…, prompting CBP to shut down crossings"), not by one that only
# tells what happened ("the bridge collapsed on Friday"). Not "why …?": its answers give reasons
# in too many ways ("to clear inventory", "as prices rise"; refusing it without a cause word
# lost 4 right natural-train answers for 2 refusals gained, bench/RESULTS.md, session 14).
_ASKS_CAUSE = re.compile(r"\bwhat (?:\w+ )?(?:caused|started|sparked|triggered|ignited|set off)\b|\bcause of\b"
                         r"|\bhow did (?:the )?(?:\w+ ){1,4}(?:start|begin)\b|\bdie(?:d)? (?:from|of)\b", re.IGNORECASE)
_CAUSE = re.compile(r"\b(?:because|due to|caus\w*|after|as a result|linked to|led to|blam\w*|reasons?|result\w*"
                    r"|triggered|sparked|prompt\w*|spurr?\w*|forc\w*|fuel\w*|amid|in response to|owing to"
                    r"|thanks to|so that|stemm?\w* from|died (?:of|from)|complications|cancer|illness|disease"
                    r"|attack|natural|suicide|injur\w*|struck|from|(?:started|ignited|set) by)\b", re.IGNORECASE)


def asks_cause(question: str) -> bool:
    return _ASKS_CAUSE.search(question) is not None


def tells_cause(text: str) -> bool:
    return _CAUSE.search(text) is not None


# What a death came from ("what did Vin Scully die of?", "what killed…", "how did … die",
# "cause of death") is told of the death: "died Saturday from complications…", "The cause was
# cancer", "…was killed by…"; not by a cause word elsewhere ("after 26 years of isolation, … has
# died").
_ASKS_DEATH_CAUSE = re.compile(r"\bdie(?:d)? (?:from|of)\b|\bcause of (?:his |her |their )?death\b|\bwhat killed\b"
                               r"|\bhow did\b.*\bdie\b", re.IGNORECASE)
_DEATH_CAUSE = re.compile(r"\b(?:died|dies|dying|death|dead|killed|passed away|succumbed)\b[^.;]{0,80}?"
                          r"\b(?:(?<!age )of|from|after|due to|because|following|by|complications|cancer|illness"
                          r"|disease|overdose|suicide)\b"
                          r"|\b(?:the )?cause (?:of (?:his |her |their )?death )?(?:was|is)\b"
                          r"|\b(?:killed|claimed) by\b", re.IGNORECASE)


def asks_death_cause(question: str) -> bool:
    return _ASKS_DEATH_CAUSE.search(question) is not None


def tells_death_cause(text: str) -> bool:
    return _DEATH_CAUSE.search(text) is not None


def asks_time(question: str) -> bool:
    return _ASKS_TIME.search(question) is not None


# A "when" question about what is still to come ("when does the trial start?", "when's the
# appeal hearing?", "when will …") is not answered by the weekday of a report ("… accused
# Trump of fraud on Wednesday"), by "yesterday", or by a time that looks back ("called her
# wife … for the first time since her arrest", "two years ago", "last week"): news dates what
# already happened that way. Unless the sentence looks ahead itself ("NASA will try again on
# Saturday", "crews expect to reopen the road by Thursday"). The looking-back words: natural-dev
# unanswerable refused 28 -> 29 of 40 ("when's brittney griner's appeal hearing"), nothing
# lost on any set (bench/RESULTS.md, session 13).
_VERB_MONTHS = frozenset({"may", "march"})
_ASKS_AHEAD = re.compile(r"\bwhen(?:'s|’s| is| will| does| do| are)\b", re.IGNORECASE)
_LOOKING_BACK = frozenset(_DAY_NAMES) | {"yesterday", "since", "ago", "last week", "last month", "last year",
                                         "last weekend", "last season", "earlier this week", "earlier this month",
                                         "earlier this year", "earlier this season", "earlier this weekend",
                                         "decade", "decades", "century"}
_LOOKS_AHEAD = re.compile(r"\b(?:will|scheduled|set to|expect\w*|next|upcoming|plans? to|planned|by (?:"
                          + "|".join(_DAY_NAMES) + r"))\b", re.IGNORECASE)


def states_time(question: str, text: str) -> bool:
    """Whether `text` holds a date or time that `question` does not already hold (for a
    question about what is to come, a report's weekday only in a sentence looking ahead)."""
    asked = question.lower()
    # A lower-case "may" or "march" is a verb ("Brittney may have used it"), not a month.
    times = {t.lower() for t in _TIME.findall(text) if t.lower() not in asked and t not in _VERB_MONTHS}
    if _ASKS_AHEAD.search(question) and not _LOOKS_AHEAD.search(text):
        times -= _LOOKING_BACK
    return bool(times)


# Months as a sentence prints them (capitalised); a question's "may" or "march" is a month only
# beside a day, a year or a preposition ("in may", "may 2022"), else a verb ("what may happen").
_MONTH = re.compile(rf"\b({'|'.join(name.title() for name in _MONTHS.split('|'))})\b")
_ASKED_MONTH = re.compile(rf"\b(?!may\b|march\b)({_MONTHS})\b|\b(?:in|of|on|since|by|until|for) (may|march)\b"
                          r"|\b(may|march) \d", re.IGNORECASE)


def _months(pattern: re.Pattern, text: str) -> set[str]:
    return {next(g for g in found.groups() if g).lower()[:3] for found in pattern.finditer(text)}


def tells_other_months(question: str, sentence: str) -> bool:
    """Whether `question` asks about a month ("the national median rent in August 2022") and
    `sentence` names months, none of them that one ("…in July"). A question that asks when
    ("feb 2022 inflation was the highest since when") is answered by another month."""
    asked = _months(_ASKED_MONTH, question)
    if not asked or asks_time(question) or "when" in words(question):
        return False
    told = _months(_MONTH, sentence)
    return bool(told) and told.isdisjoint(asked)


def asks_quantity(question: str) -> bool:
    """Whether `question` asks for a number. A quiz question's last sentence asks, the ones
    before tell its story: "Approximately 1 billion people had their personal data leaked…
    Where did the massive data leak occur?" asks where."""
    spans = sentence_spans(question)
    asked = question[spans[-1][0]: spans[-1][1]] if spans else question
    return (_ASKS_QUANTITY.search(asked) is not None or asks_deaths(asked) or asks_crowd(asked)
            or asks_temperature(asked))


_ASKS_COUNT = re.compile(r"\bhow many\b", re.IGNORECASE)
_PERCENT = re.compile(r"\d[\d,.]*\s?(?:%|percent\b|per cent\b|percentage points?\b)", re.IGNORECASE)
_MONEY = re.compile(rf"(?:{_AMOUNT.pattern})(?:\s?(?:million|billion|trillion|thousand|bn|m|k)\b)?", re.IGNORECASE)


def asks_count(question: str) -> bool:
    return _ASKS_COUNT.search(question) is not None or asks_deaths(question) or asks_crowd(question)


# Numbers that count nothing: a rank ("their 10th win"), a score or a range ("2-1", "aged
# 18-60", "2021-2022"), a time of day ("5:26 p.m."), a label ("Game 6", "Category 4", "on
# October 18": a capitalised word before the number, not a sentence's first, as in "About 500").
_NO_COUNT = re.compile(r"(?i:\b\d+(?:st|nd|rd|th)\b|\b\d+\s?[-–/]\s?\d+\b"
                       r"|\b\d{1,2}(?::\d\d)?\s?(?:a\.m|p\.m|am|pm)\b)|(?<=[a-z,] )[A-Z][a-z]+ \d+\b(?![-–/]\d)")
# A measure: "30 kilometers", "27 years after", "a 600-mile area", "the two-time champions"
# ("twenty-five" is a number); a count only when the question counts in that unit ("how
# many points …?": "the lone 100-point scorer").
_UNITS = (r"seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|kilomet(?:er|re)s?|km|miles?|feet|foot"
          r"|met(?:er|re)s?|inch(?:es)?|degrees?|mph|pounds?|kilograms?|kg|acres?|points?")
_MEASURE = re.compile(rf"\b(?:\d[\d,.]*|{_NUMBER_WORDS})(?:-(?!(?:{_NUMBER_WORDS})\b)(?P<word>[a-z]+)\b"
                      rf"|\s?(?:million |thousand )?(?P<unit>{_UNITS})\b)", re.IGNORECASE)


# "How many people died in the storm?" is answered with a number of deaths ("killing at least 22
# people", "the death toll rose to 98"), not with "the flooding displaced 30,000 people" (the
# issue's sealed-set example; natural-train unanswerable refused 102 -> 104 of 240, nothing lost
# on any set, bench/RESULTS.md, session 14).
_DEATH = r"(?:died|die|dies|dead|deaths?|killed|killing|kills|fatalities|lives|perished|death toll)"
_ASKS_DEATHS = re.compile(rf"\bhow many\b.*\b{_DEATH}\b|\bdeath toll\b", re.IGNORECASE)
_DEATH_WORD = re.compile(rf"\b{_DEATH}\b", re.IGNORECASE)


def asks_deaths(question: str) -> bool:
    return _ASKS_DEATHS.search(question) is not None


# "What was the attendance at Sue Bird's last home game?", "how many fans attended game 1": a
# crowd's size, told within a few words of the crowd ("a sellout crowd of 18,100", "87,192 fans").
_CROWD = r"(?:fans|crowds?|attendance|attended|attending|spectators|attendees|people|sellout|capacity|turnout)"
_ASKS_CROWD = re.compile(r"\battendance\b|\bhow many (?:fans|people|spectators|attendees)\b.*\b(?:attend\w*|came|come"
                         r"|showed up|turned out|were (?:in|at|there)|in the (?:building|stands|stadium|arena))\b",
                         re.IGNORECASE)
_CROWD_WORD = re.compile(rf"\b{_CROWD}\b", re.IGNORECASE)


def asks_crowd(question: str) -> bool:
    return _ASKS_CROWD.search(question) is not None


def _near(text: str, number: re.Match, pattern: re.Pattern, words_apart: int = 6) -> bool:
    """Whether `pattern` matches within `words_apart` words of `number` in `text`, in one clause."""
    before = re.split(r"[;:()]", text[: number.start()])[-1].split()[-words_apart:]
    after = re.split(r"[;:()]", text[number.end():])[0].split()[:words_apart]
    return pattern.search(" ".join(before + after)) is not None


# No count a reader can quote: a product code ("Lot # 27032K80"), or "dozens of acres" for
# "exactly how many acres…?", "Hundreds of Budweiser employees" for "how many days did the
# strike last?": a vague count is one only of what the question counts ("Tens of thousands of
# migrants" for "how many migrants crossed?"), and when it asks for no exact figure
# (`_without_vague_counts`; "approximately how many baby swings were recalled?" is answered by
# "Millions of baby swings…"); "hundreds or thousands of" too. natural-train: unanswerable
# refused 125 -> 129 of 240; natural-dev 34 -> 35 of 40 ("how many customers have signed up for
# epb's 25 gig internet" had been answered by "…(hundreds or thousands of streaming devices)");
# nothing lost on any set (bench/RESULTS.md, session 17).
_VAGUE = r"(?:dozens|hundreds|thousands|millions|billions|scores)"
_VAGUE_COUNT = re.compile(rf"\b{_VAGUE}(?:,? (?:or|and|if not|to) {_VAGUE},?)? of\b", re.IGNORECASE)
_ASKS_ROUGHLY = re.compile(r"\b(?:approximately|roughly|about|around|estimated|nearly|almost)\b", re.IGNORECASE)
_ASKS_EXACTLY = re.compile(r"\b(?:exact|exactly|precise|precisely)\b", re.IGNORECASE)
_CODE = re.compile(r"\b\w*\d[A-Za-z]+\d\w*\b|\b[A-Za-z]+\d+[A-Za-z]\w*\b")


def _without_vague_counts(question: str, text: str) -> str:
    """`text` with its vague counts blanked out, but for a question asking roughly, and those
    followed within four words by what the question counts (unless it asks exactly)."""
    if _ASKS_ROUGHLY.search(question):
        return text
    noun = None if _ASKS_EXACTLY.search(question) else counted_noun(question)

    def unless_counted(vague: re.Match) -> str:
        return vague.group(0) if noun and _counts_next(noun, text, vague.end()) else " "

    return _VAGUE_COUNT.sub(unless_counted, text)


def states_count(question: str, sentence: str) -> bool:
    """Whether `sentence` holds a number that `question` does not already hold and that counts
    something: not a sum of money, a percentage, a rank, a score, a time, a label or a measure
    in a unit the question does not count in. What "how many …?" is answered with; for "how
    many died?", a number told of deaths (within a few words of one, in the same clause), and
    for "what was the attendance?", one told of the crowd (natural-train: 3 more of 240
    unanswerable refused, "…nine points, six assists and four rebounds" among the answers
    they had; nothing lost on any set; bench/RESULTS.md, session 15)."""
    asked = set(terms(question))

    def unless_asked(measure: re.Match) -> str:
        unit = terms(measure.group("word") or measure.group("unit"))
        return measure.group(0) if unit and unit[0] in asked else " "

    counts = _NO_COUNT.sub(" ", _MEASURE.sub(unless_asked, _PERCENT.sub(" ", _MONEY.sub(" ", sentence))))
    counts = _without_vague_counts(question, _CODE.sub(" ", counts))
    told_of = _DEATH_WORD if asks_deaths(question) else _CROWD_WORD if asks_crowd(question) else None
    if told_of is not None:
        question_text = question.lower()
        return any(found.group(0).lower() not in question_text and _near(counts, found, told_of)
                   for found in _NUMBER.finditer(counts))
    return states_number(question, counts)


# What a "how many …?" question counts: the words after "how many" up to its verb.
_COUNTED = re.compile(r"\bhow many\s+((?:[\w’'-]+\s+){0,4}?)"
                      r"(?:did|do|does|have|has|had|were|was|are|is|could|can|will|would|should|might|must)\b"
                      r"|\bhow many\s+([\w’'-]+)", re.IGNORECASE)
# A number that says how many ("187", "two"), not a vague plural ("millions of borrowers").
_EXACT_NUMBER = re.compile(rf"\d(?:[\d,.]*\d)?|\b(?:{_NUMBER_WORDS})\b(?<!s)", re.IGNORECASE)


def counted_noun(question: str) -> str | None:
    """What a "how many …?" question counts, as it prints it: the word before its verb ("how
    many positive monkeypox cases are …" → cases; "how many ports of entry were shut?" →
    ports), else the word after "how many"; None for any other question."""
    found = _COUNTED.search(question)
    if found is None:
        return None
    phrase = (found.group(1) or found.group(2) or "").lower().split()
    if "of" in phrase[1:]:
        phrase = phrase[: phrase.index("of", 1)]
    return phrase[-1] if phrase else None


def counts_asked(question: str, sentence: str) -> bool:
    """Whether `sentence` counts what `question` counts: a number the question does not hold,
    then at most three words of the same clause, then the counted noun as the question prints
    it ("for 187 minutes", "more than 6,600 probable or confirmed cases"; not "10,000 Russian
    soldiers" for "how many Russians…")."""
    noun = counted_noun(question)
    if noun is None:
        return False
    held = {found.group(0).lower() for found in _NUMBER.finditer(question)}
    return any(number.group(0).lower() not in held and _counts_next(noun, sentence, number.end())
               for number in _EXACT_NUMBER.finditer(sentence))


def _counts_next(noun: str, text: str, end: int) -> bool:
    """Whether `noun` is among the four words after `text[:end]` (a number), in the same clause:
    "187 minutes", "6,600 probable or confirmed cases"."""
    return noun in re.split(r"[;:(),.]\s", text[end:] + " ")[0].lower().split()[:4]


# "What percent of the vote did Hageman get?" is answered with a percentage or a fraction
# ("62.1%", "about two-thirds", "one in five"), not with "North Carolina's 11th District".
_FRACTION = re.compile(rf"\b(?:half|halves|thirds?|quarters?|fifths?|tenths?"
                       rf"|(?:\d+|{_NUMBER_WORDS}) (?:in|out of) (?:every )?(?:\d+|{_NUMBER_WORDS}))\b", re.IGNORECASE)


def asks_percentage(question: str) -> bool:
    return _ASKS_PERCENTAGE.search(question) is not None


def states_percentage(question: str, sentence: str) -> bool:
    """Whether `sentence` holds a percentage or a fraction that `question` does not already hold."""
    return _states_new(_PERCENT, question, sentence) or _states_new(_FRACTION, question, sentence)


# "How old …?" is answered with an age ("41-year-old", "aged 67", "dies at 89", "Staal, 37,",
# "in his 80s") or an age in years ("lived 31,000 years ago"), not "100 million light-years
# from Earth" nor "One case is a toddler".
_AGE_NUMBER = rf"(?:\d{{1,3}}|{_NUMBER_WORDS})"
_AGE = re.compile(rf"\b{_AGE_NUMBER}[-\s]years?[-\s]old\b|\baged? (?:of )?{_AGE_NUMBER}\b|\bat {_AGE_NUMBER}\b"
                  rf"|\b(?:his|her|their|early|mid|late)[-\s]\d0s\b|(?<=[A-Za-z]), \d{{1,3}},"
                  rf"|\b(?:\d[\d,.]*|{_NUMBER_WORDS})\s?(?:million |billion |thousand )?years?\b", re.IGNORECASE)


def asks_age(question: str) -> bool:
    return _ASKS_AGE.search(question) is not None


def states_age(question: str, sentence: str) -> bool:
    """Whether `sentence` holds an age that `question` does not already hold."""
    return _states_new(_AGE, question, sentence)


# "How hot did the UK get?", "what's the temperature of the exoplanet?": answered in degrees
# ("40 degrees", "123°F"), not with "more than 10,000 times fainter" or "More than 30 million
# people are under heat alerts" (natural-train: unanswerable refused 131 -> 133 of 240; the
# three answerable temperature questions of both natural sets keep their answers).
_ASKS_TEMPERATURE = re.compile(r"\b(?:temperatures?|temps?|how (?:hot|cold|warm))\b", re.IGNORECASE)
_TEMPERATURE = re.compile(r"\d[\d,.]*\s?(?:°|º|degrees?\b)", re.IGNORECASE)


def asks_temperature(question: str) -> bool:
    return _ASKS_TEMPERATURE.search(question) is not None


def states_quantity(question: str, sentence: str) -> bool:
    """Whether `sentence` holds the number a quantity question asks for: a percentage for
    "what percent", an age for "how old", a temperature for "how hot", a count for "how
    many", else any number the question does not already hold."""
    if asks_percentage(question):
        return states_percentage(question, sentence)
    if asks_age(question):
        return states_age(question, sentence)
    if asks_temperature(question) and not asks_count(question):  # "how many temps did it hire?" counts
        return _states_new(_TEMPERATURE, question, sentence)
    return (states_count if asks_count(question) else states_number)(question, sentence)


# "one" that counts nothing: a pronoun ("…compared to the previous one"), a compound
# ("one-upping itself"), a member of a group ("one of the biggest…"). natural-train: "how many
# products does walmart have on rollback?" had passed for answered by "…more products on
# rollbacks last quarter compared to the previous one" (unanswerable refused 124 -> 125 of 240;
# nothing else changed outcome on any set).
_NOT_ONE = re.compile(rf"\b(?:the|this|that|each|every|no|any|another|which|previous|other|same|next|last|only"
                      rf"|new|latest|first) one\b|\bone-(?!(?:{_NUMBER_WORDS}|{_UNITS})\b)[a-z]+"
                      rf"|\bone of (?:the|its|his|her|their|our|my|a|an)\b", re.IGNORECASE)


def states_number(question: str, sentence: str) -> bool:
    """Whether `sentence` holds a number that `question` does not already hold."""
    return _states_new(_NUMBER, question, _NOT_ONE.sub(" ", sentence))


_ASKS_WHO = re.compile(r"^\W*(?:who|whom|whose)\b|\bwho(?:'s|’s| is| was| are| were| did| will| does)\b"
                       r"|\bwhat(?:'s|’s|s| is| was)? (?:the )?name\b", re.IGNORECASE)
# Capitalised words in a row, small particles between them allowed: "Andrés Manuel López
# Obrador", "Toll Brothers", "Gov. Gavin Newsom".
_NAME_RUN = re.compile(r"[A-Z][\w’'.&-]*(?:\s+(?:(?:of|de|da|la|van|von|bin|al)\s+)?[A-Z][\w’'.&-]*)*")
_CALENDAR = frozenset(_DAY_NAMES + _MONTH_NAMES)
_ASKS_WHERE = re.compile(r"^\W*where\b|\bwhere(?:'s|’s| is| was| are| were| did| does| do| will| can)\b",
                         re.IGNORECASE)
# A capitalised run after a preposition of place: "in Des Plaines", "at the Rogers Centre".
_PLACE = re.compile(r"\b(?:in|at|near|outside|inside|off|across|from|to)\s+((?:the\s+)?[A-Z][\w’'.&-]*"
                    r"(?:\s+(?:of\s+)?[A-Z][\w’'.&-]*)*)")


def asks_who(question: str) -> bool:
    return _ASKS_WHO.search(question) is not None


# "Who did Petro name as finance minister?", "who has Newsom appointed…": answered by a sentence
# telling of a choice ("named", "picked", "nominated", "his successor"), not by one about the
# chooser. "appointment" is left out: "…will be the appointment of Italy's next finance minister"
# names nobody.
_ASKS_PICK = re.compile(r"^\W*whom? (?:did|has|have|will)\b.*\b(?:pick(?:ed)?|named?|appoint(?:ed)?|choose|chosen"
                        r"|nominated?|tap(?:ped)?|select(?:ed)?|hired?)\b", re.IGNORECASE)
_PICKED = re.compile(r"\b(?:pick(?:s|ed|ing)?|nam(?:e|es|ed|ing)|appoint(?:s|ed|ing)?|chose|chosen|choos(?:e|es|ing)"
                     r"|choice|nominat\w*|tap(?:s|ped|ping)?|select(?:s|ed|ing)?|hir(?:e|es|ed|ing)|successor"
                     r"|replac\w*)\b", re.IGNORECASE)


# "Who did NASA name the telescope after?" asks for a namesake, not a choice.
_NAMESAKE = re.compile(r"\b(?:after|for)\W*$", re.IGNORECASE)


def asks_pick(question: str) -> bool:
    return _ASKS_PICK.search(question) is not None and _NAMESAKE.search(question) is None


def tells_pick(sentence: str) -> bool:
    return _PICKED.search(sentence) is not None


# "Where was Madeleine Albright buried?", "where was the funeral held": answered by a sentence
# telling of the burial or the rite, not by one about the life or the death.
_ASKS_BURIAL = re.compile(r"\b(?:buried|burial|funeral|laid to rest|interred)\b", re.IGNORECASE)
_BURIAL = re.compile(r"\b(?:buri\w*|funeral|laid to rest|interred|memorial|chapel|cemetery|grave|tomb|vault|service)\b",
                     re.IGNORECASE)


def asks_burial(question: str) -> bool:
    return _ASKS_BURIAL.search(question) is not None


def tells_burial(sentence: str) -> bool:
    return _BURIAL.search(sentence) is not None


# "What was the score of …?", "final score …": a score is two numbers ("7-0", "6-3, 6-4", "92 to
# 59"); "who scored" asks for a name.
_ASKS_SCORE = re.compile(r"\b(?:final score|score of|what was the score|what's the score|what is the score)\b",
                         re.IGNORECASE)
_SCORE = re.compile(r"\b\d+\s?[-–]\s?\d+\b|\b\d+ to \d+\b")


def asks_score(question: str) -> bool:
    return _ASKS_SCORE.search(question) is not None


def states_score(sentence: str) -> bool:
    return _SCORE.search(sentence) is not None


# "Which hospital treated the patient?", "what arena hosted game 2?": answered by a sentence
# naming one, as names print it ("Ball Arena", "Nyack Hospital", "the University of Florida");
# a hospital may be a medical center. Not "which prison" or "which court" (a court's sentence, a
# prison term), nor "which school" (of thought), whose nouns are as often no place.
_ASKS_FACILITY = re.compile(r"\b(?:which|what) (?:[\w’'-]+ )?(hospital|arena|stadium|airport|university|college|hotel"
                            r"|museum|park)s?\b", re.IGNORECASE)
_FACILITY_NAMES = {"hospital": r"Hospital|Medical Center|Medical Centre|Health|Clinic"}


def asked_facility(question: str) -> str | None:
    """The kind of place a "which hospital …?" question asks for ("hospital"), or None."""
    found = _ASKS_FACILITY.search(question)
    return found.group(1).lower() if found else None


def names_facility(kind: str, sentence: str) -> bool:
    """Whether `sentence` names a place of `kind`: the kind's word capitalised, as in a name."""
    return re.search(rf"\b(?:{_FACILITY_NAMES.get(kind, kind.title())})s?\b", sentence) is not None


# A story's dateline: "London (CNN)", "New York (CNN Business)", "WASHINGTON –". It names where
# the story was filed and who filed it, never what a sentence tells.
_DATELINE = re.compile(r"^\W*(?:[A-Z][\w.’'-]*,?\s+)*\([A-Z][\w ]{0,20}\)\s*[—–-]?\s*"
                       r"|^\W*[A-Z][A-Z.’' ]{1,40}[A-Z.](?:,\s*[A-Z][\w.]*)?\s*[—–-]\s*")


def without_dateline(sentence: str) -> str:
    """`sentence` without the dateline it opens with, if any ("London (CNN) The planet…" ->
    "The planet…"): the place and the outlet answer no "who" or "what" question."""
    return _DATELINE.sub("", sentence, count=1)


def names_someone_new(question: str, sentence: str) -> bool:
    """Whether `sentence` prints a name whose last word `question` does not hold: "Warren
    Buffett" is no new name for a question about Buffett, "Gov. Gavin Newsom" is one for a
    question about California. Days and months are no one's name, nor is a dateline."""
    return _any_new(question, _NAME_RUN.findall(without_dateline(sentence)))


def asks_where(question: str) -> bool:
    return _ASKS_WHERE.search(question) is not None


def names_somewhere_new(question: str, sentence: str) -> bool:
    """Whether `sentence` puts something in or at a named place the question does not name:
    "…a Speedway gas station and convenience store in Des Plaines, Illinois" for "where was
    the winning ticket bought?"; not "…died after being shot while campaigning" (no place),
    nor "in Nara" for a question that names Nara. A capitalised run after a preposition of
    place, not a place name proper: no dependency to load, and a named entity recogniser
    (spaCy's small English model) found one more right answer in 1,030 (bench/RESULTS.md)."""
    return _any_new(question, _PLACE.findall(sentence))


# "What did Biden and the Mexican president agree on?": a "what" question whose verb ends it
# (a particle may follow) asks for that verb's object, and the sentence telling it holds the
# verb ("The two leaders agreed that…"), where the sentences about the same people need not
# ("…spoke Thursday by phone"). The subject is at most six words, so that a longer question's
# last word is taken for no verb.
_ASKS_VERB = re.compile(r"^\W*what (?:did|do|does|will|would|can|could|should|has|have|had)"
                        r" (?P<subject>\S+(?: \S+){0,5}?) (?:be )?(?P<verb>[a-z]+)"
                        r"(?: (?:on|about|to|with|for|over|in|at|of|from|like|into|against|up|out))?\W*$",
                        re.IGNORECASE)


def verb_and_subject(question: str) -> tuple[str, str] | None:
    """The verb that ends a "what did X … ?" question and its subject ("agree", "the leaders"),
    or None. "What did X die of?" is left to the death-cause rule: any sentence telling the
    death holds "died"."""
    asked = _ASKS_VERB.match(question.strip())
    if asked is None or asked.group("verb").lower() in STOPWORDS or asks_death_cause(question):
        return None
    return asked.group("verb").lower(), asked.group("subject")


def asked_verb(question: str) -> str | None:
    """The verb that ends a "what did X … ?" question ("agree"), or None."""
    asked = verb_and_subject(question)
    return asked[0] if asked else None


def verb_forms(verb: str) -> frozenset[str]:
    """The inflected forms of `verb` ("agrees", "agreed", "agreeing"), without the bare word,
    which is as often a noun ("what did Kirby say about the ports" ends in "ports", which no
    sentence inflects). A participle the question already inflects ("charged") is kept."""
    if verb.endswith("ed"):
        return frozenset({verb})
    stems = {verb, verb[:-1]} if verb.endswith("e") else {verb, verb + verb[-1]}
    if verb.endswith("y"):
        stems.add(verb[:-1] + "i")
    return frozenset(stem + end for stem in stems for end in ("s", "es", "ed", "d", "ing")) - {verb}


def tells_asked_verb(question: str, sentence: str) -> bool:
    """Whether `sentence` holds an inflection of the verb that ends `question` (`asked_verb`)."""
    verb = asked_verb(question)
    return verb is not None and holds_any(verb_forms(verb), sentence)


def holds_any(forms: frozenset[str], sentence: str) -> bool:
    return not forms.isdisjoint(words(sentence))


# Names listed after a preposition: "…rail crossings in Eagle Pass and El Paso", "…the Baltic
# countries of Estonia, Latvia, and Lithuania". After a preposition, so that two people doing
# something ("Biden and Mexico President Andrés Manuel López Obrador spoke…") are no list; not
# after "like", which compares in passing ("…which rivals like Facebook and Instagram offer":
# the first sentence of two dev answers until it was left out, nothing else moved).
_ONE_NAME = r"[A-Z][\w’'.&-]*(?:\s+[A-Z][\w’'.&-]*)*"
_NAME_LIST = re.compile(rf"\b(?:in|at|of|near|from|to|across|including|such as|between)\s+(?:the\s+)?"
                        rf"{_ONE_NAME}(?:,\s+{_ONE_NAME})*,?\s+(?:and|or)\s+{_ONE_NAME}")


def lists_new_names(question: str, sentence: str) -> bool:
    """Whether `sentence` lists names (`_NAME_LIST`) one of which `question` does not hold:
    what a "which ports of entry were affected" question asks for, where a sentence sharing
    its words ("…so that key ports of entry can be reopened") names none."""
    return any(_any_new(question, _NAME_RUN.findall(found)) for found in _NAME_LIST.findall(sentence))


def _any_new(question: str, names: Sequence[str]) -> bool:
    asked = set(words(question)) | STOPWORDS
    for name in names:
        named = [w for w in words(name) if w not in STOPWORDS and w not in _CALENDAR]
        if named and named[-1] not in asked:
            return True
    return False


# Words by which a report says it does not know who: "An anonymous bidder paid $19 million".
_UNNAMED = re.compile(r"\b(?:anonymous(?:ly)?|unnamed|unidentified|undisclosed)\b", re.IGNORECASE)


# Words by which a report says it does not know, or was not told: "Toyota did not know why…",
# "it remains unclear", "the company declined to say", "figures were not released".
_NOT_KNOWN = re.compile(r"\b(?:(?:did|does|do) not (?:yet )?know|(?:is|was|remains|remained|it's|it is|it was) "
                        r"(?:still )?(?:unclear|unknown|not (?:yet )?(?:known|clear))"
                        r"|declined to (?:say|name|disclose|reveal|comment)"
                        r"|(?:did|would) not (?:say|disclose|reveal|name)"
                        r"|(?:were|was) not (?:disclosed|released|revealed))\b", re.IGNORECASE)


def says_not_known(sentence: str) -> bool:
    """Whether `sentence` says that what it is about is not known or was not told."""
    return _NOT_KNOWN.search(sentence) is not None


def leaves_unnamed(question: str, sentence: str) -> bool:
    """Whether `sentence`, asked "who", says the person is anonymous or unnamed and names
    nobody new: the archive does not say who ("who was the anonymous bidder?")."""
    return asks_who(question) and _UNNAMED.search(sentence) is not None and not names_someone_new(question, sentence)


def answer_test(question: str) -> Callable[[str], bool]:
    """Whether a sentence holds the kind of thing `question` asks for that the question does
    not already name: a number for a quantity question, else a name or a number.

    The commonest wrong pick is a sentence that restates the question ("Netflix said the
    popular show is green lit for a second season") instead of answering it ("“Squid Game”
    is officially coming back"); such a sentence adds no new name or number.
    """
    wants_quantity = asks_quantity(question)
    asked = set(words(question)) | STOPWORDS

    def offers(sentence: str) -> bool:
        if states_number(question, sentence):
            return True
        return not wants_quantity and any(w not in asked for name in _NAME.findall(without_dateline(sentence))
                                         for w in words(name))

    return offers
