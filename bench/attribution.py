"""Which article says this? The attribution test, on the dev archive.

    .venv/bin/python -m bench.attribution                  # 200 excerpts of two sentences
    .venv/bin/python -m bench.attribution --excerpts 60 --sentences 1 --show 5

The Tow Center's 2025 study of AI search tools asked them for the source of a verbatim
excerpt of a news article, and they named it wrongly for over 60% of excerpts. Newsdesk is
asked the same, over bench.quality's cached index of the RealTimeQA dev articles (run
`python -m bench.quality` once first): for articles drawn at random (seeded), a run of
consecutive sentences from a random place in the article, as `Which article says: "…"?`.
Right when the first citation is that article, or another one whose quoted sentences print the
whole excerpt (a syndicated copy: the index folds copies into their original). Printed: right,
refused (and why), cited elsewhere, and the excerpts it got wrong.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Annotated

import typer

from bench.console import out
from bench.dataset import DEFAULT_DATASET, load_article_records
from bench.index_cache import cached_index_settings
from retrieval.answers import plain
from retrieval.question import MAX_QUOTING_CHARS
from retrieval.sentences import is_page_furniture, sentence_spans

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
ASKED = 'Which article says: "{}"?'


def excerpt_of(text: str, sentences: int, rng: random.Random) -> str | None:
    """`sentences` consecutive prose sentences from a random place in `text`, or None when the
    article has too few (page furniture and sentences under 25 characters are no prose)."""
    spans = [(s, e) for s, e in sentence_spans(text) if e - s >= 25 and not is_page_furniture(text[s:e])]
    runs = [i for i in range(len(spans) - sentences + 1)
            if all(spans[j + 1][0] - spans[j][1] <= 3 for j in range(i, i + sentences - 1))]
    if not runs:
        return None
    first = rng.choice(runs)
    return text[spans[first][0]: spans[first + sentences - 1][1]]


@app.command()
def main(excerpts: Annotated[int, typer.Option(min=1, help="articles to quote")] = 200,
         sentences: Annotated[int, typer.Option(min=1, help="consecutive sentences per excerpt")] = 2,
         seed: Annotated[int, typer.Option(help="which articles and places are drawn")] = 2025,
         show: Annotated[int, typer.Option(help="misses to print")] = 10) -> None:
    from retrieval.service import build_newsdesk

    desk = build_newsdesk(cached_index_settings(DEFAULT_DATASET.name))
    records = load_article_records(DEFAULT_DATASET)
    rng = random.Random(seed)
    drawn, too_long = [], 0
    for record in rng.sample(records, len(records)):
        excerpt = excerpt_of(record["text"], sentences, rng)
        if excerpt and len(ASKED.format(excerpt)) > MAX_QUOTING_CHARS:
            too_long += 1  # refused before any search, with a message saying why
        elif excerpt:
            drawn.append((record, excerpt))
        if len(drawn) == excerpts:
            break

    outcome: Counter = Counter()
    misses = []
    for record, excerpt in drawn:
        answer = desk.ask(ASKED.format(excerpt))
        first = answer.citations[0] if answer.citations else None
        if answer.abstained:
            kind = f"refused: {answer.abstained_because}"
        elif first.doc_id == record["id"] or plain(excerpt) in plain(first.quote.replace(" … ", " ")):
            # another article quoted printing the whole excerpt: a copy of the story
            kind = "right"
        else:
            kind = "cited another article"
        outcome[kind] += 1
        if kind != "right":
            misses.append((kind, record["id"], excerpt, first.doc_id if first else None))

    out.print(f"{len(drawn)} excerpts of {sentences} sentence(s), seed {seed} ({too_long} more drawn were too "
              f"long to ask: over {MAX_QUOTING_CHARS} characters):")
    for kind, n in outcome.most_common():
        out.print(f"  {kind}: {n} ({n / len(drawn):.1%})")
    for kind, doc_id, excerpt, cited in misses[:show]:
        out.print(f"  - {kind} ({doc_id}, cited {cited}): {excerpt[:160]!r}", highlight=False)


if __name__ == "__main__":
    app()
