"""Checking an LLM's text against the passages it cites, before anyone sees it.

The offline composer only ever quotes, so it cannot say what no article says; an LLM writes
its own sentences and can. So every sentence an LLM writes is a *claim* that must name, with
``[n]`` markers, passages it was actually given, and must be supported by each passage it
keeps as a citation:

- **meaning**: the cosine similarity between the claim and the closest sentence (or pair of
  adjacent sentences) of the passage reaches ``min_similarity``;
- **words**: of the claim's content words that the question did not already supply (the
  new facts the claim adds), at least ``min_coverage`` occur in the passage;
- **numbers and names**: every number, and every capitalised word not opening a sentence
  (names of people, places, days, months), that the question did not supply occurs in the
  passage (or its title, source or date).

Claims citing no passage, or only passages that were not given, or that no cited passage
supports, are dropped; the survivors are renumbered densely by first appearance and each
citation quotes, verbatim, the passage sentences that support the claim. Thresholds were
calibrated on the RealTimeQA dev set with ``bench/support.py`` (figures in its docstring).

Sentences of a passage that address a language model ("ignore previous instructions…") are
never evidence: an article cannot vouch for what it tells the model to say.
"""

from __future__ import annotations

import calendar
import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from langchain_core.embeddings import Embeddings

from .lexical import STOPWORDS, terms, words
from .models import Citation, Passage
from .sentences import sentence_spans

_NUMBERS = r"\d+(?:\s*[,;]\s*\d+)*"
MARKER = re.compile(rf"\[\s*({_NUMBERS})\s*\]")
_LEADING_MARKERS = re.compile(rf"^(?:\s*\[\s*{_NUMBERS}\s*\])+")
_GLUED_MARKER = re.compile(r"([.!?][\"'”’)]*)(\[\s*\d)")  # "fell.[2] Then" -> "fell. [2] Then"
_BULLET = re.compile(r"^[ \t]*(?:[-*•]|\d{1,2}[.)])[ \t]+", re.M)
_EMPHASIS = re.compile(r"\*\*|__|`")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])")
_ABSTAIN = re.compile(r"^\W*i\s+(?:do\s+not|don['’]t)\s+know\b", re.I)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CAPITALISED = re.compile(r"(?<![\w'’])[A-Z][A-Za-z'’-]+")
# Full month names, and "Sept.", so that "December" and "Dec." meet as "dec" (`_month_short`).
_MONTHS = {name.lower() for name in calendar.month_name if name} | {"sept"}
# Text that speaks to a language model rather than to a reader.
INSTRUCTION_LIKE = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.\n]{0,60}\b(?:instructions?|prompts?|rules|directions)\b"
    r"|\b(?:system prompt|language model|AI (?:assistant|model)|as an AI|chatbot)\b"
    r"|\byou (?:must|should|will) (?:now |instead )?(?:say|answer|reply|respond|tell|write|state)\b"
    r"|(?:^|>)\W*(?:system|assistant|developer)\s*:",
    re.I,
)


@dataclass(frozen=True)
class Claim:
    """One sentence of an LLM's text, its markers removed, with the passage numbers it cites."""

    text: str
    cited: tuple[int, ...]


def _numbers_in(marker_body: str) -> list[int]:
    return [int(n) for n in re.split(r"\s*[,;]\s*", marker_body.strip())]


def split_claims(text: str) -> list[Claim]:
    """The sentences of `text` with their citations, in order.

    Markers may sit before the full stop ("fell [2].") or after it ("fell. [2]"): a run of
    markers opening a sentence belongs to the sentence before it. List bullets and Markdown
    emphasis are dropped.
    """
    text = _EMPHASIS.sub("", _BULLET.sub("", text))
    text = _GLUED_MARKER.sub(r"\1 \2", text)
    claims: list[Claim] = []
    for start, end in sentence_spans(text):
        piece = text[start:end]
        lead = _LEADING_MARKERS.match(piece)
        if lead:
            if claims:
                extra = [n for m in MARKER.finditer(lead.group()) for n in _numbers_in(m.group(1))]
                last = claims[-1]
                claims[-1] = Claim(last.text, tuple(dict.fromkeys([*last.cited, *extra])))
            piece = piece[lead.end():]
        cited = [n for m in MARKER.finditer(piece) for n in _numbers_in(m.group(1))]
        body = _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(MARKER.sub(" ", piece).split()))
        if body.strip(" .,;:!?"):
            claims.append(Claim(body, tuple(dict.fromkeys(cited))))
    return claims


def is_abstention(text: str) -> bool:
    """Whether the LLM said it does not know (and cited nothing)."""
    return bool(_ABSTAIN.match(text)) and not MARKER.search(text)


def _number_set(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}


def _month_short(word: str) -> str:
    return word[:3] if word in _MONTHS else word


def names_in(text: str) -> set[str]:
    """Lower-cased words of the capitalised words that do not open a sentence: names of
    people, places, organisations, days and months ("December" and "Dec." alike)."""
    found = set()
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        for match in _CAPITALISED.finditer(sentence):
            if not any(ch.isalnum() for ch in sentence[:match.start()]):
                continue  # the sentence's first word is capitalised anyway
            found |= {_month_short(w) for w in words(match.group()) if w not in STOPWORDS}
    return found


def _word_pool(text: str) -> set[str]:
    pool = set(words(text))
    return pool | {_month_short(w) for w in pool}


@dataclass(frozen=True)
class SupportOptions:
    # Calibrated on the RealTimeQA dev set by bench/support.py (figures in its docstring): with
    # these, 98 % of true claims are kept; 97 % of invented answers and 77 % of citations of
    # a topical distractor are dropped (most distractors that pass do state the fact).
    min_similarity: float = 0.45
    min_coverage: float = 0.5
    check_numbers: bool = True
    check_names: bool = True
    min_unit_chars: int = 15  # shorter sentences ("Netflix", a dateline) are not quotable evidence


@dataclass(frozen=True)
class Unit:
    """A sentence, or two adjacent sentences, of a passage: `passage.text[start:end] == text`."""

    start: int
    end: int
    text: str


def passage_units(text: str, min_chars: int) -> list[Unit]:
    """Sentences of a passage that can be evidence, then each adjacent pair of them."""
    spans = [(i, s, e) for i, (s, e) in enumerate(sentence_spans(text))
             if e - s >= min_chars and not INSTRUCTION_LIKE.search(text[s:e])]
    singles = [Unit(s, e, text[s:e]) for _, s, e in spans]
    pairs = [Unit(s1, e2, text[s1:e2]) for (i1, s1, _), (i2, _, e2) in zip(spans, spans[1:]) if i2 == i1 + 1]
    return singles + pairs


def evidence_text(text: str) -> str:
    """A passage without the sentences that address a language model."""
    return "\n".join(text[s:e] for s, e in sentence_spans(text) if not INSTRUCTION_LIKE.search(text[s:e]))


@dataclass(frozen=True)
class Support:
    """How well passage `number` supports a claim, and the verbatim text that does."""

    number: int
    similarity: float
    coverage: float
    numbers_found: bool
    names_found: bool
    quote: str
    start: int  # offsets of `quote` in the article
    end: int
    supported: bool


@dataclass(frozen=True)
class Checked:
    """A claim and the verdict on each passage it cites."""

    claim: Claim
    supports: tuple[Support, ...]  # for the cited passages that were given, in citation order
    missing: tuple[int, ...]  # cited numbers that name no given passage

    @property
    def kept(self) -> tuple[Support, ...]:
        return tuple(s for s in self.supports if s.supported)

    @property
    def reason(self) -> str:
        """Why the claim was dropped; "" when it is kept."""
        if self.kept:
            return ""
        if not self.claim.cited:
            return "cites no passage"
        if not self.supports:
            return "cites passages that were not given: " + ", ".join(f"[{n}]" for n in self.missing)
        return "not supported by " + ", ".join(f"[{s.number}]" for s in self.supports)


@dataclass(frozen=True)
class Verified:
    """An LLM text after checking: the kept sentences, renumbered, and their sources."""

    sentences: tuple[str, ...]
    citations: tuple[Citation, ...]
    checked: tuple[Checked, ...] = ()
    abstained: bool = False

    @property
    def text(self) -> str:
        return " ".join(self.sentences)

    @property
    def kept(self) -> int:
        return sum(1 for c in self.checked if c.kept)

    @property
    def dropped(self) -> list[Checked]:
        return [c for c in self.checked if not c.kept]


class Evidence:
    """The passages an LLM was given, by the numbers it saw, with their sentences embedded once."""

    def __init__(self, passages: Mapping[int, Passage], question: str, embeddings: Embeddings,
                 options: SupportOptions):
        self.passages = dict(passages)
        self.question_terms = frozenset(terms(question))
        self.question_numbers = frozenset(_number_set(question))
        self.question_words = frozenset(_word_pool(question))
        self.options = options
        self.units = {n: passage_units(p.text, options.min_unit_chars) for n, p in self.passages.items()}
        said = {n: evidence_text(p.text) for n, p in self.passages.items()}
        self.terms = {n: frozenset(terms(f"{p.title}\n{said[n]}")) for n, p in self.passages.items()}
        self.numbers = {n: _number_set(f"{p.title}\n{p.date}\n{said[n]}") for n, p in self.passages.items()}
        self.names = {n: _word_pool(f"{p.title}\n{p.source}\n{p.date}\n{said[n]}") for n, p in self.passages.items()}
        flat = [u.text for n in self.passages for u in self.units[n]]
        vectors = np.asarray(embeddings.embed_documents(flat)) if flat else np.zeros((0, 1))
        self.vectors: dict[int, np.ndarray] = {}
        at = 0
        for n in self.passages:
            self.vectors[n] = vectors[at:at + len(self.units[n])]
            at += len(self.units[n])

    def subset(self, numbers) -> Evidence:
        """Only the passages with these numbers (nothing re-embedded): what one call was shown."""
        keep = set(numbers)
        other = copy.copy(self)
        for name in ("passages", "units", "terms", "numbers", "names", "vectors"):
            setattr(other, name, {n: v for n, v in getattr(self, name).items() if n in keep})
        return other

    def support(self, claim_text: str, claim_vector: np.ndarray, number: int) -> Support:
        passage = self.passages[number]
        units = self.units[number]
        if units:
            similarities = self.vectors[number] @ claim_vector
            best = int(np.argmax(similarities))
            similarity, unit = float(similarities[best]), units[best]
        else:
            similarity, unit = 0.0, Unit(0, 0, "")
        novel = set(terms(claim_text)) - self.question_terms
        coverage = len(novel & self.terms[number]) / len(novel) if novel else 1.0
        numbers_found = _number_set(claim_text) - self.question_numbers <= self.numbers[number]
        names_found = names_in(claim_text) - self.question_words <= self.names[number]
        opts = self.options
        supported = (bool(units) and similarity >= opts.min_similarity and coverage >= opts.min_coverage
                     and (numbers_found or not opts.check_numbers) and (names_found or not opts.check_names))
        return Support(number, similarity, coverage, numbers_found, names_found, unit.text,
                       passage.start + unit.start, passage.start + unit.end, supported)


def ensure_full_stop(text: str) -> str:
    return text if re.search(r"[.!?…][\"'”’)]*$", text) else text + "."


def render(checked: Sequence[Checked], passages: Mapping[int, Passage]) -> tuple[list[str], list[Citation]]:
    """Kept claims with dense [n] markers (one number per article, by first appearance),
    and one citation per article quoting the supporting sentences verbatim."""
    numbers: dict[str, int] = {}
    quotes: dict[str, list[tuple[int, str]]] = {}
    first: dict[str, Passage] = {}
    sentences = []
    seen_claims: set[str] = set()
    for item in checked:
        if not item.kept or item.claim.text in seen_claims:
            continue
        seen_claims.add(item.claim.text)
        marks = []
        for support in item.kept:
            passage = passages[support.number]
            doc = passage.doc_id
            if doc not in numbers:
                numbers[doc] = len(numbers) + 1
                first[doc] = passage
                quotes[doc] = []
            if all(support.start != s for s, _ in quotes[doc]):
                quotes[doc].append((support.start, support.quote))
            if numbers[doc] not in marks:
                marks.append(numbers[doc])
        sentences.append(ensure_full_stop(item.claim.text) + " " + "".join(f"[{n}]" for n in sorted(marks)))
    citations = [Citation.of(n, first[doc], _merge_quotes(quotes[doc])) for doc, n in numbers.items()]
    return sentences, citations


def _merge_quotes(quotes: list[tuple[int, str]]) -> list[str]:
    """Quotes in article order, a quote inside another (a sentence of a kept pair) left out."""
    ordered = sorted(quotes)
    spans = [(s, s + len(q), q) for s, q in ordered]
    return [q for s, e, q in spans if not any(s2 <= s and e <= e2 and (s2, e2) != (s, e) for s2, e2, _ in spans)]


class Verifier:
    """Checks LLM texts against their passages with an embedding model and word overlap."""

    def __init__(self, embeddings: Embeddings, options: SupportOptions | None = None):
        self.embeddings = embeddings
        self.options = options or SupportOptions()

    def evidence(self, passages: Sequence[Passage] | Mapping[int, Passage], question: str) -> Evidence:
        """Evidence for passages numbered [1]..[n] in order (or by the given numbers)."""
        numbered = passages if isinstance(passages, Mapping) else dict(enumerate(passages, start=1))
        return Evidence(numbered, question, self.embeddings, self.options)

    def check(self, claims: Sequence[Claim], evidence: Evidence) -> list[Checked]:
        cited = [c for c in claims if any(n in evidence.passages for n in c.cited)]
        vectors = np.asarray(self.embeddings.embed_documents([c.text for c in cited])) if cited else []
        vector_of = {id(c): v for c, v in zip(cited, vectors)}
        checked = []
        for claim in claims:
            given = [n for n in claim.cited if n in evidence.passages]
            missing = tuple(n for n in claim.cited if n not in evidence.passages)
            supports = tuple(evidence.support(claim.text, vector_of[id(claim)], n) for n in given)
            checked.append(Checked(claim, supports, missing))
        return checked

    def verify(self, text: str, evidence: Evidence, *, cache: CheckCache | None = None) -> Verified:
        """The verified form of an LLM's whole text."""
        if is_abstention(text):
            return Verified((), (), (), abstained=True)
        checked = (cache or CheckCache(self, evidence)).check(split_claims(text))
        sentences, citations = render(checked, evidence.passages)
        return Verified(tuple(sentences), tuple(citations), tuple(checked))


@dataclass
class CheckCache:
    """Checks claims once each, so a streamed text can be re-verified as it grows."""

    verifier: Verifier
    evidence: Evidence
    _done: dict[Claim, Checked] = field(default_factory=dict)

    def check(self, claims: Sequence[Claim]) -> list[Checked]:
        fresh = [c for c in dict.fromkeys(claims) if c not in self._done]
        for item in self.verifier.check(fresh, self.evidence):
            self._done[item.claim] = item
        return [self._done[c] for c in claims]


class StreamVerifier:
    """Verified text of a growing LLM output: only sentences already finished and checked.

    `feed` takes the whole text so far and returns the verified rendering when it grew,
    else None. The last sentence of an unfinished text is held back: its markers may still
    be on their way.
    """

    def __init__(self, verifier: Verifier, evidence: Evidence):
        self.verifier = verifier
        self.evidence = evidence
        self.cache = CheckCache(verifier, evidence)
        self._shown = ""

    def feed(self, text: str) -> str | None:
        claims = split_claims(text)[:-1]
        if not claims:
            return None
        sentences, _ = render(self.cache.check(claims), self.evidence.passages)
        shown = " ".join(sentences)
        if not shown or shown == self._shown:
            return None
        self._shown = shown
        return shown

    def finish(self, text: str) -> Verified:
        return self.verifier.verify(text, self.evidence, cache=self.cache)
