"""The quality benchmark: does Newsdesk find the right article, answer right, and abstain?

    .venv/bin/python -m bench.quality --quick        # two weeks of the dev set: the inner loop
    .venv/bin/python -m bench.quality                # the whole dev set (reuses its cached index)
    .venv/bin/python -m bench.quality --sweep-abstention --json
    .venv/bin/python -m bench.quality --llm          # answers by the LLM that LLM_* configure

It reads a dataset in the format of ../shared/eval/realtimeqa-dev/ by path (nothing of it
is copied into the repository), indexes its articles through the project's own code into
bench/.cache/<dataset>-v<INDEX_VERSION>-<model>-<chunk_size>-<chunk_overlap> (kept between
runs: re-running only embeds what is missing, and a change to chunking, the model or what
is embedded changes the key), asks every question as of its `question_date`, and prints one
table: our pipeline next to BM25 alone and dense alone over the same chunks.

Definitions, so the numbers can be checked by hand:
- hit@k / MRR@10 over distinct articles: a search's chunks are reduced to their articles in
  order of first appearance; a hit when one of the question's gold articles is in the first k.
- exact option: the answer contains the gold option's text and none of the three wrong
  options' (case, curly/straight quotes and whitespace normalised, surrounding quotes of
  an option dropped, matched on word boundaries so "12" does not match "2012" or "12.6").
- cited right: at least one citation is to a gold article.
- wrong citations: citations whose quote (each " … "-separated piece) is not verbatim in
  the cited article's text as the dataset has it. Must be 0.
- abstention: a copy of the index without every question's gold articles (their chunks
  deleted through the store, nothing re-embedded); every question is asked again there.
  Other articles often still hold the answer, so that pass also counts the answers that
  are still right and those that are not ("answers without the option"). A third pass
  takes the answer out of the archive: each question is asked with its gold articles and
  every article holding its right option's text left out (see `Without`), where abstaining
  is always right.
- baselines: "BM25 alone" is bm25s (retrieval.lexical.LexicalIndex) over the same chunk
  texts with their titles; "dense alone" is a plain langchain-chroma `similarity_search`
  on the same collection, as in LangChain's RAG tutorial. Both are shown as-is and with the
  same as-of date filter our pipeline applies. Their "exact option" is a naive answer: the
  sentence of their top chunk that shares most words with the question.

The benchmark's parts, one module each: bench/dataset.py (the questions and articles),
bench/metrics.py (the definitions above, as plain functions), bench/index_cache.py (the
settings measured and their cached index), bench/passes.py (the asks), bench/report.py (the
figures and tables); this module is the command line.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Optional

import typer

from bench import natural
from bench.console import err
from bench.dataset import (DEFAULT_DATASET, QUICK_WEEKS, load_article_records, load_questions, natural_questions,
                           quick_subset, write_jsonl)
from bench.index_cache import CACHE_DIR, bench_settings, build_index, cache_key, exclusive
from bench.metrics import answer_left_corpus, naive_answer, option_holders
from bench.passes import ask_all, bm25_baseline, ingest_throughput, no_option_pass, removed_gold_pass
from bench.report import figures_of, print_natural, print_natural_sweep, print_sweep, print_table
from retrieval.config import RetrievalSettings

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def main(
    dataset: Annotated[Path, typer.Argument(help="A folder with articles.jsonl.gz and questions.jsonl.")] = DEFAULT_DATASET,
    quick: Annotated[bool, typer.Option("--quick", help=f"Only the first {QUICK_WEEKS} weeks of questions "
                                                         "and the articles dated around them.")] = False,
    weeks: Annotated[Optional[int], typer.Option("--weeks", min=1, help="Like --quick, with this many weeks.")] = None,
    sweep_abstention: Annotated[bool, typer.Option("--sweep-abstention",
                                                   help="Also print the abstention threshold trade-off.")] = False,
    ingest_chunks: Annotated[int, typer.Option("--ingest-chunks", min=0,
                                               help="Chunks for the ingest-throughput figure (0 skips it).")] = 200,
    no_baselines: Annotated[bool, typer.Option("--no-baselines", help="Skip the BM25 and dense baselines.")] = False,
    details: Annotated[Optional[Path], typer.Option(
        "--details", dir_okay=False, help="Write one JSON line per question here (keep it outside the repo).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON instead of tables.")] = False,
    natural_set: Annotated[Optional[Path], typer.Option(
        "--natural", help="A natural-question set (questions.jsonl over the same articles); 'none' skips it.")
    ] = natural.NATURAL_DEV,
    llm: Annotated[bool, typer.Option("--llm", help="Answer with the LLM that LLM_PROVIDER, LLM_MODEL, … (environment "
                                                    "or .env) configure. Without it the offline default is measured, "
                                                    "whatever .env says.")] = False,
) -> None:
    """Benchmark retrieval, answers and abstention on a RealTimeQA-format dataset."""
    from retrieval.service import build_newsdesk

    dataset = dataset.resolve()
    if natural_set is not None and (natural_set.name == "none" or not (natural_set / "questions.jsonl").is_file()):
        if natural_set.name != "none":
            err.print(f"[yellow]no natural-question pass:[/] {natural_set}/questions.jsonl not found")
        natural_set = None
    if not (dataset / "questions.jsonl").is_file() or not (dataset / "articles.jsonl.gz").is_file():
        raise typer.BadParameter(f"{dataset} needs questions.jsonl and articles.jsonl.gz")
    questions, records = load_questions(dataset), load_article_records(dataset)
    weeks = weeks or (QUICK_WEEKS if quick else None)
    name = dataset.name
    if weeks:
        questions, records = quick_subset(questions, records, weeks)
        name = f"{name}-{weeks}w"
    texts = {r["id"]: r["text"] for r in records}

    base = bench_settings(RetrievalSettings(), llm)
    key = cache_key(name, base)
    settings = base.model_copy(update={"newsdesk_data_dir": CACHE_DIR / key, "chroma_host": None})
    desk = build_newsdesk(settings)
    err.print(f"index cache: {settings.data_dir}")
    with exclusive(CACHE_DIR / f"{key}.lock"), tempfile.TemporaryDirectory(prefix="newsdesk-bench-") as tmp:
        source = dataset / "articles.jsonl.gz" if not weeks else write_jsonl(records, Path(tmp) / f"{name}.jsonl.gz")
        with err.status("indexing (only what the cache lacks)…"):
            index_meta = build_index(desk, source, CACHE_DIR / f"{key}.json")
        desk.search("warm up the model and the BM25 index")  # neither load counts as ask latency

        ingest = None
        if ingest_chunks:
            with err.status(f"measuring ingest throughput on ~{ingest_chunks} chunks…"):
                ingest = ingest_throughput(desk, settings, records, ingest_chunks)
        lexical = None
        if not no_baselines:
            with err.status("building the BM25 baseline…"):
                lexical = bm25_baseline(desk)
        load = [os.getloadavg()[0]]  # latency is only comparable on an otherwise idle machine
        outcomes = ask_all(desk, questions, texts, lexical, "asking")
        removed_chunks = removed_gold_pass(desk, settings, questions, texts, outcomes)
        holders = option_holders(questions, records)
        no_option_pass(desk, outcomes, holders, texts)
        left = answer_left_corpus(questions, records, holders)
        for o in outcomes:
            o.answer_left_corpus = left[o.question.id]
        chat = natural_questions(natural_set, records) if natural_set else []
        with err.status("natural questions") as status:
            chat_outcomes = natural.ask_natural(desk, chat, lexical, naive_answer, status)
        load.append(os.getloadavg()[0])

    figures = figures_of(outcomes, index_meta, ingest, removed_chunks, desk, dataset, weeks, sweep_abstention,
                         load, chat_outcomes)
    if details:
        with details.open("w", encoding="utf-8") as fh:
            for o in outcomes:
                fh.write(json.dumps({
                    "question_id": o.question.id, "question": o.question.text, "answer_option": o.question.answer,
                    "ranks": o.ranks, "cited_right": o.cited_right, "latency_ms": round(o.latency_ms, 1),
                    "answer_left_corpus": o.answer_left_corpus, "asked": asdict(o.asked),
                    "gold_removed": asdict(o.gold_removed), "no_option": asdict(o.no_option),
                }, ensure_ascii=False) + "\n")
            for o in chat_outcomes:
                fh.write(json.dumps({
                    "natural_id": o.question.id, "question": o.question.text, "kind": o.question.kind,
                    "answerable": o.question.answerable, "answer": o.answer, "abstained": o.abstained,
                    "because": o.because, "correct": o.correct, "cites_gold": o.cites_gold,
                    "signals": o.signals, "latency_ms": round(o.latency_ms, 1),
                }, ensure_ascii=False) + "\n")
    if as_json:
        print(json.dumps(figures, indent=2))
        return
    print_table(figures)
    if figures["natural"]:
        print_natural(figures["natural"])
    if "abstention_sweep" in figures:
        print_sweep(figures["abstention_sweep"], figures["abstention"]["min_evidence"])
        if "natural_sweep" in figures:
            print_natural_sweep(figures["natural_sweep"], figures["abstention"]["min_evidence"])
    elif sweep_abstention:
        err.print("[yellow]no abstention sweep:[/] it replays the offline composer's rule, and an LLM answered")


if __name__ == "__main__":
    app()
