"""The quality benchmark's report: the figures of one run (a dict, also printed as JSON)
and the tables printed from them."""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.table import Table

from bench import natural
from bench.console import out
from bench.metrics import SWEEP, abstains, percentile, retrieval_figures, sweep
from bench.passes import Outcome
from retrieval.llm import UNAVAILABLE_NOTE
from retrieval.llm_composer import UNVERIFIED_NOTE

BENCH_DIR = Path(__file__).resolve().parent
OFFLINE = "offline quotes"  # the composer of the default pipeline, as the report names it


SYSTEMS = [("ours", "ours"), ("bm25", "BM25 alone"), ("dense", "dense alone"),
           ("bm25_asof", "BM25 as-of"), ("dense_asof", "dense as-of")]


def figures_of(outcomes: list[Outcome], index_meta: dict, ingest: dict | None, removed_chunks: int,
               desk, dataset: Path, weeks: int | None, with_sweep: bool, load: list[float],
               chat: Sequence[natural.NaturalOutcome] = ()) -> dict:
    n = len(outcomes)
    systems = {key: retrieval_figures([o.ranks.get(key) for o in outcomes]) for key, _ in SYSTEMS
               if all(key in o.ranks for o in outcomes)}
    for key in systems:
        if key != "ours":
            systems[key]["naive_exact_option"] = sum(o.naive_exact[key] for o in outcomes) / n
    latencies = [o.latency_ms for o in outcomes] + [o.latency_ms for o in chat]
    options = desk.composer.options
    offline = not desk.composer.writes
    asks = [a for o in outcomes for a in o.passes]
    disagreements = 0 if not offline else sum(
        abstains(a.signals, options.min_evidence) != a.abstained for a in asks) + sum(
        abstains(o.signals, options.min_evidence) != o.abstained for o in chat)

    def share(asked: Callable[[Outcome], bool], among: Sequence[Outcome] = outcomes) -> float:
        return sum(map(asked, among)) / max(1, len(among))

    left = [o for o in outcomes if o.answer_left_corpus]
    figures = {
        "dataset": str(dataset), "mode": f"first {weeks} weeks" if weeks else "full", "questions": n,
        "articles_indexed": index_meta.get("articles"), "chunks_indexed": index_meta.get("chunks"),
        "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, {_cpu_name()}",
        "load_average_1min": [round(x, 2) for x in load],  # when the questions were asked, and at the end
        "code": code_state(),
        # Quoted answers (the offline default), or the LLM option's label ("LLM openai:model at URL").
        "composer": desk.composer.label,
        "retrieval": systems,
        "answers": {
            "exact_option": share(lambda o: o.asked.exact),
            "cited_right": share(lambda o: o.cited_right),
            "wrong_citations": sum(o.wrong_citations for o in outcomes),
        },
        "abstention": {
            "min_similarity": options.min_similarity,
            "min_evidence": options.min_evidence,
            "abstain_on_removed_gold": share(lambda o: o.gold_removed.abstained),
            "exact_option_on_removed_gold": share(lambda o: o.gold_removed.exact),
            # What a user would be misled by: an answer without the right option.
            "answer_without_option_on_removed_gold": share(lambda o: not o.gold_removed.abstained
                                                           and not o.gold_removed.exact),
            "stale_on_removed_gold": share(lambda o: o.gold_removed.stale),
            "answer_left_corpus_questions": len(left),
            "abstain_when_answer_left_corpus": share(lambda o: o.gold_removed.abstained, left),
            # The archive without the answer: every article holding the option left out.
            "abstain_no_option": share(lambda o: o.no_option.abstained),
            "stale_no_option": share(lambda o: o.no_option.stale),
            "wrongly_abstain_on_answerable": share(lambda o: o.asked.abstained),
            "stale_on_answerable": share(lambda o: o.asked.stale),
            "gold_chunks_removed": removed_chunks,
            # The sweep assumes the composer's rule: see `abstains`.
            "sweep_rule_disagreements": disagreements,
        },
        "llm_fallbacks": None if offline else llm_fallbacks(outcomes),
        "natural": ({**natural.natural_figures(chat), "by_kind": natural.by_kind(chat)} if chat else None),
        # Over both sets: RealTimeQA's long quiz questions and the natural set's short ones.
        "latency_ms": {"ask_p50": percentile(latencies, 50), "ask_p95": percentile(latencies, 95),
                       "asks": len(latencies)},
        "index": {"seconds": index_meta.get("index_seconds"), "chunks": index_meta.get("chunks"),
                  "note": index_meta.get("note", ""), "this_run_embedded": index_meta.get("this_run_embedded")},
        "ingest": ingest,
    }
    if with_sweep and offline:  # the replayed rule is the offline composer's
        figures["abstention_sweep"] = sweep([o.asked.signals for o in outcomes], [o.gold_removed.signals for o in outcomes],
                                            [o.no_option.signals for o in outcomes], [o.asked.exact for o in outcomes])
        if chat:
            figures["natural_sweep"] = natural_sweep(chat)
    return figures


def natural_sweep(chat: Sequence[natural.NaturalOutcome], thresholds: Sequence[float] = SWEEP) -> list[dict]:
    """The natural set's abstention curve: for each `min_evidence`, abstains on the
    unanswerable, wrongly abstains on the answerable, and correct."""
    answerable = [o for o in chat if o.question.answerable]
    unanswerable = [o for o in chat if not o.question.answerable]
    return [{
        "threshold": t,
        "abstains_unanswerable": sum(abstains(o.signals, t) for o in unanswerable)
        / max(1, len(unanswerable)),
        "wrongly_abstains": sum(abstains(o.signals, t) for o in answerable) / max(1, len(answerable)),
        "correct": sum(natural.holds(o.answer, o.question.must_include) and not o.abstained
                       and not abstains(o.signals, t) for o in answerable) / max(1, len(answerable)),
    } for t in thresholds]


def llm_fallbacks(outcomes: Sequence[Outcome]) -> dict[str, float]:
    """With the LLM option: the share of asks (all passes) answered with quotes instead,
    because the LLM was unavailable or its answer failed verification."""
    notes = [a.note for o in outcomes for a in o.passes]
    return {"unavailable": notes.count(UNAVAILABLE_NOTE) / max(1, len(notes)),
            "failed_verification": notes.count(UNVERIFIED_NOTE) / max(1, len(notes))}


def code_state() -> str:
    """The commit measured, and whether retrieval/ had uncommitted changes."""
    import subprocess

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=BENCH_DIR.parent, capture_output=True, text=True, check=True)
            return done.stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown commit"
    return commit + (" + uncommitted changes in retrieval/" if git("status", "--porcelain", "--", "retrieval") else "")


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def print_table(f: dict) -> None:
    shown = [(key, label) for key, label in SYSTEMS if key in f["retrieval"]]
    load = " → ".join(map(str, f["load_average_1min"]))
    table = Table(title=f"Newsdesk quality — {Path(f['dataset']).name} ({f['mode']}): {f['questions']} questions, "
                        f"{f['articles_indexed']} articles, {f['chunks_indexed']} chunks; answers: {f['composer']}",
                  caption=f"{f['code']}; {f['machine']}, load average {load}. Baselines' exact option: a naive "
                          "answer (the sentence of their top chunk sharing most words with the question). "
                          "'as-of': with our date filter.")
    table.add_column("metric", no_wrap=True)
    for _, label in shown:
        table.add_column(label, justify="right")
    blank = ["—"] * (len(shown) - 1)
    for metric in ("hit@1", "hit@5", "hit@10", "mrr@10"):
        table.add_row(f"retrieval {metric}", *[_pct(f["retrieval"][key][metric]) for key, _ in shown])
    a, ab, lat, idx, ing = f["answers"], f["abstention"], f["latency_ms"], f["index"], f["ingest"]
    table.add_row("exact option", _pct(a["exact_option"]),
                  *[_pct(f["retrieval"][key].get("naive_exact_option")) for key, _ in shown[1:]])
    table.add_row("cited right (≥1 gold citation)", _pct(a["cited_right"]), *blank)
    table.add_row("wrong citations, all passes (must be 0)", str(a["wrong_citations"]), *blank)
    rule = (f"min_sim {ab['min_similarity']}, min_evidence {ab['min_evidence']}" if f["composer"] == OFFLINE
            else f"min_sim {ab['min_similarity']}, then the LLM")
    table.add_row(f"abstains, gold removed ({rule})", _pct(ab["abstain_on_removed_gold"]), *blank)
    table.add_row("  of them: only older news than asked", _pct(ab["stale_on_removed_gold"]), *blank)
    table.add_row("  still exact option, gold removed", _pct(ab["exact_option_on_removed_gold"]), *blank)
    table.add_row("  answers without the option, gold removed", _pct(ab["answer_without_option_on_removed_gold"]),
                  *blank)
    table.add_row(f"  abstains when no other article holds the option (n={ab['answer_left_corpus_questions']})",
                  _pct(ab["abstain_when_answer_left_corpus"]), *blank)
    table.add_row("abstains, no article holds the option (all left out)", _pct(ab["abstain_no_option"]), *blank)
    table.add_row("  of them: only older news than asked", _pct(ab["stale_no_option"]), *blank)
    table.add_row("wrongly abstains, answerable", _pct(ab["wrongly_abstain_on_answerable"]), *blank)
    table.add_row("  of them: only older news than asked", _pct(ab["stale_on_answerable"]), *blank)
    if f["llm_fallbacks"] is not None:
        table.add_row("quoted instead: LLM unavailable, all passes", _pct(f["llm_fallbacks"]["unavailable"]), *blank)
        table.add_row("quoted instead: LLM answer failed verification", _pct(f["llm_fallbacks"]["failed_verification"]),
                      *blank)
    table.add_row(f"ask latency p50 / p95 (ms, {lat['asks']} asks, both sets)",
                  f"{lat['ask_p50']:.0f} / {lat['ask_p95']:.0f}", *blank)
    index_time = "unknown" if idx["seconds"] is None else f"{idx['seconds']:.0f}"
    table.add_row(f"index time (s, {idx['chunks']} chunks)", index_time, *blank)
    if ing:
        table.add_row(f"ingest chunks/s, our indexer ({ing['chunks']} chunks)", f"{ing['indexer_chunks_per_s']:.1f}", *blank)
        table.add_row("ingest chunks/s, plain ST.encode (same)", f"{ing['plain_encode_chunks_per_s']:.1f}", *blank)
    out.print(table)
    if idx["note"]:
        out.print(f"[dim]index: {idx['note']}[/]")
    if ab["sweep_rule_disagreements"]:
        out.print(f"[yellow]warning:[/] the composer's abstentions differ from the replayed rule "
                  f"on {ab['sweep_rule_disagreements']} asks: the sweep below is not exact")


def print_natural(f: dict) -> None:
    table = Table(title=f"Natural questions — {f['questions']} chat-style questions, {f['answerable']} answerable")
    table.add_column("metric", no_wrap=True)
    table.add_column("ours", justify="right")
    table.add_column("naive (BM25 top chunk, never abstains)", justify="right")
    table.add_row("correct (answered, every group present)", _pct(f["correct"]), _pct(f["naive_correct"]))
    table.add_row("cites a gold article", _pct(f["cites_gold"]), "—")
    table.add_row("wrongly abstains, answerable", _pct(f["wrongly_abstains"]), "0.000")
    table.add_row("abstains on the unanswerable", _pct(f["abstains_unanswerable"]), "0.000")
    for kind, k in f["by_kind"].items():
        table.add_row(f"  {kind} (n={k['n']}): correct / abstained", f"{k['correct']:.3f} / {k['abstained']:.3f}", "")
    out.print(table)


def print_natural_sweep(rows: list[dict], current: float) -> None:
    table = Table(title="Natural questions: abstention trade-off (the same rule, replayed)")
    for name in ("min_evidence", "abstains on the unanswerable", "wrongly abstains, answerable", "correct"):
        table.add_column(name, justify="right")
    for r in rows:
        mark = " ←" if math.isclose(r["threshold"], current) else ""
        table.add_row(f"{r['threshold']:.3f}{mark}", f"{r['abstains_unanswerable']:.3f}",
                      f"{r['wrongly_abstains']:.3f}", f"{r['correct']:.3f}")
    out.print(table)


def print_sweep(rows: list[dict], current: float) -> None:
    table = Table(title="Abstention trade-off (composer min_evidence, the other rules fixed; one run)")
    for name in ("min_evidence", "abstains, gold removed", "abstains, no article holds the option",
                 "wrongly abstains, answerable", "exact option"):
        table.add_column(name, justify="right")
    for r in rows:
        mark = " ←" if math.isclose(r["threshold"], current) else ""
        table.add_row(f"{r['threshold']:.3f}{mark}", f"{r['abstain_removed_gold']:.3f}", f"{r['abstain_no_option']:.3f}",
                      f"{r['wrongly_abstain_answerable']:.3f}", f"{r['exact_option']:.3f}")
    out.print(table)
