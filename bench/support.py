"""Calibrate the support check of LLM answers (retrieval/verify.py) on a dev set.

    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.support            # ../shared/eval/realtimeqa-dev
    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.support --json out.json --examples passing-negatives.jsonl

No LLM is reachable here, so the claims are made from the quiz itself: for each question
whose gold article has a chunk containing the right option, the claim is the question
followed by an answer option ("Which continent will require ... chargers: Europe."). The
quiz writers paraphrase the article, so these claims share fewer words with it than an LLM
told to stay close to its sources usually does: a hard case for the positives.

- positive: the claim with the right option, checked against that gold chunk;
- wrong passage: the same claim against the best BM25 chunk of another article from the
  two weeks before the question that does not contain the option (a topical distractor,
  as when an LLM cites the wrong passage);
- wrong answer: the claim with each wrong option, against the gold chunk (an invented
  answer under a right citation), when the chunk does not contain that option.

It prints each feature's distribution and, for a grid of thresholds, the share of
positives kept and of negatives dropped; `--examples` writes the negatives that pass the
shipped checks, to read by hand. Measured 2026-11-27 (all-MiniLM-L6-v2, chunks 800/120):
118 of 141 questions usable, 118 positives, 111 wrong passages, 336 wrong answers.

    checks          min_sim min_cov  positives kept  wrong passage dropped  wrong answer dropped
    none              0.45    0.00       0.983              0.306                 0.128
    none              0.45    0.50       0.983              0.649                 0.878
    numbers           0.45    0.50       0.983              0.676                 0.943
    numbers+names     0.45    0.50       0.983              0.766                 0.970   <- shipped
    numbers+names     0.55    0.50       0.932              0.820                 0.970

Read by hand, about 17 of the 26 wrong passages that pass do state the claimed fact (the
distractors are often other reports of the same event), so about 9 of 111 (8 %) are real
false accepts; the 10 wrong answers that pass are relative times ("next month" for "next
year") that no word check separates. The positives' new words and names are in their passage
by construction, so "positives kept" measures the similarity threshold alone; how far a faithful paraphrase strays is estimated from the quiz question
itself against the gold chunk: a median 62 % of its words (p25 45 %) and all its names in
80 % of cases. An LLM told to keep the passages' wording should stray less; this is what a
run with a real model must confirm.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import re
import unicodedata
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer
from langchain_core.embeddings import Embeddings

from retrieval.chunking import Chunker
from retrieval.embeddings import LazyEmbeddings
from retrieval.lexical import LexicalIndex, terms
from retrieval.models import Article, Passage
from retrieval.verify import SupportOptions, Verifier, names_in, passage_units

DEFAULT_DATASET = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "realtimeqa-dev"
CACHE_DIR = Path(__file__).resolve().parent / ".cache"
LOOKBACK_DAYS = 14
SIMILARITIES = [0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60]
COVERAGES = [0.0, 0.34, 0.5, 0.67, 1.0]


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(str.maketrans("‘’“”", "''\"\""))
    return " ".join(text.lower().split())


def option_text(option: str) -> str:
    return normalise(option).strip("\"' .")


def contains(text: str, option: str) -> bool:
    wanted = option_text(option)
    return bool(wanted) and re.search(rf"(?<!\w){re.escape(wanted)}(?!\w)", normalise(text)) is not None


def claim(question: str, option: str) -> str:
    return f"{question.strip().rstrip('?')}: {option.strip()}."


def passage(chunk, article: dict) -> Passage:
    return Passage(chunk_id=chunk.id, doc_id=chunk.doc_id, text=chunk.text, score=0.0, title=article.get("title") or "",
                   source=article.get("source") or "", date=article.get("date") or "", start=chunk.start, end=chunk.end)


class ZeroEmbeddings(Embeddings):
    """For the word, number and name checks alone: every text embeds to the same vector."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[0.0] for _ in texts]

    def embed_query(self, text: str) -> list[float]:
        return [0.0]


def similarities(pairs: list[tuple[str, list[str]]]) -> list[float]:
    """max cosine of each claim with its passage's units, with the real model; cached in
    bench/.cache by the texts themselves, so only new claims or units are embedded."""
    cache_file = CACHE_DIR / "support-similarities.json"
    cache = json.loads(cache_file.read_text()) if cache_file.exists() else {}
    keys = [hashlib.sha256(json.dumps([claim, units]).encode()).hexdigest() for claim, units in pairs]
    missing = [(key, claim, units) for key, (claim, units) in zip(keys, pairs) if key not in cache]
    if missing:
        texts = sorted({t for _, claim, units in missing for t in [claim, *units]})
        vectors = dict(zip(texts, np.asarray(LazyEmbeddings("all-MiniLM-L6-v2").embed_documents(texts))))
        for key, claim, units in missing:
            cache[key] = max((float(vectors[u] @ vectors[claim]) for u in units), default=0.0)
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        cache_file.write_text(json.dumps(cache))
    return [cache[key] for key in keys]


def features(cases) -> list[dict]:
    """Each case's similarity (real model) and word, number and name checks (verify.py's own)."""
    options = SupportOptions()
    lexical = Verifier(ZeroEmbeddings(), options)
    units = [[u.text for u in passage_units(psg.text, options.min_unit_chars)] for _, _, _, psg in cases]
    sims = similarities([(text, u) for (_, _, text, _), u in zip(cases, units)])
    rows = []
    for (kind, question, text, psg), similarity in zip(cases, sims):
        ev = lexical.evidence([psg], question)
        s = ev.support(text, np.zeros(1), 1)
        claim_terms = set(terms(text))
        rows.append({"kind": kind, "similarity": similarity, "coverage": s.coverage, "numbers": s.numbers_found,
                     "names": s.names_found,
                     # every word of the claim, none exempted: how far a paraphrase strays from its source
                     "coverage_all": len(claim_terms & ev.terms[1]) / max(len(claim_terms), 1),
                     # the quiz writer's own paraphrase of the article, against the chunk
                     "question_coverage": len(set(terms(question)) & ev.terms[1]) / max(len(set(terms(question))), 1),
                     "question_names": names_in(question) <= ev.names[1]})
    return rows


app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def main(dataset: Annotated[Path, typer.Argument(help="A RealTimeQA-format folder.")] = DEFAULT_DATASET,
         json_out: Annotated[Optional[Path], typer.Option("--json", help="Write the report here.")] = None,
         examples_out: Annotated[Optional[Path], typer.Option(
             "--examples", help="Write the negatives that pass the shipped checks here.")] = None) -> dict:
    """Calibrate the support check of LLM answers (retrieval/verify.py) on a dev set."""
    questions = [json.loads(x) for x in (dataset / "questions.jsonl").read_text().splitlines() if x.strip()]
    with gzip.open(dataset / "articles.jsonl.gz", "rt", encoding="utf-8") as fh:
        articles = {r["id"]: r for r in map(json.loads, fh) if r.get("text")}
    chunker = Chunker(800, 120)
    chunks = {doc_id: chunker.split(Article(id=doc_id, text=r["text"])) for doc_id, r in articles.items()}
    flat = [c for cs in chunks.values() for c in cs]
    dates = [int((articles[c.doc_id].get("date") or "0").replace("-", "")) for c in flat]
    lexical = LexicalIndex.build([c.id for c in flat], [f"{articles[c.doc_id].get('title') or ''}\n{c.text}" for c in flat],
                                 dates, "calibration")
    by_id = {c.id: c for c in flat}

    cases = []  # (kind, question, claim text, passage)
    skipped = 0
    for q in questions:
        answer = q["answer"][0]
        gold = [c for doc in q["gold_doc_ids"] if doc in chunks for c in chunks[doc] if contains(c.text, answer)]
        if not gold:
            skipped += 1
            continue
        gold_chunk = gold[0]
        gold_passage = passage(gold_chunk, articles[gold_chunk.doc_id])
        cases.append(("positive", q["question"], claim(q["question"], answer), gold_passage))
        for wrong in q["choices"]:
            if wrong != answer and not contains(gold_chunk.text, wrong):
                cases.append(("wrong answer", q["question"], claim(q["question"], wrong), gold_passage))
        until = dt.date.fromisoformat(q["question_date"])
        since = int((until - dt.timedelta(days=LOOKBACK_DAYS)).strftime("%Y%m%d"))
        for chunk_id, _ in lexical.search(f"{q['question']} {answer}", 200, until=int(until.strftime("%Y%m%d"))):
            chunk = by_id[chunk_id]
            date = int((articles[chunk.doc_id].get("date") or "0").replace("-", ""))
            if chunk.doc_id in q["gold_doc_ids"] or date < since or contains(chunk.text, answer):
                continue
            cases.append(("wrong passage", q["question"], claim(q["question"], answer), passage(chunk, articles[chunk.doc_id])))
            break

    rows = features(cases)
    kinds = ["positive", "wrong passage", "wrong answer"]
    report = {"questions": len(questions), "usable": len(questions) - skipped,
              "cases": {k: sum(r["kind"] == k for r in rows) for k in kinds}, "features": {}, "grid": []}

    def values(kind: str, name: str) -> np.ndarray:
        return np.array([r[name] for r in rows if r["kind"] == kind], dtype=float)

    for k in kinds:
        report["features"][k] = {
            "similarity_p10_p50_p90": [round(float(np.percentile(values(k, "similarity"), p)), 3) for p in (10, 50, 90)],
            "coverage_p10_p50_p90": [round(float(np.percentile(values(k, "coverage"), p)), 3) for p in (10, 50, 90)],
            "numbers_found": round(float(values(k, "numbers").mean()), 3),
            "names_found": round(float(values(k, "names").mean()), 3),
            "question_coverage_p10_p25_p50": [round(float(np.percentile(values(k, "question_coverage"), p)), 3)
                                              for p in (10, 25, 50)],
            "question_names_found": round(float(values(k, "question_names").mean()), 3),
        }
    checks = {"none": (), "numbers": ("numbers",), "numbers+names": ("numbers", "names")}
    for label, needed in checks.items():
        for min_sim in SIMILARITIES:
            for min_cov in COVERAGES:
                def passes(r):
                    return r["similarity"] >= min_sim and r["coverage"] >= min_cov and all(r[n] for n in needed)
                rate = {k: float(np.mean([passes(r) for r in rows if r["kind"] == k])) for k in kinds}
                report["grid"].append({"checks": label, "min_similarity": min_sim, "min_coverage": min_cov,
                                       "positives_kept": round(rate["positive"], 3),
                                       "wrong_passage_dropped": round(1 - rate["wrong passage"], 3),
                                       "wrong_answer_dropped": round(1 - rate["wrong answer"], 3)})

    print(f"{report['usable']} of {report['questions']} questions usable; cases: {report['cases']}")
    for k, f in report["features"].items():
        print(f"{k:14} similarity p10/p50/p90 {f['similarity_p10_p50_p90']}  coverage {f['coverage_p10_p50_p90']}"
              f"  numbers found {f['numbers_found']}  names found {f['names_found']}")
        print(f"{'':14} the quiz question itself vs the passage: words found p10/p25/p50 "
              f"{f['question_coverage_p10_p25_p50']}, all names found {f['question_names_found']}")
    print(f"\n{'checks':>13} {'min_sim':>7} {'min_cov':>7} {'pos kept':>9} {'wrong psg dropped':>18} {'wrong ans dropped':>18}")
    for g in report["grid"]:
        print(f"{g['checks']:>13} {g['min_similarity']:7.2f} {g['min_coverage']:7.2f} {g['positives_kept']:9.3f}"
              f" {g['wrong_passage_dropped']:18.3f} {g['wrong_answer_dropped']:18.3f}")
    if json_out:
        json_out.write_text(json.dumps(report, indent=1))
    if examples_out:  # the negatives that pass the shipped checks, to read by hand
        defaults = SupportOptions()
        with examples_out.open("w") as fh:
            for (kind, question, text, psg), r in zip(cases, rows):
                if kind != "positive" and r["similarity"] >= defaults.min_similarity \
                        and r["coverage"] >= defaults.min_coverage and r["numbers"] and r["names"]:
                    fh.write(json.dumps({"kind": kind, "claim": text, "passage": psg.text, **r}) + "\n")
    return report


if __name__ == "__main__":
    app()
