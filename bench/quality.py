"""The quality benchmark: does Newsdesk find the right article, answer right, and abstain?

    .venv/bin/python bench/quality.py --quick        # two weeks of the dev set: the inner loop
    .venv/bin/python bench/quality.py                # the whole dev set (reuses its cached index)
    .venv/bin/python bench/quality.py --sweep-abstention --json
    .venv/bin/python bench/quality.py --llm          # answers by the LLM that LLM_* configure

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
"""

from __future__ import annotations

import datetime as dt
import fcntl
import gzip
import json
import math
import os
import platform
import re
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

import natural  # a sibling script: the natural-question pass

from retrieval.answers import THRESHOLD_FREE, closest
from retrieval.config import RetrievalSettings
from retrieval.errors import NewsdeskError
from retrieval.indexer import INDEX_VERSION, match_text
from retrieval.ingest import parse_json_article
from retrieval.lexical import LexicalIndex, terms
from retrieval.llm import UNAVAILABLE_NOTE
from retrieval.llm_composer import UNVERIFIED_NOTE
from retrieval.models import Answer, Passage
from retrieval.search import Searcher, TimeHints
from retrieval.sentences import sentence_spans
from retrieval.store import date_number

if TYPE_CHECKING:
    from retrieval.service import Newsdesk

BENCH_DIR = Path(__file__).resolve().parent
CACHE_DIR = BENCH_DIR / ".cache"
DEFAULT_DATASET = BENCH_DIR.parent.parent / "shared" / "eval" / "realtimeqa-dev"
RANK_DEPTH = 10  # hit@k and MRR are computed over the first 10 distinct articles
SEARCH_K = 30  # chunks asked of our search (at most 2 per article): enough for 10 articles
BASELINE_K = 50  # chunks asked of each baseline before reducing them to articles
QUICK_WEEKS = 2
QUICK_LOOKBACK_DAYS = 7  # quick mode keeps articles dated this long before its first question
SWEEP = [0.0] + [round(0.40 + 0.025 * i, 3) for i in range(17)]  # min_evidence: none, 0.40 … 0.80

out = Console(highlight=False)
if not out.is_terminal:
    out = Console(highlight=False, width=120)  # piped into a file or a README: don't wrap at 80
err = Console(stderr=True, highlight=False)
app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


# -- the dataset ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Question:
    id: str
    date: dt.date
    text: str
    choices: tuple[str, ...]
    answer: str
    gold: frozenset[str]

    @property
    def wrong(self) -> list[str]:
        return [c for c in self.choices if c != self.answer]


def load_questions(folder: Path) -> list[Question]:
    found = []
    for line in (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            found.append(Question(r["question_id"], dt.date.fromisoformat(r["question_date"]), r["question"],
                                  tuple(r["choices"]), r["answer"][0], frozenset(r["gold_doc_ids"])))
    return found


def load_article_records(folder: Path) -> list[dict]:
    with gzip.open(folder / "articles.jsonl.gz", "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def quick_subset(questions: list[Question], records: list[dict], weeks: int,
                 lookback_days: int = QUICK_LOOKBACK_DAYS) -> tuple[list[Question], list[dict]]:
    """The questions of the first `weeks` quiz dates, and the articles they could draw on:
    those dated from `lookback_days` before the first question to the last one, plus gold."""
    dates = sorted({q.date for q in questions})[:weeks]
    chosen = [q for q in questions if q.date in dates]
    gold = set().union(*(q.gold for q in chosen))
    low, high = dates[0] - dt.timedelta(days=lookback_days), dates[-1]
    kept = [r for r in records
            if r["id"] in gold or (r.get("date") and low <= dt.date.fromisoformat(r["date"]) <= high)]
    return chosen, kept


def write_jsonl(records: Iterable[dict], path: Path) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


# -- metrics (plain functions) -----------------------------------------------------------------
_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "′": "'", "`": "'",
                         "“": '"', "”": '"', "„": '"', "″": '"'})


def normalise(text: str) -> str:
    """Lower case, straight quotes, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text).translate(_QUOTES).lower().split())


def option_pattern(option: str) -> re.Pattern | None:
    """The option as a regex over normalised text, on word boundaries ("12" matches neither
    "2012" nor "12.6"); None for an empty option."""
    core = normalise(option).strip("'\" ")
    return re.compile(r"(?<!\w)(?<!\d[.,])" + re.escape(core) + r"(?!\w)(?![.,]\d)") if core else None


def contains_option(text: str, option: str) -> bool:
    """Whether normalised `text` holds the option."""
    pattern = option_pattern(option)
    return pattern is not None and pattern.search(normalise(text)) is not None


def exact_option(text: str, question: Question) -> bool:
    return contains_option(text, question.answer) and not any(contains_option(text, w) for w in question.wrong)


def distinct(doc_ids: Iterable[str], depth: int = RANK_DEPTH) -> list[str]:
    """Article ids in order of first appearance, at most `depth`."""
    seen: list[str] = []
    for doc in doc_ids:
        if doc not in seen:
            seen.append(doc)
            if len(seen) == depth:
                break
    return seen


def gold_rank(ranking: Sequence[str], gold: frozenset[str]) -> int | None:
    """1-based rank of the first gold article, None when none is ranked."""
    return next((i for i, doc in enumerate(ranking, start=1) if doc in gold), None)


def retrieval_figures(ranks: Sequence[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    figures = {f"hit@{k}": sum(1 for r in ranks if r is not None and r <= k) / n for k in (1, 5, 10)}
    figures["mrr@10"] = sum(1 / r for r in ranks if r is not None and r <= 10) / n
    return figures


def wrong_citations(answer: Answer, article_texts: dict[str, str]) -> int:
    """Citations whose quote is not verbatim in the cited article."""
    bad = 0
    for citation in answer.citations:
        text = article_texts.get(citation.doc_id)
        if text is None or not all(piece in text for piece in citation.quotes()):
            bad += 1
    return bad


def naive_answer(question: str, chunk_text: str) -> str:
    """The sentence of a chunk that shares most content words with the question."""
    wanted = set(terms(question))
    sentences = [chunk_text[s:e] for s, e in sentence_spans(chunk_text)] or [chunk_text]
    return max(sentences, key=lambda s: len(wanted & set(terms(s))))


def option_holders(questions: Sequence[Question], records: Sequence[dict]) -> dict[str, frozenset[str]]:
    """For each question: the articles (of any date) whose title or text holds its right option."""
    corpus = [(r["id"], normalise(f"{r.get('title') or ''}\n{r['text']}")) for r in records]
    holders = {}
    for q in questions:
        pattern = option_pattern(q.answer)
        holders[q.id] = frozenset(doc for doc, text in corpus if pattern is not None and pattern.search(text))
    return holders


def answer_left_corpus(questions: Sequence[Question], records: Sequence[dict],
                       holders: dict[str, frozenset[str]]) -> dict[str, bool]:
    """For each question: whether no article but its gold ones (dated on or before its as-of
    date, or undated) holds the right option's text. Only for those questions does the
    removed-gold pass take the answer out of the corpus; for the others an answer may still
    be right, so abstaining there is not simply good."""
    dates = {r["id"]: r.get("date") or "" for r in records}
    return {q.id: not any(doc not in q.gold and dates[doc] <= q.date.isoformat() for doc in holders[q.id])
            for q in questions}


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)] if ordered else float("nan")


# best passage similarity, best sentence score or None, abstained whatever the threshold
Ask = tuple[float, float | None, bool]


def abstains(ask: Ask, min_similarity: float, min_evidence: float) -> bool:
    """The composer's abstention rule (retrieval/answers.py), replayed for other thresholds:
    a stale abstention (only older news than the period asked about) or one for want of a
    number is decided before the evidence threshold, so it holds whatever that threshold."""
    similarity, evidence, stale = ask
    return similarity < min_similarity or evidence is None or stale or evidence < min_evidence


def sweep(answerable: Sequence[Ask], removed: Sequence[Ask], no_option: Sequence[Ask], exact_at: Sequence[bool],
          min_similarity: float, thresholds: Sequence[float] = SWEEP) -> list[dict]:
    """For each `min_evidence` threshold (the other rules fixed): abstain-on-removed-gold,
    abstain-without-the-option, wrongly-abstain-on-answerable, exact option."""
    def share(asks, t):
        return sum(abstains(a, min_similarity, t) for a in asks) / max(1, len(asks))

    return [{
        "threshold": t,
        "abstain_removed_gold": share(removed, t),
        "abstain_no_option": share(no_option, t),
        "wrongly_abstain_answerable": share(answerable, t),
        "exact_option": sum(x and not abstains(a, min_similarity, t)
                            for x, a in zip(exact_at, answerable)) / max(1, len(exact_at)),
    } for t in thresholds]


def bench_settings(configured: RetrievalSettings, llm: bool) -> RetrievalSettings:
    """The settings measured: the offline default unless `llm`, then the configured LLM."""
    if not llm:
        return configured.model_copy(update={"llm_provider": "none"})
    if configured.llm_provider == "none":
        raise typer.BadParameter("--llm needs an LLM: set LLM_PROVIDER and LLM_MODEL (see the README's "
                                 "'Using an LLM'), in the environment or .env")
    return configured


# -- the index cache ---------------------------------------------------------------------------
def cache_key(dataset_name: str, settings: RetrievalSettings) -> str:
    model = Path(settings.embedding_model).name or settings.embedding_model
    return f"{dataset_name}-v{INDEX_VERSION}-{model}-{settings.chunk_size}-{settings.chunk_overlap}"


@contextmanager
def exclusive(lock_path: Path):
    """One benchmark at a time may write a cache."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            err.print(f"[red]error:[/] another benchmark is using {lock_path.with_suffix('')}; wait for it")
            raise typer.Exit(1) from None
        yield


def build_index(desk, articles_file: Path, meta_path: Path) -> dict:
    """Index (incrementally) and keep a record of how long building the cache took."""
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else None
    chunks_before = desk.store.count()
    started = time.perf_counter()
    report = desk.index([articles_file])
    seconds = time.perf_counter() - started
    if meta is None:
        # A cache that already held chunks was built by someone else (e.g. `newsdesk index`).
        meta = {"index_seconds": seconds if chunks_before == 0 else None, "chunks_embedded": report.chunks_embedded,
                "note": "" if chunks_before == 0 else "built outside the benchmark: build time unknown"}
    elif report.chunks_embedded:
        meta["index_seconds"] = (meta["index_seconds"] or 0.0) + seconds if meta["index_seconds"] is not None else None
        meta["chunks_embedded"] = meta.get("chunks_embedded", 0) + report.chunks_embedded
    meta.update(chunks=desk.store.count(), articles=len(desk.store.articles()), index_version=INDEX_VERSION,
                failures=report.failed, updated=dt.datetime.now().isoformat(timespec="seconds"))
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return {**meta, "this_run_seconds": seconds, "this_run_embedded": report.chunks_embedded}


# -- the passes --------------------------------------------------------------------------------
OFFLINE = "offline quotes"  # the composer of the default pipeline, as the report names it
DEEP_POOL = 300  # candidates per retriever when articles are dropped after the search (see `Without`)
DEEP_K = 60  # passages taken from that deeper search, before the left-out articles are dropped


@dataclass
class Asked:
    """One ask of a question in one pass."""

    answer: str = ""
    abstained: bool = False
    exact: bool = False  # answered, with the right option and no wrong one
    similarity: float = 0.0  # best cosine among the passages considered: the first abstention signal
    evidence: float | None = None  # the best sentence's score: the second
    # abstained whatever the evidence threshold: only older news than the period asked about,
    # or no number where the question asks for one
    stale: bool = False
    note: str = ""  # set when an LLM answer fell back to quotes (unavailable, or failed verification)

    @classmethod
    def of(cls, answer: Answer, question: Question, considered: int) -> Asked:
        return cls(answer=answer.text, abstained=answer.abstained,
                   exact=not answer.abstained and exact_option(answer.text, question),
                   similarity=answer.similarity if answer.similarity is not None
                   else closest(answer.passages[:considered]), evidence=answer.evidence,
                   stale=answer.abstained_because in THRESHOLD_FREE, note=answer.note)

    @property
    def signals(self) -> Ask:
        return self.similarity, self.evidence, self.stale


@dataclass
class Outcome:
    """What happened to one question: its ask on the full index, and in the two passes
    where its answer was taken away (gold articles deleted; every article holding the option
    left out)."""

    question: Question
    ranks: dict[str, int | None] = field(default_factory=dict)  # system -> gold rank
    naive_exact: dict[str, bool] = field(default_factory=dict)
    asked: Asked = field(default_factory=Asked)
    gold_removed: Asked = field(default_factory=Asked)
    no_option: Asked = field(default_factory=Asked)
    cited_right: bool = False
    wrong_citations: int = 0  # over all passes
    latency_ms: float = 0.0
    answer_left_corpus: bool = False  # no other article holds the right option (see answer_left_corpus)

    @property
    def passes(self) -> tuple[Asked, Asked, Asked]:
        return self.asked, self.gold_removed, self.no_option


def ask_all(desk, questions: list[Question], texts: dict[str, str], lexical: LexicalIndex | None,
            progress: str) -> list[Outcome]:
    considered = desk.composer.options.passages_considered
    outcomes = []
    with err.status(progress) as status:
        for n, q in enumerate(questions, start=1):
            status.update(f"{progress} {n}/{len(questions)}")
            o = Outcome(q)
            o.ranks["ours"] = gold_rank(distinct(p.doc_id for p in desk.search(q.text, k=SEARCH_K, as_of=q.date)), q.gold)
            started = time.perf_counter()
            answer = desk.ask(q.text, as_of=q.date)
            o.latency_ms = (time.perf_counter() - started) * 1000
            o.asked = Asked.of(answer, q, considered)
            o.cited_right = any(c.doc_id in q.gold for c in answer.citations)
            o.wrong_citations = wrong_citations(answer, texts)
            if lexical is not None:
                baselines(desk, lexical, q, o)
            outcomes.append(o)
    return outcomes


def baselines(desk, lexical: LexicalIndex, q: Question, o: Outcome) -> None:
    """BM25 alone and dense alone (plain langchain-chroma), with and without the as-of filter."""
    until = date_number(q.date)
    for name, hits in (("bm25", lexical.search(q.text, BASELINE_K)),
                       ("bm25_asof", lexical.search(q.text, BASELINE_K, until=until))):
        chunks = desk.store.get([cid for cid, _ in hits[:1]])
        o.ranks[name] = gold_rank(distinct(cid.rpartition("#")[0] for cid, _ in hits), q.gold)
        top = next(iter(chunks.values()), None)
        o.naive_exact[name] = top is not None and exact_option(naive_answer(q.text, top[0].text), q)
    vectorstore = desk.store.vectorstore  # a langchain_chroma.Chroma on the same collection
    for name, where in (("dense", None), ("dense_asof", {"date_num": {"$lte": until}})):
        docs = vectorstore.similarity_search(q.text, k=BASELINE_K, filter=where)
        o.ranks[name] = gold_rank(distinct(d.metadata["doc_id"] for d in docs), q.gold)
        o.naive_exact[name] = bool(docs) and exact_option(naive_answer(q.text, docs[0].page_content), q)


def bm25_baseline(desk) -> LexicalIndex:
    chunks = desk.store.all_chunks()
    return LexicalIndex.build([c.id for c in chunks], [f"{c.metadata.get('title', '')}\n{c.text}" for c in chunks],
                              [int(c.metadata.get("date_num", 0)) for c in chunks], fingerprint="")


def removed_gold_pass(desk, settings: RetrievalSettings, questions: list[Question], texts: dict[str, str],
                      outcomes: list[Outcome]) -> int:
    """Ask everything again on a copy of the index without any question's gold articles."""
    from retrieval.service import build_newsdesk

    gold = set().union(*(q.gold for q in questions))
    with tempfile.TemporaryDirectory(prefix="newsdesk-nogold-") as tmp:
        copy = Path(tmp) / "data"
        shutil.copytree(settings.data_dir, copy)
        other = build_newsdesk(settings.model_copy(update={"newsdesk_data_dir": copy}), embeddings=desk.embeddings)
        probe = desk.embeddings.embed_query(questions[0].text)
        nearest = [[c.id for c, _ in d.store.dense_search(probe, 10)] for d in (desk, other)]
        if other.store.count() != desk.store.count() or nearest[0] != nearest[1]:
            raise RuntimeError("the copy of the index differs from the original: was it being written to?")
        doomed = [cid for doc in other.store.articles().values() if doc.doc_id in gold for cid in doc.chunk_ids]
        other.store.delete(doomed)
        considered = other.composer.options.passages_considered
        with err.status("asking without the gold articles") as status:
            for n, o in enumerate(outcomes, start=1):
                status.update(f"asking without the gold articles {n}/{len(outcomes)}")
                answer = other.ask(o.question.text, as_of=o.question.date)
                o.gold_removed = Asked.of(answer, o.question, considered)
                o.wrong_citations += wrong_citations(answer, texts)
    return len(doomed)


class Without:
    """A searcher that leaves some articles out, as if they were not indexed: it searches a
    deeper pool and drops them. Each question leaves out other articles, so deleting and
    restoring them per question (and rebuilding BM25 each time) would cost minutes per
    question. Not exact (fusion ranks are computed with the left-out articles present): the
    README gives its agreement with real deletion on the gold-removed pass."""

    def __init__(self, desk):
        self.searcher = Searcher(desk.store, desk.embeddings, desk.lexical.current,
                                 replace(desk.searcher.options, pool=DEEP_POOL))
        self.left_out: frozenset[str] = frozenset()

    def search(self, query: str, *, k: int, as_of: dt.date | None = None,
               hints: TimeHints | None = None) -> list[Passage]:
        found = self.searcher.search(query, k=max(k, DEEP_K), as_of=as_of, hints=hints)
        return [p for p in found if p.doc_id not in self.left_out][:k]


def asking_without(desk) -> tuple[Newsdesk, Without]:
    """A view of `desk` whose asks leave out the articles its `Without` is given."""
    without = Without(desk)
    return desk.with_parts(searcher=without), without  # shares the store, model and BM25 copy


def no_option_pass(desk, outcomes: list[Outcome], holders: dict[str, frozenset[str]], texts: dict[str, str]) -> None:
    """Ask every question as if no article held its right option (its gold articles and
    every other article with the option's text left out): the archive no longer holds the
    answer, so the composer should abstain."""
    view, without = asking_without(desk)
    considered = desk.composer.options.passages_considered
    with err.status("asking without any article holding the option") as status:
        for n, o in enumerate(outcomes, start=1):
            status.update(f"asking without any article holding the option {n}/{len(outcomes)}")
            without.left_out = o.question.gold | holders[o.question.id]
            answer = view.ask(o.question.text, as_of=o.question.date)
            o.no_option = Asked.of(answer, o.question, considered)
            o.wrong_citations += wrong_citations(answer, texts)


def ingest_throughput(desk, settings: RetrievalSettings, records: list[dict], wanted: int) -> dict:
    """Chunks per second: the project's indexer vs a plain SentenceTransformer.encode, same chunks."""
    from sentence_transformers import SentenceTransformer

    from retrieval.embeddings import resolve_model_path
    from retrieval.service import build_newsdesk

    with tempfile.TemporaryDirectory(prefix="newsdesk-ingest-") as tmp:
        sample, texts = [], []
        for line, record in enumerate(records, start=1):
            try:
                article = parse_json_article(record, origin="sample", line=line, fallback_id=str(line))
            except NewsdeskError:
                continue  # the indexer would skip it too
            texts += [match_text(article, c) for c in desk.chunker.split(article)]
            sample.append(record)
            if len(texts) >= wanted:
                break
        source = write_jsonl(sample, Path(tmp) / "sample.jsonl.gz")
        fresh = build_newsdesk(settings.model_copy(update={"newsdesk_data_dir": Path(tmp) / "data"}),
                               embeddings=desk.embeddings)
        started = time.perf_counter()
        report = fresh.index([source])
        indexer_s = time.perf_counter() - started
    model = SentenceTransformer(str(resolve_model_path(settings.embedding_model)), device="cpu")
    started = time.perf_counter()
    model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
    plain_s = time.perf_counter() - started
    return {"chunks": len(texts), "indexer_chunks_per_s": report.chunks_embedded / indexer_s,
            "plain_encode_chunks_per_s": len(texts) / plain_s}


# -- the report --------------------------------------------------------------------------------
SYSTEMS = [("ours", "ours"), ("bm25", "BM25 alone"), ("dense", "dense alone"),
           ("bm25_asof", "BM25 as-of"), ("dense_asof", "dense as-of")]


def natural_questions(folder: Path, records: Sequence[dict]) -> list[natural.NaturalQuestion]:
    """The natural set's questions that the indexed articles cover: all of them on the whole
    dev set; with --quick, those asked within its period whose gold articles are indexed."""
    indexed = {r["id"] for r in records}
    dates = sorted(r["date"] for r in records if r.get("date"))
    low, high = dt.date.fromisoformat(dates[0]), dt.date.fromisoformat(dates[-1])
    return [q for q in natural.load_natural(folder)
            if low <= q.as_of <= high and q.gold <= indexed]


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
        abstains(a.signals, options.min_similarity, options.min_evidence) != a.abstained for a in asks) + sum(
        abstains(o.signals, options.min_similarity, options.min_evidence) != o.abstained for o in chat)

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
                                            [o.no_option.signals for o in outcomes], [o.asked.exact for o in outcomes],
                                            options.min_similarity)
        if chat:
            figures["natural_sweep"] = natural_sweep(chat, options.min_similarity)
    return figures


def natural_sweep(chat: Sequence[natural.NaturalOutcome], min_similarity: float,
                  thresholds: Sequence[float] = SWEEP) -> list[dict]:
    """The natural set's abstention curve: for each `min_evidence`, abstains on the
    unanswerable, wrongly abstains on the answerable, and correct."""
    answerable = [o for o in chat if o.question.answerable]
    unanswerable = [o for o in chat if not o.question.answerable]
    return [{
        "threshold": t,
        "abstains_unanswerable": sum(abstains(o.signals, min_similarity, t) for o in unanswerable)
        / max(1, len(unanswerable)),
        "wrongly_abstains": sum(abstains(o.signals, min_similarity, t) for o in answerable) / max(1, len(answerable)),
        "correct": sum(natural.holds(o.answer, o.question.must_include) and not o.abstained
                       and not abstains(o.signals, min_similarity, t) for o in answerable) / max(1, len(answerable)),
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
    table = Table(title="Abstention trade-off (composer min_evidence, min_similarity fixed; one run)")
    for name in ("min_evidence", "abstains, gold removed", "abstains, no article holds the option",
                 "wrongly abstains, answerable", "exact option"):
        table.add_column(name, justify="right")
    for r in rows:
        mark = " ←" if math.isclose(r["threshold"], current) else ""
        table.add_row(f"{r['threshold']:.3f}{mark}", f"{r['abstain_removed_gold']:.3f}", f"{r['abstain_no_option']:.3f}",
                      f"{r['wrongly_abstain_answerable']:.3f}", f"{r['exact_option']:.3f}")
    out.print(table)


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
