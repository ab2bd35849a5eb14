"""The quality benchmark's passes: every question asked on the full index (with the BM25
and dense baselines), again without the gold articles, again without any article holding
the right option; and the ingest throughput."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from bench.console import err
from bench.dataset import Question, write_jsonl
from bench.metrics import Ask, distinct, exact_option, gold_rank, naive_answer, wrong_citations
from retrieval.answers import THRESHOLD_FREE, closest
from retrieval.config import RetrievalSettings
from retrieval.errors import NewsdeskError
from retrieval.indexer import match_text
from retrieval.ingest import parse_json_article
from retrieval.lexical import LexicalIndex
from retrieval.models import Answer, Passage
from retrieval.search import Searcher, TimeHints
from retrieval.store import date_number

if TYPE_CHECKING:
    from retrieval.service import Newsdesk

SEARCH_K = 30  # chunks asked of our search (at most 2 per article): enough for 10 articles
BASELINE_K = 50  # chunks asked of each baseline before reducing them to articles


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
