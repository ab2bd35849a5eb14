"""What a question must be, and how it is normalised: the one place for both.

`check_question` is applied once per request, by whichever entry point sees the text first
(the Discord cog before it defers, the terminal, the facade for direct callers); it returns
a `Question`, which later checks pass through unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .errors import QuestionError
from .lexical import terms

MAX_QUESTION_CHARS = 500
# A question quoting the archive ('Which article says: "…"?') may be longer: two sentences of
# an article are over 500 characters for 5 of 205 drawn at random (bench.attribution).
MAX_QUOTING_CHARS = 1500

# What a question quotes: from an opening quote mark to the closing one that ends the question
# (the excerpt may itself quote someone), or from an opening mark to the next closing one. Not
# from a closing mark to an opening one: "Jeremiah “Jerry” Harris, a lead personality on the
# Netflix show “Cheer,” was sentenced…" quotes two names, not what lies between them.
_QUOTED_WHOLE = re.compile(r'["“«](.{40,})["”»]\W*$', re.DOTALL)
_QUOTED = re.compile(r'["“«]([^"“”«»]{40,})["”»]')
_OPENING_MARKS = frozenset('"“«')


class Question(str):
    """A question that passed `check_question`: whitespace collapsed, within the limits."""


def collapse(text: str) -> str:
    """Runs of whitespace made one space, ends stripped: the form a question is kept in."""
    return " ".join((text or "").split())


def check_question(question: str) -> Question:
    """The question, collapsed; a QuestionError with a helpful message when it cannot be asked."""
    if isinstance(question, Question):
        return question
    text = collapse(question)
    if not text:
        raise QuestionError("Please ask a question, e.g. “which border crossings closed?”")
    if len(text) > MAX_QUESTION_CHARS:
        # Quotes are read only within the longer limit: reading them takes time quadratic in the
        # length of a text full of quote marks (1.9 s for 20,000 characters).
        if len(text) > MAX_QUOTING_CHARS or not quoted_spans(text):
            quoting = len(text) > MAX_QUOTING_CHARS and _OPENING_MARKS.intersection(text)
            limit = MAX_QUOTING_CHARS if quoting else MAX_QUESTION_CHARS
            raise QuestionError(f"That question is {len(text)} characters long; please keep it under {limit}.")
    if not any(ch.isalnum() for ch in text):
        raise QuestionError("That question has no words in it; please ask in words, e.g. “who won the election?”")
    return Question(text)


def quoted_spans(question: str) -> list[str]:
    """What the question quotes, of at least 40 characters, in the order to try: everything from
    its first quote mark to the one that ends it, since an excerpt may quote someone itself
    ('"…the black sun, "a pagan symbol…," Ritzmann said."'), then its longest span between an
    opening and a closing mark; [] when it quotes nothing that long."""
    spans = [found.group(1) for found in [_QUOTED_WHOLE.search(question)] if found]
    spans += sorted(_QUOTED.findall(question), key=len, reverse=True)[:1]
    return list(dict.fromkeys(spans))


def question_key(question: str) -> str:
    """The key under which repeated questions are counted together (case and end punctuation aside)."""
    return collapse(question).lower().rstrip(" ?!.")


def in_context(question: str, history: Sequence[str]) -> str:
    """What retrieval reads for a follow-up: the thread's earlier questions, then this one."""
    return " ".join([*history, question])


# A question that points back ("what did he say?", "when did that happen?", "and the
# ports?") or says too little to stand alone ("why?", "how so?").
_STARTS_FROM_BEFORE = re.compile(r"^\W*(?:and|but|so|also|what about|how about)\b", re.IGNORECASE)
_POINTS_BACK = re.compile(r"\b(?:he|she|him|his|her|hers|they|them|their|theirs|it|its|that|this|those|these|there"
                          r"|then)\b", re.IGNORECASE)
_QUESTION_WORDS = re.compile(r"\b(?:who|whom|whose|what|which|when|where|why|how|many|much|did|does|do|is|are|was"
                             r"|were|so|else|about|exactly|again)\b", re.IGNORECASE)
# With more words of its own than this, a question that says "they" or "that" stands alone
# ("where did they find owami davies", "who bought that record mickey mantle card").
FOLLOW_UP_MAX_WORDS = 2


def reads_as_follow_up(question: str) -> bool:
    """Whether `question` leans on the questions before it in its thread.

    A thread's earlier questions help a follow-up find its story, but they drown a question that
    stands on its own: "Which crossings closed?" asked after "Who did Biden speak with?" was
    refused when read with it, and answered when read alone."""
    own = terms(_POINTS_BACK.sub(" ", _QUESTION_WORDS.sub(" ", question)))
    if _STARTS_FROM_BEFORE.search(question) or not own:
        return True
    return bool(_POINTS_BACK.search(question)) and len(own) <= FOLLOW_UP_MAX_WORDS


# "Tell me about the border", "what's going on with the strike?", "any news on Artemis?",
# "border news": a request for an overview of a topic, not for one fact.
_OVERVIEW = re.compile(
    r"^\W*(?:(?:and|but|so|also|ok|okay)\W+)?(?:(?:can you |could you |please )?tell me (?:more )?about|what do you know about|what can you tell me about"
    r"|(?:give me )?(?:a |an )?(?:summary|overview|rundown|recap) (?:of|on)|summari[sz]e"
    r"|what(?:'s|’s|s| is)? (?:happening|going on|new|the latest|the news|the story) (?:with|at|in|on|about)"
    r"|what happened (?:at|with|in|on)|(?:any |the )?(?:latest )?(?:news|updates?) (?:on|about|from|regarding|with)"
    r")\s+(?P<topic>.+?)\W*$"
    r"|^\W*(?P<bare>[\w'’ -]+?) (?:news|updates?)\W*$", re.IGNORECASE)


_NO_TOPIC = frozenset({"any", "good", "bad", "big", "breaking", "latest", "the", "more", "some", "other", "local",
                       "fake", "the latest", "any other"})


def overview_topic(question: str) -> str | None:
    """The topic a question asks for an overview of ("the border" in "what's going on at the
    border?"), or None for a question after a fact."""
    match = _OVERVIEW.search(question)
    if match is None:
        return None
    topic = (match.group("topic") or match.group("bare")).strip()
    if match.group("bare") and (len(topic.split()) > 4 or _QUESTION_WORDS.search(topic)):
        return None  # "who beat Serena after her retirement news": a question about a fact
    return None if topic.lower() in _NO_TOPIC or not any(ch.isalnum() for ch in topic) else topic


# "Who is John Kirby?", "who's Liz Sherwood Randall", "what is Space for Humanity?": a request to
# introduce someone or something the archive names. Its subject starts with no article or
# pronoun ("who is the NASA administrator" asks for a name, not an introduction).
_INTRODUCTION = re.compile(r"^\W*(?:who|what)(?:'s|’s|s| is| was| are| were)\s+(?P<subject>[^?!.,;:]+?)\W*$",
                           re.IGNORECASE)
_NOT_A_NAME = re.compile(r"^(?:the|a|an|this|that|these|those|his|her|its|their|our|my|your|it|he|she|they|going"
                         r"|happening|new|next|up|in|on|at|with|about|behind|after|before|so)\b", re.IGNORECASE)
# "nasa's launch director", "hosting the VMAs": a description of whom to name, not a name
_DESCRIBED = re.compile(r"['’]s\b|^\w+ing (?:the|a|an|to|for|on|in|at|with|this|that|his|her|their)\b",
                        re.IGNORECASE)
INTRODUCTION_MAX_WORDS = 5


def _named(match: re.Match | None, group: str) -> str | None:
    if match is None:
        return None
    subject = match.group(group).strip()
    if (_NOT_A_NAME.search(subject) or _DESCRIBED.search(subject)
            or len(subject.split()) > INTRODUCTION_MAX_WORDS):
        return None
    return subject


def introduction_subject(question: str) -> str | None:
    """Who or what a "who is X?" question asks to have introduced ("John Kirby"), or None. Whether
    X is a name is left to the archive: it must print it as one (see answers.introduction)."""
    return _named(_INTRODUCTION.search(question), "subject")


# "What did Kirby say?", "what has Blinken said", "what did Kirby say about the ports?": what
# someone said, on no one topic or on the one named.
_SAID = re.compile(r"^\W*what (?:else )?(?:did|does|has|have) (?P<speaker>[^?!.,;:]+?) (?:say|said|tell|told|announce"
                   r"|announced|claim|claimed|write|wrote|tweet|tweeted|post|posted)"
                   r"(?:\s+(?:about|on|of|regarding)\s+(?P<topic>[^?!]+?))?\W*$", re.IGNORECASE)


def speech_asked(question: str) -> tuple[str, str] | None:
    """Whose words a "what did X say?" question asks for, and on what topic ("" for none):
    ("Kirby", "the ports"), or None; like `introduction_subject`, X must be printed as a name
    in the archive (answers.attributed)."""
    said = _SAID.search(question)
    speaker = _named(said, "speaker")
    return None if speaker is None else (speaker, said.group("topic") or "")

