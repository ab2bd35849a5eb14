import datetime as dt

from bench.natural import NaturalQuestion
from training.pipeline_pairs import pipeline_pairs

CLOSED = ("Tens of thousands of migrants have crossed the border in Texas in recent days, prompting U.S. Customs "
          "and Border Protection to shut down international rail crossings in Eagle Pass and El Paso on Dec. 18.")


def test_pipeline_pairs_label_what_the_composer_would_quote(seed_desk):
    answerable = NaturalQuestion("a", "which rail crossings were shut down", dt.date(2023, 12, 22), True, "list",
                                 (("Eagle Pass",), ("El Paso",)), evidence="")
    unanswerable = NaturalQuestion("u", "how much did the closures cost", dt.date(2023, 12, 22), False, "how_many")
    pairs = pipeline_pairs(seed_desk, [answerable, unanswerable])
    by_question = {q: [(s, label) for qq, s, label in pairs if qq == q] for q, _, _ in pairs}
    # The one sentence naming both crossings is the positive; the best others are negatives.
    first = by_question[answerable.text]
    assert [s for s, label in first if label == 1.0] == [CLOSED]
    assert len([s for s, label in first if label == 0.0]) == 4
    # An unanswerable question's 4 best sentences are all negatives.
    assert [label for _, label in by_question[unanswerable.text]] == [0.0] * 4


def test_the_evidence_sentence_is_not_repeated(seed_desk):
    question = NaturalQuestion("a", "which rail crossings were shut down", dt.date(2023, 12, 22), True, "list",
                               (("Eagle Pass",), ("El Paso",)), evidence=CLOSED)
    pairs = pipeline_pairs(seed_desk, [question])
    assert CLOSED not in [s for _, s, _ in pairs]
    assert [label for _, _, label in pairs] == [0.0] * 4
