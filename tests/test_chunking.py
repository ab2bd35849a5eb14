import pytest

from retrieval.chunking import Chunker
from retrieval.ingest import read_file
from retrieval.models import Article
from retrieval.sentences import sentence_spans

from conftest import SEED_ID, SEEDS

SEED = next(read_file(SEEDS / SEED_ID, rel=SEED_ID))

ODD_TEXTS = [
    "word " * 400,
    "No breaks at all " + "x" * 3000,
    "Para one.\n\n\n\nPara two has   odd   spacing.\n \n\tTabbed para three. " * 40,
    "“Quoted,” she said.  “Again!”   " * 60,
]


@pytest.mark.parametrize("size,overlap", [(800, 120), (200, 50), (120, 0)])
@pytest.mark.parametrize("text", [SEED.text, *ODD_TEXTS], ids=["seed", "words", "nobreaks", "paras", "quotes"])
def test_every_chunk_is_an_exact_span_of_its_article(text, size, overlap):
    article = Article(id="a", text=text)
    chunks = Chunker(size, overlap).split(article)
    assert chunks, "every non-empty article yields chunks"
    for number, chunk in enumerate(chunks):
        assert article.text[chunk.start:chunk.end] == chunk.text
        assert chunk.id == f"a#{number}" and chunk.doc_id == "a"
        assert len(chunk.text) <= size
    starts = [c.start for c in chunks]
    assert starts == sorted(starts)


def test_chunks_cover_the_whole_article():
    chunks = Chunker(200, 40).split(SEED)
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    uncovered = "".join(SEED.text[i] for i in range(len(SEED.text)) if i not in covered)
    assert uncovered.strip() == ""


def test_overlap_must_be_smaller_than_size():
    with pytest.raises(ValueError, match="chunk_overlap \\(100\\) must be smaller than chunk_size \\(100\\)"):
        Chunker(100, 100)


def test_sentences_of_the_seed_respect_abbreviations():
    text = SEED.text
    sentences = [text[s:e] for s, e in sentence_spans(text)]
    assert "Tens of thousands of migrants have crossed the border in Texas in recent days, prompting U.S. Customs " \
           "and Border Protection to shut down international rail crossings in Eagle Pass and El Paso on Dec. 18." in sentences
    assert "CBP also closed a busy pedestrian crossing at San Ysidro and vehicle crossings in Lukeville, Ariz., " \
           "and Eagle Pass." in sentences
    assert len(sentences) == 12


def test_sentence_offsets_shift_and_exclude_whitespace():
    text = "  First one. Second one!\nThird?  "
    assert sentence_spans(text) == [(2, 12), (13, 24), (25, 31)]
    assert sentence_spans(text, offset=100) == [(102, 112), (113, 124), (125, 131)]
