"""Calibrate the support check of LLM answers (retrieval/verify.py) on a dev set.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/support.py            # ../shared/eval/realtimeqa-dev
    HF_HUB_OFFLINE=1 .venv/bin/python bench/support.py --json out.json --examples passing-negatives.jsonl

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
positives kept and of negatives dropped. Figures measured 2026-11-27 (all-MiniLM-L6-v2,
chunks of 800/120), 116 usable questions of 141: see the report printed by the script;
the defaults of `SupportOptions` (min_similarity 0.45, min_coverage 0.5, numbers checked)
keep the positives and drop the distractors at the rates printed for that row.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import re
import sys
import unicodedata
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from retrieval.chunking import Chunker  # noqa: E402
from retrieval.embeddings import LazyEmbeddings  # noqa: E402
from retrieval.lexical import LexicalIndex, terms  # noqa: E402
from retrieval.models import Article, Passage  # noqa: E402
from retrieval.verify import Claim, SupportOptions, Verifier  # noqa: E402

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


def features(cases, dataset: Path) -> list[dict]:
    """Each case's similarity, coverages and number check, cached in bench/.cache by content."""
    key = hashlib.sha256(json.dumps([(k, q, t, p.chunk_id, p.text) for k, q, t, p in cases]).encode()).hexdigest()[:16]
    cache = CACHE_DIR / f"support-{dataset.name}-{key}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    verifier = Verifier(LazyEmbeddings("all-MiniLM-L6-v2"),
                        SupportOptions(min_similarity=-1.0, min_coverage=0.0, check_numbers=False))
    evidence = {}
    rows = []
    for kind, question, text, psg in cases:
        if psg.chunk_id not in evidence:
            evidence[psg.chunk_id] = verifier.evidence([psg], "")
        ev = evidence[psg.chunk_id].with_question(question)
        [checked] = verifier.check([Claim(text, (1,))], ev)
        s = checked.supports[0]
        claim_terms = set(terms(text))
        rows.append({"kind": kind, "similarity": s.similarity, "coverage": s.coverage, "numbers": s.numbers_found,
                     # every word of the claim, none exempted: how far a paraphrase strays from its source
                     "coverage_all": len(claim_terms & ev.terms[1]) / max(len(claim_terms), 1),
                     "question_coverage": len(set(terms(question)) & ev.terms[1]) / max(len(set(terms(question))), 1)})
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(rows))
    return rows


def main(dataset: Path = DEFAULT_DATASET, json_out: Path | None = None, examples_out: Path | None = None) -> dict:
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

    rows = features(cases, dataset)
    kinds = ["positive", "wrong passage", "wrong answer"]
    report = {"questions": len(questions), "usable": len(questions) - skipped,
              "cases": {k: sum(r["kind"] == k for r in rows) for k in kinds}, "features": {}, "grid": []}
    for k in kinds:
        sims = np.array([r["similarity"] for r in rows if r["kind"] == k])
        covs = np.array([r["coverage"] for r in rows if r["kind"] == k])
        nums = np.array([r["numbers"] for r in rows if r["kind"] == k])
        qcov = np.array([r["question_coverage"] for r in rows if r["kind"] == k])
        report["features"][k] = {
            "question_coverage_p10_p25_p50": [round(float(np.percentile(qcov, p)), 3) for p in (10, 25, 50)],
            "similarity_p10_p50_p90": [round(float(np.percentile(sims, p)), 3) for p in (10, 50, 90)],
            "coverage_p10_p50_p90": [round(float(np.percentile(covs, p)), 3) for p in (10, 50, 90)],
            "numbers_found": round(float(nums.mean()), 3),
        }
    for check_numbers in (False, True):
        for min_sim in SIMILARITIES:
            for min_cov in COVERAGES:
                def passes(r):
                    return (r["similarity"] >= min_sim and r["coverage"] >= min_cov
                            and (r["numbers"] or not check_numbers))
                rate = {k: float(np.mean([passes(r) for r in rows if r["kind"] == k])) for k in kinds}
                report["grid"].append({"numbers": check_numbers, "min_similarity": min_sim, "min_coverage": min_cov,
                                       "positives_kept": round(rate["positive"], 3),
                                       "wrong_passage_dropped": round(1 - rate["wrong passage"], 3),
                                       "wrong_answer_dropped": round(1 - rate["wrong answer"], 3)})

    print(f"{report['usable']} of {report['questions']} questions usable; cases: {report['cases']}")
    for k, f in report["features"].items():
        print(f"{k:14} similarity p10/p50/p90 {f['similarity_p10_p50_p90']}  coverage {f['coverage_p10_p50_p90']}"
              f"  numbers found {f['numbers_found']}  question words in passage p10/p25/p50 "
              f"{f['question_coverage_p10_p25_p50']}")
    print(f"\n{'numbers':>7} {'min_sim':>7} {'min_cov':>7} {'pos kept':>9} {'wrong psg dropped':>18} {'wrong ans dropped':>18}")
    for g in report["grid"]:
        print(f"{str(g['numbers']):>7} {g['min_similarity']:7.2f} {g['min_coverage']:7.2f} {g['positives_kept']:9.3f}"
              f" {g['wrong_passage_dropped']:18.3f} {g['wrong_answer_dropped']:18.3f}")
    if json_out:
        json_out.write_text(json.dumps(report, indent=1))
    if examples_out:  # the negatives that pass the shipped thresholds, to read by hand
        defaults = SupportOptions()
        with examples_out.open("w") as fh:
            for (kind, question, text, psg), r in zip(cases, rows):
                if kind != "positive" and r["similarity"] >= defaults.min_similarity \
                        and r["coverage"] >= defaults.min_coverage and r["numbers"]:
                    fh.write(json.dumps({"kind": kind, "claim": text, "passage": psg.text, **r}) + "\n")
    return report


if __name__ == "__main__":
    args = sys.argv[1:]
    out = Path(args[args.index("--json") + 1]) if "--json" in args else None
    examples = Path(args[args.index("--examples") + 1]) if "--examples" in args else None
    main(json_out=out, examples_out=examples)
