"""BM25 copies saved beside the store (retrieval/lexical_store.py) and the index run that
skips the scan of every chunk when the store was left clean."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from retrieval.lexical import LexicalIndex
from retrieval.lexical_store import CURRENT, LexicalFiles, PackedIds

from conftest import ROOT, HashEmbeddings, make_desk
from test_indexer import counts, write_story

TEXTS = ["The harbour ferry closed in the storm.", "Border crossings closed at Sasabe and Lukeville.",
         "", "A ferry returned to the harbour on Monday."]
IDS = ["a#0", "b#0", "c#0", "é#1"]
DATES = [20231201, 20231202, 0, 20231204]


def index_at(generation: str, ids=IDS, texts=TEXTS) -> LexicalIndex:
    return LexicalIndex.build(ids, texts, DATES[:len(ids)], "", generation)


def hits(index: LexicalIndex, query: str) -> list[tuple[str, float]]:
    return [(cid, pytest.approx(score)) for cid, score in index.search(query, 5)]


def test_packed_ids_read_back_exactly(tmp_path):
    ids = ["a#0", "é#1", "", "x" * 300, "日本#2"]
    PackedIds.write(ids, tmp_path)
    packed = PackedIds.read(tmp_path)
    assert (len(packed), list(packed), packed[-1], packed[1:3]) == (5, ids, "日本#2", ["é#1", ""])


def test_an_index_read_page_by_page_scores_as_one_built_at_once():
    whole = index_at("g1")
    streamed = LexicalIndex.from_rows(zip(IDS, TEXTS, DATES), "g1")
    for query in ("ferry harbour", "closed crossings", "Monday", "nothing matches"):
        assert hits(streamed, query) == whole.search(query, 5)
    assert (streamed.idf("ferri"), streamed.newest()) == (pytest.approx(whole.idf("ferri")), 20231204)


def test_a_saved_copy_loads_memory_mapped_at_its_generation_only(tmp_path):
    files = LexicalFiles(tmp_path / "bm25")
    assert files.load("g1") is None  # nothing saved yet
    assert files.save(index_at("g1")) is True
    loaded = files.load("g1")
    assert (list(loaded.ids), loaded.generation, loaded.newest()) == (IDS, "g1", 20231204)
    assert type(loaded._model.scores["data"]).__name__ == "memmap"
    assert hits(loaded, "ferry harbour") == hits(index_at("g1"), "ferry harbour")
    assert files.load("g2") is None, "a copy of another generation is stale"
    assert files.load("") is None, "a store never indexed has no generation to trust"


def test_a_new_save_replaces_the_copy_and_removes_the_old_one(tmp_path):
    files = LexicalFiles(tmp_path / "bm25")
    files.save(index_at("g1"))
    first = mapped = files.load("g1")
    files.save(index_at("g2", IDS[:2], TEXTS[:2]))
    assert (files.load("g1"), list(files.load("g2").ids)) == (None, IDS[:2])
    assert sorted(p.name for p in files.folder.iterdir() if not p.name.startswith(".save"))[0] == CURRENT
    assert len([p for p in files.folder.iterdir() if p.name.startswith("v-")]) == 1
    assert [c for c, _ in mapped.search("ferry", 5)] == ["a#0", "é#1"], "a process keeps reading the copy it mapped"
    assert first is mapped


def test_a_save_that_fails_half_way_leaves_the_old_copy_current(tmp_path):
    files = LexicalFiles(tmp_path / "bm25")
    files.save(index_at("g1"))
    # An id that cannot be written as UTF-8 stops the save after the BM25 files are written.
    with pytest.raises(UnicodeEncodeError):
        files.save(index_at("g2", ["a#0", "b#0", "c#0", "\ud800"]))
    assert files.load("g2") is None
    assert list(files.load("g1").ids) == IDS
    assert files.save(index_at("g3"))  # the next save clears what the failed one left
    assert sorted(p.name for p in files.folder.iterdir() if not p.name.startswith(".save")) == \
        sorted([CURRENT, (files.folder / CURRENT).read_text()])


def test_a_copy_whose_generation_passed_while_it_was_saved_is_not_switched_to(tmp_path):
    files = LexicalFiles(tmp_path / "bm25")
    files.save(index_at("g1"))
    assert files.save(index_at("g2"), still_current=lambda: False) is False
    assert (files.load("g2"), list(files.load("g1").ids)) == (None, IDS)


SAVER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from retrieval.lexical import LexicalIndex
    from retrieval.lexical_store import LexicalFiles

    def wait_to_be_killed():
        print("switching", flush=True)
        time.sleep(60)
        return True

    index = LexicalIndex.build(["x#0"], ["a new version of the story"], [20240101], "", "g2")
    LexicalFiles(Path(sys.argv[1])).save(index, still_current=wait_to_be_killed)
""")


def test_a_process_killed_just_before_the_switch_leaves_the_old_copy_current(tmp_path):
    files = LexicalFiles(tmp_path / "bm25")
    files.save(index_at("g1"))
    saver = subprocess.Popen([sys.executable, "-c", SAVER, str(files.folder)], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert saver.stdout.readline().strip() == "switching"  # the new copy is on disk, whole
        saver.send_signal(signal.SIGKILL)
    finally:
        saver.wait(30)
    assert files.load("g2") is None
    assert list(files.load("g1").ids) == IDS


# -- through the Newsdesk ----------------------------------------------------------------------
def refuse(*args, **kwargs):
    raise AssertionError("every chunk's metadata was read")


def test_a_no_op_run_after_a_clean_run_reads_only_its_articles_records(hash_desk, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    for name in ("a.md", "b.md"):
        write_story(folder, name, 2)
    assert counts(hash_desk.index([folder])) == (2, 0, 0, 0, 0)
    assert hash_desk.store.is_clean()
    generation = hash_desk.store.generation()
    hash_desk.store.scan = hash_desk.store.iter_chunks = refuse
    assert counts(hash_desk.index([folder])) == (0, 0, 2, 0, 0)
    del hash_desk.store.iter_chunks  # a change rebuilds the BM25 copy, which reads every chunk...
    write_story(folder, "b.md", 1)  # ...but deciding what changed needs no scan: the old chunks go
    assert counts(hash_desk.index([folder / "b.md"])) == (0, 1, 0, 0, 0)
    del hash_desk.store.scan
    version = hash_desk.store.records()["b.md"]["version"]
    assert sorted(c.id for c in hash_desk.store.all_chunks()) == ["a.md#0", "a.md#1", f"b.md#0@{version[:12]}"]
    assert hash_desk.store.generation() != generation and hash_desk.store.is_clean()


def test_a_write_outside_a_finished_run_makes_the_next_run_scan_and_repair(hash_desk, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    write_story(folder, "a.md", 1)
    hash_desk.index([folder])
    # What a run killed after writing chunks leaves: chunks of a version never committed.
    hash_desk.store.add(["a.md#0@deadbeef0000"], ["left over"], HashEmbeddings().embed_documents(["left over"]),
                        [{"doc_id": "a.md", "version": "deadbeef", "start": 0, "end": 9}])
    assert not hash_desk.store.is_clean()
    report = hash_desk.index([folder])
    assert (counts(report), report.repaired) == ((0, 0, 1, 0, 0), 1)
    assert [c.id for c in hash_desk.store.all_chunks()] == ["a.md#0"] and hash_desk.store.is_clean()


def test_a_process_started_after_an_index_run_reads_no_chunk_for_bm25(hash_desk, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    write_story(folder, "a.md", 1)
    hash_desk.index([folder])
    started = make_desk(tmp_path / "data", HashEmbeddings(), model_name="hash-64")
    started.store.iter_chunks = refuse
    assert [c for c, _ in started.lexical.current().search("ferry", 5)] == ["a.md#0"]


def test_a_stale_saved_copy_is_rebuilt_and_saved_at_the_new_generation(hash_desk, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    write_story(folder, "a.md", 1)
    hash_desk.index([folder])
    hash_desk.store.delete(["a.md#0"])  # a write no index run finished: the saved copy is stale
    generation = hash_desk.store.generation()
    started = make_desk(tmp_path / "data", HashEmbeddings(), model_name="hash-64")
    assert started.lexical.current().search("ferry", 5) == []
    files = LexicalFiles(tmp_path / "data" / "bm25" / "newsdesk")
    assert (files.load(generation).generation, len(files.load(generation))) == (generation, 0)


def test_a_copy_saved_in_the_earlier_layout_is_read_until_the_next_save(tmp_path):
    folder = tmp_path / "bm25"
    folder.mkdir()
    index = index_at("g1")
    index._model.save(str(folder / "bm25"))
    (folder / "ids.json").write_text(json.dumps({"fingerprint": "", "generation": "g1", "ids": IDS, "date_nums": DATES}))
    files = LexicalFiles(folder)
    assert (files.load("g2"), hits(files.load("g1"), "ferry")) == (None, hits(index, "ferry"))
    files.save(index_at("g2"))
    assert (files.load("g1"), sorted(p.name for p in folder.iterdir())[:1]) == (None, [".save.lock"])
    assert not (folder / "ids.json").exists() and not (folder / "bm25").exists()


def sorted_chunks(articles: dict) -> dict:
    return {doc_id: dataclasses.replace(a, chunk_ids=sorted(a.chunk_ids)) for doc_id, a in articles.items()}


def test_articles_are_listed_from_their_records_as_the_scan_lists_them(hash_desk, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    write_story(folder, "a.md", 2)
    write_story(folder, "b.md", 1)
    hash_desk.index([folder])
    write_story(folder, "b.md", 3)  # an update: its chunks get new ids
    hash_desk.index([folder])
    scanned = hash_desk.store.scan().articles
    assert len(scanned["b.md"].chunk_ids) == 3 and scanned["b.md"].chunk_ids[0].startswith("b.md#0@")
    hash_desk.store.scan = refuse
    assert sorted_chunks(hash_desk.store.articles()) == sorted_chunks(scanned)
    assert [(s.doc_id, s.chunks) for s in hash_desk.sources()] == [("b.md", 3), ("a.md", 2)]


def test_records_from_before_they_listed_their_article_are_not_listed_from(hash_desk, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    write_story(folder, "a.md", 1)
    hash_desk.index([folder])
    record = hash_desk.store.records()["a.md"]
    hash_desk.store.commit({"a.md": {k: record[k] for k in ("version", "doc_hash", "chunks")}})
    hash_desk.store.mark_clean()
    assert hash_desk.store.is_clean()
    [article] = hash_desk.store.articles().values()  # from the chunks' metadata
    assert (article.title, article.chunk_ids) == ("Ferry a.md", ["a.md#0"])
    assert counts(hash_desk.index([folder])) == (0, 0, 1, 0, 0)


def test_words_drop_possessives_and_keep_other_apostrophes():
    from retrieval.lexical import words

    text = "Biden's and O’Neill’s plans; IT'S the dogs' bowls, rock'n roll, Sasabe's"
    assert words(text) == ["biden", "and", "o’neill", "s", "plans", "it", "the", "dogs", "bowls", "rock'n", "roll",
                           "sasabe"]
