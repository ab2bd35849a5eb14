"""How many articles of a dataset are syndicated copies (retrieval/dedup.py), at several thresholds.

    .venv/bin/python -m bench.dedup                                  # ../shared/eval/realtimeqa-dev
    .venv/bin/python -m bench.dedup /path/to/dataset --examples 5

Reads articles.jsonl.gz by path (nothing is copied into the repository), feeds the articles
to a CopyIndex in a temporary folder in file order, as `newsdesk index` would, and prints the
copies found, the stories they form, the exact Jaccard similarity of each copy with its
original (checked, not estimated) and, for the questions, how many have a gold article that
is a copy (folding then cites the original instead).
"""

from __future__ import annotations

import gzip
import json
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

from retrieval.dedup import CopyIndex, jaccard
from retrieval.ingest import parse_json_article

DEFAULT_DATASET = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "realtimeqa-dev"

app = typer.Typer(add_completion=False)


def read_articles(path: Path):
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if line.strip():
                yield parse_json_article(json.loads(line), origin=str(path), line=line_no, fallback_id=str(line_no))


@app.command()
def main(dataset: Annotated[Path, typer.Argument(help="A folder with articles.jsonl.gz.")] = DEFAULT_DATASET,
         thresholds: Annotated[str, typer.Option(help="Comma-separated Jaccard thresholds.")] = "0.5,0.6,0.7,0.8,0.9",
         examples: Annotated[int, typer.Option(help="Copies to show at the shipped threshold.")] = 3) -> None:
    articles = list(read_articles(dataset / "articles.jsonl.gz"))
    texts = {a.id: a for a in articles}
    print(f"{len(articles)} articles in {dataset}")
    gold: list[set[str]] = []
    questions = dataset / "questions.jsonl"
    if questions.is_file():
        for line in questions.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                ids = record.get("gold_doc_ids") or record.get("gold_ids") or record.get("doc_ids") or []
                gold.append({str(i) for i in (ids if isinstance(ids, list) else [ids])})
    for threshold in [float(t) for t in thresholds.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            index = CopyIndex.in_dir(Path(tmp), threshold=threshold)
            started = time.perf_counter()
            index.update(articles)
            seconds = time.perf_counter() - started
            copies = index.copies()
        stories = len(set(copies.values()))
        exact = sorted(jaccard(texts[c].text, texts[o].text) for c, o in copies.items())
        low = f", exact Jaccard min {exact[0]:.2f} median {exact[len(exact) // 2]:.2f}" if exact else ""
        line = (f"threshold {threshold:.2f}: {len(copies)} copies ({len(copies) / len(articles):.1%}) "
                f"of {stories} originals{low}; {seconds:.1f} s")
        if gold:
            touched = sum(1 for ids in gold if ids & set(copies))
            line += f"; questions with a gold article that is a copy: {touched}/{len(gold)}"
        print(line)
        if abs(threshold - 0.7) < 1e-9:
            for copy_id, original in list(copies.items())[:examples]:
                c, o = texts[copy_id], texts[original]
                print(f"  {copy_id} ({c.source}, {c.date}) copies {original} ({o.source}, {o.date}): "
                      f"{c.title!r} / {o.title!r}, exact Jaccard {jaccard(c.text, o.text):.2f}")


if __name__ == "__main__":
    app()
