"""The quality benchmark's metrics (bench/metrics.py, and the records of bench/passes.py),
checked by hand: the figures in the README and bench/RESULTS.md are only as good as these
functions."""

import datetime as dt

import pytest
import typer

from bench import index_cache, metrics, passes, report
from bench.dataset import Question
from retrieval.answers import ABSTAIN_OFF_TOPIC, ABSTAIN_STALE
from retrieval.llm import UNAVAILABLE_NOTE
from retrieval.llm_composer import UNVERIFIED_NOTE
from retrieval.models import Answer, Citation, Passage

Q = Question(id="q1", date=dt.date(2022, 7, 1), text="Which continent will require a common charger?",
             choices=("Europe", "North America", "Asia", "Africa"), answer="Europe",
             gold=frozenset({"gold-a", "gold-b"}))


@pytest.mark.parametrize("text, option, expected", [
    ("The EUROPE-wide rule", "Europe", True),  # case
    ("It sold for $12.6 million.", "$12.6 million", True),
    ("It sold for $12.6 million.", "12", False),  # not a prefix of a decimal
    ("In 2012 it began.", "12", False),  # not inside a longer number
    ("He said “Squid Game” is back.", "“Squid Game”", True),  # the option's own quotes are dropped
    ("He said 'Squid Game' is back.", "“Squid Game”", True),  # curly and straight quotes are equal
    ("Bed   Bath\n& Beyond closes stores.", "Bed Bath & Beyond", True),  # whitespace
    ("Europeans will pay less.", "Europe", False),  # word boundaries
    ("six months", "6", False),  # no number words: the metric is strict on purpose
])
def test_contains_option(text, option, expected):
    assert metrics.contains_option(text, option) is expected


def test_exact_option_needs_the_right_option_and_no_wrong_one():
    assert metrics.exact_option("The EU, i.e. Europe, will require USB-C.", Q)
    assert not metrics.exact_option("Europe and Asia will require USB-C.", Q)
    assert not metrics.exact_option("Asia will require USB-C.", Q)
    assert not metrics.exact_option("", Q)


def test_ranks_count_distinct_articles():
    chunks = ["a", "a", "b", "gold-b", "c"]
    assert metrics.distinct(chunks) == ["a", "b", "gold-b", "c"]
    assert metrics.distinct(chunks, depth=2) == ["a", "b"]
    assert metrics.gold_rank(metrics.distinct(chunks), Q.gold) == 3
    assert metrics.gold_rank(["a", "b"], Q.gold) is None


def test_retrieval_figures():
    figures = metrics.retrieval_figures([1, 3, None, 8])
    assert figures == {"hit@1": 0.25, "hit@5": 0.5, "hit@10": 0.75, "mrr@10": pytest.approx((1 + 1 / 3 + 1 / 8) / 4)}


def test_wrong_citations_counts_quotes_not_in_the_cited_article():
    texts = {"gold-a": "One. Two sentences here.", "other": "Something else."}

    def cited(doc_id, quote):
        return Citation(n=1, doc_id=doc_id, title="", source="", date="", url="", quote=quote)

    answer = Answer("q", "…", False, [cited("gold-a", "One. … Two sentences here."), cited("other", "One."),
                                      cited("missing", "One.")], [])
    assert metrics.wrong_citations(answer, texts) == 2


def test_abstention_rule_and_sweep():
    rule = {"min_evidence": 0.5}
    assert metrics.abstains((0.30, 0.45, False), **rule)  # too far from the question, in meaning and words
    assert not metrics.abstains((0.30, 0.9, False), **rule)  # far in meaning, but its words match
    assert metrics.abstains((0.60, None, False), **rule)  # no sentence was scored
    assert metrics.abstains((0.60, 0.49, False), **rule)  # no sentence answers well
    assert metrics.abstains((0.60, 0.9, True), **rule)  # only older news than asked about
    assert not metrics.abstains((0.60, 0.5, False), **rule)
    answerable = [(0.7, 0.8, False), (0.7, 0.55, False), (0.2, None, False), (0.7, 0.9, False)]
    removed = [(0.6, 0.5, False), (0.6, 0.65, False), (0.3, None, False), (0.7, 0.9, True)]
    no_option = [(0.6, 0.55, False), (0.6, 0.7, False), (0.6, 0.4, False), (0.6, 0.61, False)]
    rows = metrics.sweep(answerable, removed, no_option, exact_at=[True, True, False, False],
                         thresholds=[0.0, 0.6])
    assert rows == [
        {"threshold": 0.0, "abstain_removed_gold": 0.5, "abstain_no_option": 0.0, "wrongly_abstain_answerable": 0.25,
         "exact_option": 0.5},
        {"threshold": 0.6, "abstain_removed_gold": 0.75, "abstain_no_option": 0.5, "wrongly_abstain_answerable": 0.5,
         "exact_option": 0.25},
    ]


def test_percentile_is_nearest_rank():
    assert metrics.percentile([5, 1, 3, 2, 4], 50) == 3
    assert metrics.percentile([5, 1, 3, 2, 4], 95) == 5


def test_answer_left_corpus_only_when_no_other_article_holds_the_option():
    later = Question(id="q2", date=dt.date(2022, 7, 1), text="Which city?", choices=("Oslo", "Rome"),
                     answer="Oslo", gold=frozenset({"gold-c"}))
    records = [
        {"id": "gold-a", "date": "2022-06-30", "title": None, "text": "Europe will require one charger."},
        {"id": "other", "date": "2022-06-29", "title": "EUROPE votes", "text": "A vote."},  # the title counts
        {"id": "gold-c", "date": "2022-06-30", "title": "", "text": "Oslo it is."},
        {"id": "too-late", "date": "2022-07-02", "title": "", "text": "Oslo again."},  # after the as-of date
        {"id": "word", "date": "", "title": "", "text": "Oslovia is elsewhere."},  # not on a word boundary
    ]
    holders = metrics.option_holders([Q, later], records)
    assert holders == {"q1": {"gold-a", "other"}, "q2": {"gold-c", "too-late"}}  # of any date
    assert metrics.answer_left_corpus([Q, later], records, holders) == {"q1": False, "q2": True}


def test_the_benchmark_measures_the_offline_default_unless_asked_for_the_llm():
    from retrieval.config import RetrievalSettings

    configured = RetrievalSettings(_env_file=None, llm_provider="openai", llm_model="m")  # e.g. from a .env
    assert index_cache.bench_settings(configured, llm=False).llm_provider == "none"
    assert index_cache.bench_settings(configured, llm=True).llm_provider == "openai"
    with pytest.raises(typer.BadParameter, match="LLM_PROVIDER"):
        index_cache.bench_settings(RetrievalSettings(_env_file=None, llm_provider="none"), llm=True)


def test_llm_fallbacks_are_shares_of_all_passes():
    unavailable, unverified = passes.Asked(note=UNAVAILABLE_NOTE), passes.Asked(note=UNVERIFIED_NOTE)
    asked = [passes.Outcome(Q, asked=unavailable),
             passes.Outcome(Q, asked=unverified, gold_removed=unavailable, no_option=unavailable)]
    assert report.llm_fallbacks(asked) == {"unavailable": 0.5, "failed_verification": 1 / 6}


def test_an_ask_records_the_composer_signals_the_sweep_replays():
    answer = Answer("q", "Europe will require USB-C. [1]", False, [], [
        Passage(chunk_id=f"d{i}#0", doc_id=f"d{i}", text="…", score=1.0, dense_similarity=sim)
        for i, sim in enumerate([0.5, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1, 0.9])  # the 8th is not considered
    ], evidence=0.8)
    asked = passes.Asked.of(answer, Q, considered=6)
    assert (asked.exact, asked.abstained, asked.signals) == (True, False, (0.7, 0.8, False))
    stale = Answer("q", "I couldn't find that…", True, [], [], evidence=0.9, abstained_because=ABSTAIN_STALE)
    assert passes.Asked.of(stale, Q, considered=6).signals == (0.0, 0.9, True)


def test_asking_without_leaves_the_given_articles_out_and_the_desk_untouched(seed_desk):
    question = "Which crossings closed?"
    view, without = passes.asking_without(seed_desk)
    assert view.ask(question).text == seed_desk.ask(question).text  # nothing left out: the same answer
    (seed,) = {p.doc_id for p in seed_desk.search(question)}
    without.left_out = frozenset({seed})
    answer = view.ask(question)
    assert (answer.abstained, answer.abstained_because, answer.passages) == (True, ABSTAIN_OFF_TOPIC, [])
    assert not seed_desk.ask(question).abstained


def test_attribution_excerpts_are_consecutive_prose_sentences_of_the_article():
    import random

    from bench.attribution import excerpt_of

    text = ("The council voted on Monday to close the bridge. Repairs will take six weeks.\n\n"
            "Read more here.\n\nTraffic will use the ferry until then, the mayor said.")
    drawn = {excerpt_of(text, 2, random.Random(seed)) for seed in range(20)}
    # "Read more here." is page furniture: no run of two sentences spans it.
    assert drawn == {"The council voted on Monday to close the bridge. Repairs will take six weeks."}
    assert excerpt_of(text, 4, random.Random(0)) is None
