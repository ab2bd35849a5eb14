"""Answers and summaries written by an LLM, verified before they are shown.

`LLMComposer` wraps the offline `Composer` and has its `compose(question, passages,
history=...)`: the LLM writes from the same retrieved passages, `verify.py` keeps only the
sentences the cited passages support, and whenever the LLM is unavailable (timeout, error,
unreachable) or too little of its answer survives, the offline composer's quoted answer is
returned instead, with a short note. Nothing unverified is ever returned or streamed:
partial texts handed to `on_text` are the sentences verified so far.

Summaries are map-reduce within a token budget: passages are grouped into calls of at most
`map_tokens`; each call's bullets are verified, then one more call merges them, and the
merged bullets are verified against the passages again. One group needs one call.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .answers import ABSTAIN_NO_ANSWER, Composer, ComposerOptions, abstention, closest, is_older
from .errors import LLMUnavailableError
from .llm import (
    SUMMARY_SYSTEM,
    UNAVAILABLE_NOTE,
    answer_messages,
    approx_tokens,
    chat_model,
    generate,
    passages_block,
    reduce_messages,
    summary_messages,
)
from .models import Answer, Passage, Summary
from .question import in_context
from .verify import Checked, Evidence, StreamVerifier, Verified, Verifier, render

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel

    from .config import RetrievalSettings

log = logging.getLogger(__name__)

UNVERIFIED_NOTE = "LLM answer could not be checked against the articles, showing quoted passages"


@dataclass(frozen=True)
class LLMOptions:
    # Fewer of the LLM's sentences than this share supported: the answer is not trusted at all.
    min_kept_share: float = 0.5
    # Ask the LLM only when the offline composer would not abstain (its calibrated
    # similarity gate): an LLM shown weak passages tends to answer from them anyway.
    gate_on_similarity: bool = True
    summary_points: int = 6
    map_tokens: int = 2000  # passage text in one summary call
    budget_tokens: int = 8000  # all calls of one summary: prompts and replies
    map_workers: int = 3


def plan_batches(passages: Sequence[Passage], *, map_tokens: int, budget_tokens: int,
                 reply_tokens: int) -> list[dict[int, Passage]]:
    """Passages numbered from 1 in the order given, grouped into calls of at most
    `map_tokens` of passage text, as many as the budget pays for: every call costs its
    prompt and a full reply, and more than one call needs a final reduce call whose prompt
    holds up to a reply's worth of notes per call."""
    overhead = approx_tokens(SUMMARY_SYSTEM) + 100
    batches: list[dict[int, Passage]] = []
    sizes: list[int] = []

    def cost(sizes: list[int]) -> int:
        calls = sum(overhead + s + reply_tokens for s in sizes)
        if len(sizes) > 1:
            calls += overhead + reply_tokens * len(sizes) + reply_tokens
        return calls

    for n, passage in enumerate(passages, start=1):
        size = approx_tokens(passages_block({n: passage}))
        if batches and sizes[-1] + size <= map_tokens:
            trial = sizes[:-1] + [sizes[-1] + size]
            if cost(trial) > budget_tokens:
                break
            batches[-1][n] = passage
            sizes = trial
        else:
            if cost(sizes + [size]) > budget_tokens:
                break
            batches.append({n: passage})
            sizes.append(size)
    return batches


class LLMComposer:
    """Answers written by an LLM from the retrieved passages, verified before they are
    shown; the offline composer's answer when the LLM is unavailable or unverifiable
    (a retrieval.composer.AnswerComposer)."""

    writes = True

    def __init__(self, offline: Composer, model: BaseChatModel, *, timeout_s: float, reply_tokens: int = 600,
                 verifier: Verifier | None = None, options: LLMOptions | None = None,
                 today: Callable[[], dt.date] = dt.date.today, label: str = "the LLM"):
        self.offline = offline
        self.model = model
        self.timeout_s = timeout_s
        self.reply_tokens = reply_tokens
        self.verifier = verifier or Verifier(offline.embeddings)
        self.llm_options = options or LLMOptions()
        self.today = today
        self.label = label

    @classmethod
    def from_settings(cls, settings: RetrievalSettings, offline: Composer, **kwargs) -> LLMComposer:
        label = f"LLM {settings.llm_provider}:{settings.llm_model}"
        if settings.llm_base_url:
            label += f" at {settings.llm_base_url}"
        return cls(offline, chat_model(settings), timeout_s=settings.llm_timeout_s,
                   reply_tokens=settings.llm_max_tokens, label=label, **kwargs)

    @property
    def options(self) -> ComposerOptions:
        return self.offline.options

    @property
    def embeddings(self) -> Embeddings:
        return self.offline.embeddings

    # -- answers ---------------------------------------------------------------------------
    def compose(self, question: str, passages: Sequence[Passage], *, history: Sequence[str] = (),
                as_of: dt.date | None = None, recent_since: dt.date | None = None,
                on_text: Callable[[str], None] | None = None) -> Answer:
        """A verified LLM answer to `question` from `passages` (best first).

        `history` holds the thread's earlier questions, shown to the LLM as such;
        `as_of` the date the question is asked as of (default today). With `on_text`, the
        reply is streamed and `on_text(verified text so far)` is called, in this thread,
        each time another sentence has been checked.
        """
        passages = list(passages)
        considered = passages[: self.offline.options.passages_considered]

        def quoted() -> Answer:
            return self.offline.compose(question, passages, history=history, recent_since=recent_since)

        if not considered or (self.llm_options.gate_on_similarity and closest(considered) < self.offline.options.min_similarity):
            return quoted()
        if all(is_older(p, recent_since) for p in considered):
            # A question about recent news, and only older articles: the quoted composer
            # says so; an LLM would tend to answer from the old news.
            return quoted()

        messages = answer_messages(question, considered, as_of or self.today(), earlier=" ".join(history))
        with ThreadPoolExecutor(1, thread_name_prefix="newsdesk-evidence") as pool:
            # Embed the passages' sentences while the provider thinks.
            pending = pool.submit(self.verifier.evidence, considered, in_context(question, history))
            stream: list[StreamVerifier] = []

            def on_part(text: str) -> None:
                if not stream:
                    stream.append(StreamVerifier(self.verifier, pending.result()))
                shown = stream[0].feed(text)
                if shown:
                    on_text(shown)

            try:
                text = generate(self.model, messages, timeout_s=self.timeout_s,
                                on_part=on_part if on_text else None)
            except LLMUnavailableError as exc:
                log.warning("%s unavailable, answering with quotes: %s", self.label, exc)
                return replace(quoted(), note=UNAVAILABLE_NOTE)
            verified = stream[0].finish(text) if stream else self.verifier.verify(text, pending.result())

        if verified.abstained:
            return abstention(question, passages, ABSTAIN_NO_ANSWER)  # the LLM said it does not know
        if not self._enough(verified, "answer"):
            return replace(quoted(), note=UNVERIFIED_NOTE)
        return Answer(question=question, text=verified.text, abstained=False, citations=list(verified.citations),
                      passages=passages)

    # -- summaries -------------------------------------------------------------------------
    def summarize(self, fallback: Summary, passages: Sequence[Passage]) -> Summary:
        """An LLM summary of `passages` on `fallback.subject`, verified like answers;
        `fallback` (the offline summary) when the LLM is unavailable or unverifiable."""
        opts = self.llm_options
        batches = plan_batches(passages, map_tokens=opts.map_tokens, budget_tokens=opts.budget_tokens,
                               reply_tokens=self.reply_tokens)
        if not batches:
            return fallback
        numbered = {n: p for batch in batches for n, p in batch.items()}
        if len(numbered) < len(passages):
            log.info("summary of %r: %d of %d passages fit the %d-token budget", fallback.subject,
                     len(numbered), len(passages), opts.budget_tokens)
        evidence = self.verifier.evidence(numbered, fallback.subject)
        try:
            if len(batches) == 1:
                text = generate(self.model, summary_messages(fallback.subject, numbered, opts.summary_points),
                                timeout_s=self.timeout_s)
                verified = self.verifier.verify(text, evidence)
            else:
                verified = self._map_reduce(fallback.subject, batches, evidence)
        except LLMUnavailableError as exc:
            log.warning("%s unavailable, summarizing with quotes: %s", self.label, exc)
            return fallback
        if not self._enough(verified, "summary"):
            return fallback
        points = list(verified.sentences)
        return Summary(kind=fallback.kind, subject=fallback.subject, text="\n".join(f"- {p}" for p in points),
                       citations=list(verified.citations), points=points)

    def _map_reduce(self, subject: str, batches: list[dict[int, Passage]], evidence: Evidence) -> Verified:
        points = self.llm_options.summary_points

        def one(batch: dict[int, Passage]) -> list[Checked]:
            text = generate(self.model, summary_messages(subject, batch, points), timeout_s=self.timeout_s)
            return list(self.verifier.verify(text, evidence.subset(batch)).checked)

        with ThreadPoolExecutor(self.llm_options.map_workers, thread_name_prefix="newsdesk-map") as pool:
            mapped = list(pool.map(one, batches))  # an unavailable LLM in any call: no summary
        kept = [[c for c in checked if c.kept] for checked in mapped]
        notes = [f"{c.claim.text} " + "".join(f"[{s.number}]" for s in c.kept) for group in kept for c in group]
        if not notes:
            return Verified((), (), tuple(c for group in mapped for c in group))
        try:
            text = generate(self.model, reduce_messages(subject, notes, points), timeout_s=self.timeout_s)
            merged = self.verifier.verify(text, evidence)
            if merged.kept and merged.kept >= self.llm_options.min_kept_share * len(merged.checked):
                return merged
            log.info("summary of %r: the merged bullets failed verification; using the verified notes", subject)
        except LLMUnavailableError as exc:
            log.warning("%s unavailable for the last summary step, using the verified notes: %s", self.label, exc)
        # The notes were verified already: take them round-robin across the calls, keep call order.
        chosen: list[tuple[int, int, Checked]] = []
        depth = 0
        while len(chosen) < points and any(depth < len(g) for g in kept):
            for i, group in enumerate(kept):
                if depth < len(group) and len(chosen) < points:
                    chosen.append((i, depth, group[depth]))
            depth += 1
        ordered = [c for _, _, c in sorted(chosen, key=lambda t: (t[0], t[1]))]
        sentences, citations = render(ordered, evidence.passages)
        return Verified(tuple(sentences), tuple(citations), tuple(ordered))

    def _enough(self, verified: Verified, what: str) -> bool:
        total = len(verified.checked)
        for item in verified.dropped:
            log.info("%s: dropped %r (%s)", what, item.claim.text, item.reason)
        if verified.kept and verified.kept >= self.llm_options.min_kept_share * total:
            return True
        log.warning("%s from %s failed verification (%d of %d sentences supported); showing quotes",
                    what, self.label, verified.kept, total)
        return False
