"""What the facade needs of a composer: the one interface both composers implement.

`retrieval.answers.Composer` quotes article sentences (offline, the default);
`retrieval.llm_composer.LLMComposer` has an LLM write from the same passages and verifies
what it wrote. `build_newsdesk` picks one from the settings; nothing else chooses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .answers import ComposerOptions
    from .models import Answer, Passage, Summary


@runtime_checkable
class AnswerComposer(Protocol):
    label: str  # how reports and logs name it ("offline quotes", "LLM openai:gpt-4o-mini at …")
    # Whether it writes its own summaries; False: the offline extractive summary is final,
    # and the material for `summarize` need not even be read.
    writes: bool

    @property
    def options(self) -> ComposerOptions: ...

    def compose(self, question: str, passages: Sequence[Passage], *, history: Sequence[str] = (),
                as_of: dt.date | None = None, recent_since: dt.date | None = None,
                on_text: Callable[[str], None] | None = None) -> Answer:
        """An answer to `question` from `passages` (best first). `history` holds the thread's
        earlier questions (already cut to the setting's length); `as_of` is the day it is asked
        as of; `recent_since` is set when it asks about news since that date ("this week");
        `on_text(verified text so far)` is called as a written answer streams."""

    def summarize(self, summary: Summary, passages: Sequence[Passage]) -> Summary:
        """A summary of `passages` on `summary.subject`; `summary` (the offline one) is the fallback."""
