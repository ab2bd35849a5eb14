"""Incremental indexing logic, on a real embedded Chroma with the hashing embedder."""

import shutil
from pathlib import Path

import pytest

from retrieval.errors import IndexBusyError, ModelMismatchError, StoreUnavailableError

from conftest import Clock, HashEmbeddings, SEED_ID, make_desk


def counts(report):
    return (report.added, report.updated, report.unchanged, report.deleted, report.failed)


def chunk_ids(desk):
    return sorted(c.id for c in desk.store.all_chunks())


def write_story(folder: Path, name: str, paragraphs: int) -> Path:
    body = "\n\n".join(f"Paragraph {i} tells of the harbour ferry and the storm that closed it." * 10 for i in range(paragraphs))
    path = folder / name
    path.write_text(f"---\ntitle: Ferry {name}\ndate: 2023-12-{10 + paragraphs:02d}\n---\n{body}\n")
    return path


def test_second_run_changes_nothing(hash_desk, seed_copy):
    first = hash_desk.index([seed_copy])
    assert counts(first) == (1, 0, 0, 0, 0)
    assert first.chunks_embedded == 3
    before = chunk_ids(hash_desk)
    second = hash_desk.index([seed_copy])
    assert counts(second) == (0, 0, 1, 0, 0)
    assert second.chunks_embedded == 0 and not second.changed
    assert chunk_ids(hash_desk) == before == [f"{SEED_ID}#0", f"{SEED_ID}#1", f"{SEED_ID}#2"]


def test_a_shorter_new_version_leaves_no_stale_chunk(hash_desk, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    write_story(folder, "ferry.md", paragraphs=6)
    hash_desk.index([folder])
    assert len(chunk_ids(hash_desk)) == 6
    write_story(folder, "ferry.md", paragraphs=2)
    report = hash_desk.index([folder])
    assert counts(report) == (0, 1, 0, 0, 0)
    # A new version is stored beside the old one until its switch, so under new chunk ids.
    version = hash_desk.store.records()["ferry.md"]["version"]
    assert chunk_ids(hash_desk) == [f"ferry.md#0@{version[:12]}", f"ferry.md#1@{version[:12]}"]
    texts = " ".join(c.text for c in hash_desk.store.all_chunks())
    assert "Paragraph 5" not in texts and "Paragraph 1" in texts
    [source] = hash_desk.sources()
    assert (source.doc_id, source.date, source.chunks) == ("ferry.md", "2023-12-12", 2)


def test_prune_deletes_articles_whose_files_are_gone(hash_desk, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    write_story(folder, "a.md", 1)
    write_story(folder, "b.md", 1)
    hash_desk.index([folder])
    (folder / "b.md").unlink()
    kept = hash_desk.index([folder])
    assert counts(kept) == (0, 0, 1, 0, 0)
    assert sorted(s.doc_id for s in hash_desk.sources()) == ["a.md", "b.md"]
    pruned = hash_desk.index([folder], prune=True)
    assert counts(pruned) == (0, 0, 1, 1, 0)
    assert [s.doc_id for s in hash_desk.sources()] == ["a.md"]
    assert chunk_ids(hash_desk) == ["a.md#0"]


def test_prune_keeps_articles_of_other_folders(hash_desk, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    write_story(one, "a.md", 1)
    write_story(two, "b.md", 1)
    hash_desk.index([one])
    hash_desk.index([two])
    report = hash_desk.index([one], prune=True)
    assert counts(report) == (0, 0, 1, 0, 0)
    assert sorted(s.doc_id for s in hash_desk.sources()) == ["a.md", "b.md"]


def test_prune_removes_an_article_dropped_from_a_jsonl_file(hash_desk, tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text('{"id": "x", "text": "Ferry x sails."}\n{"id": "y", "text": "Ferry y sails."}\n')
    hash_desk.index([feed])
    feed.write_text('{"id": "x", "text": "Ferry x sails."}\n')
    assert counts(hash_desk.index([feed], prune=True)) == (0, 0, 1, 1, 0)
    assert [s.doc_id for s in hash_desk.sources()] == ["x"]


def test_bad_input_folder_indexes_the_good_and_names_the_bad(hash_desk, tmp_path, seed_copy):
    hash_desk.index([seed_copy])
    folder = seed_copy
    (folder / "good.md").write_text("---\ntitle: Good\ndate: 2023-12-20\n---\nThe good article about the ferry.")
    (folder / "empty.txt").write_text("")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02 binary")
    (folder / "feed.jsonl").write_text('{"id": "j1", "text": "Ferries resumed."}\n{broken\n')
    (folder / "no-text.md").write_text("---\ntitle: Nothing here\n---\n")
    (folder / "bad-date.md").write_text("---\ndate: 18/12/2023\n---\nA date that is no date.")
    shutil.copy(folder / "good.md", folder / "good-copy.md")
    (folder / SEED_ID).write_text("")  # the seed file broke after it was indexed
    (folder / "scan.pdf").write_bytes(b"%PDF-1.7")
    (folder / ".notes.txt").write_text("a hidden file is nobody's article")
    report = hash_desk.index([folder], prune=True)
    assert counts(report) == (2, 0, 0, 0, 8)
    assert sorted((Path(w).name, r) for w, r in report.failures) == [
        (SEED_ID, "article has no text"),
        ("bad-date.md", "unparseable date '18/12/2023' (expected YYYY-MM-DD)"),
        ("binary.txt", "binary file, not text"),
        ("empty.txt", "article has no text"),
        ("feed.jsonl:2", "malformed JSON: Expecting property name enclosed in double quotes"),
        ("good.md", f"duplicate of the article in {folder / 'good-copy.md'}"),
        ("no-text.md", "article has no text"),
        ("scan.pdf", "not an article file type (.pdf); use text (.txt, .md), HTML (.html) or JSON lines (.jsonl, .jsonl.gz)"),
    ]
    # Nothing already indexed is lost: the seed article survives its file breaking, even with --prune.
    assert sorted(s.doc_id for s in hash_desk.sources()) == [SEED_ID, "good-copy.md", "j1"]


def test_duplicate_ids_are_reported(hash_desk, tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text('{"id": "same", "text": "One."}\n{"id": "same", "text": "Two."}\n')
    report = hash_desk.index([feed])
    assert counts(report) == (1, 0, 0, 0, 1)
    assert report.failures == [(f"{feed}:2", f"duplicate article id 'same' (first in {feed}:1)")]


def test_indexing_with_another_model_is_refused(tmp_path, seed_copy):
    data = tmp_path / "data"
    make_desk(data, HashEmbeddings(), model_name="hash-64").index([seed_copy])
    other = make_desk(data, HashEmbeddings(), model_name="another-model")
    with pytest.raises(ModelMismatchError, match="built with the embedding model 'hash-64', not 'another-model'"):
        other.index([seed_copy])
    with pytest.raises(ModelMismatchError):
        other.search("crossings")


def test_one_index_run_at_a_time(hash_desk, seed_copy):
    started = []

    def progress(done, total):
        if not started:
            started.append(True)
            with pytest.raises(IndexBusyError, match="already in progress"):
                hash_desk.index([seed_copy])

    hash_desk.index([seed_copy], progress=progress)
    assert started == [True]


def indexed_story_folder(desk, tmp_path: Path) -> Path:
    """A folder with one story, indexed by `desk`."""
    folder = tmp_path / "articles"
    folder.mkdir()
    write_story(folder, "first.md", 1)
    desk.index([folder])
    return folder


def same_data_dir(tmp_path: Path, clock: Clock | None = None):
    """Another Newsdesk on `hash_desk`'s data directory, as a second process opens it; its BM25
    copy checks the store by `clock`."""
    return make_desk(tmp_path / "data", HashEmbeddings(), model_name="hash-64", clock=clock)


def test_another_process_sees_an_index_run_at_its_next_check(hash_desk, tmp_path):
    folder = indexed_story_folder(hash_desk, tmp_path)
    # A second process on the same data directory (the bot while `newsdesk index` runs).
    clock = Clock()  # stands still: no check is due until it is advanced
    bot = same_data_dir(tmp_path, clock)
    assert [cid for cid, _ in bot.lexical.current().search("Ferry first.md", 5)] == ["first.md#0"]
    generation = hash_desk.store.generation()

    assert hash_desk.index([folder]).changed is False
    assert hash_desk.store.generation() == generation, "a run that changed nothing starts no new generation"
    write_story(folder, "second.md", 1)
    assert hash_desk.index([folder]).added == 1
    assert hash_desk.store.generation() != generation

    assert bot.lexical.current().search("second", 5) == []  # until its next check it keeps its copy
    clock.advance(bot.lexical.check_seconds)
    assert bot.lexical.current().search("second", 5) == []  # the check starts a rebuild in the background...
    bot.lexical.wait()
    assert [cid for cid, _ in bot.lexical.current().search("second", 5)] == ["second.md#0"]  # ...then it is used


def test_a_failed_background_rebuild_keeps_the_current_copy_and_is_retried(hash_desk, tmp_path, caplog,
                                                                           monkeypatch):
    folder = indexed_story_folder(hash_desk, tmp_path)
    bot = same_data_dir(tmp_path, Clock(step=3600))  # a check is due at every look
    loaded = bot.lexical.current()
    write_story(folder, "second.md", 1)
    hash_desk.index([folder])

    def unreachable(generation):
        raise StoreUnavailableError("the vector store is unavailable: connection refused")

    monkeypatch.setattr(bot.lexical, "_load_or_build", unreachable)
    assert bot.lexical.current() is loaded  # the check starts a rebuild, which fails
    bot.lexical.wait()
    assert "could not rebuild the BM25 index" in caplog.text
    assert bot.lexical.current() is loaded  # still the copy it had; this check tries again (and fails)
    bot.lexical.wait()
    monkeypatch.undo()
    bot.lexical.current()
    bot.lexical.wait()
    assert [cid for cid, _ in bot.lexical.current().search("second", 5)] == ["second.md#0"]


def test_a_saved_bm25_copy_is_trusted_only_at_the_generation_it_was_built_at(hash_desk, tmp_path):
    indexed_story_folder(hash_desk, tmp_path)

    def scan_refused(*args, **kwargs):
        raise AssertionError("the store's chunks were read")

    restarted = same_data_dir(tmp_path)
    restarted.store.iter_chunks = scan_refused  # a start at the same generation reads no chunk
    assert [cid for cid, _ in restarted.lexical.current().search("first", 5)] == ["first.md#0"]

    hash_desk.store.delete(["first.md#0"])  # a write outside an index run starts a generation too
    again = same_data_dir(tmp_path)
    assert again.lexical.current().search("first", 5) == []


def test_searches_during_this_process_own_index_run_start_no_rebuild(tmp_path):
    desk = same_data_dir(tmp_path, Clock(step=3600))  # a check is due at every look
    folder = indexed_story_folder(desk, tmp_path)
    write_story(folder, "second.md", 1)
    seen = []

    def progress(done, total):  # called while the run writes, and its generations move
        desk.lexical.current()  # a due check, which would start a rebuild
        desk.lexical.wait()
        seen.append(desk.lexical.current().search("second", 5))

    desk.index([folder], progress=progress)
    assert seen and all(hits == [] for hits in seen)  # the copy from before the run, untouched meanwhile
    assert [cid for cid, _ in desk.lexical.current().search("second", 5)] == ["second.md#0"]  # swapped at its end


def write_legacy(desk, doc_id: str, texts: list[str], doc_hash: str) -> None:
    """Chunks as the code before article versions wrote them: no `version`, no record."""
    metas = [{"doc_id": doc_id, "doc_hash": doc_hash, "origin": f"/gone/{doc_id}", "title": "", "source": "",
              "date": "", "date_num": 0, "url": "", "start": i, "end": i + 1} for i in range(len(texts))]
    desk.store.add([f"{doc_id}#{i}" for i in range(len(texts))], texts,
                   desk.embeddings.embed_documents(texts), metas)


def test_an_index_built_before_versions_is_served_and_trusted_without_re_embedding(hash_desk, seed_copy):
    from retrieval.indexer import article_hash
    from retrieval.ingest import read_file

    [article] = read_file(seed_copy / SEED_ID, rel=SEED_ID)
    chunks = hash_desk.chunker.split(article)
    metas = [{"doc_id": SEED_ID, "doc_hash": article_hash(article), "origin": article.origin, "title": article.title,
              "source": article.source, "date": article.date.isoformat(), "date_num": 20231221, "url": "",
              "start": c.start, "end": c.end} for c in chunks]
    hash_desk.store.add([c.id for c in chunks], [c.text for c in chunks],
                        hash_desk.embeddings.embed_documents([f"{article.title}\n{c.text}" for c in chunks]), metas)
    assert [s.doc_id for s in hash_desk.sources()] == [SEED_ID]
    report = hash_desk.index([seed_copy])
    assert counts(report) == (0, 0, 1, 0, 0) and report.chunks_embedded == 0
    assert chunk_ids(hash_desk) == [f"{SEED_ID}#0", f"{SEED_ID}#1", f"{SEED_ID}#2"]
    assert hash_desk.store.records() == {}  # nothing was migrated: the old chunks are read as they are
    # with no record to list them, an article read whole is found by its `doc_id`
    assert [c.text for c in hash_desk.store.chunks_of(SEED_ID)] == [c.text for c in chunks]


def test_an_article_being_deleted_is_read_whole_as_no_chunks(hash_desk, tmp_path):
    from retrieval.store import TOMBSTONE

    folder = tmp_path / "articles"
    folder.mkdir()
    write_story(folder, "ferry.md", paragraphs=6)
    hash_desk.index([folder])
    assert len(hash_desk.store.chunks_of("ferry.md")) == 6
    # A deletion's first write: the record hidden (its old listing stays merged into it).
    hash_desk.store.commit({"ferry.md": {"version": TOMBSTONE, "doc_hash": "", "chunks": 0}})
    assert hash_desk.store.records()["ferry.md"]["title"] == "Ferry ferry.md"
    assert hash_desk.store.chunks_of("ferry.md") == []


def test_an_article_left_mixed_by_the_old_code_is_rewritten_whole(hash_desk, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    write_story(folder, "ferry.md", paragraphs=2)
    # What an interrupted update did before versions: new chunks over #0, #1, old #2..#4 left.
    write_legacy(hash_desk, "ferry.md", ["new 0", "new 1", "old 2", "old 3", "old 4"], "new-hash")
    hash_desk.store.add(["ferry.md#2"], ["old 2"], hash_desk.embeddings.embed_documents(["old 2"]),
                        [{"doc_id": "ferry.md", "doc_hash": "old-hash", "origin": str(folder / "ferry.md"),
                          "start": 2, "end": 3}])
    assert hash_desk.check().mixed == ["ferry.md"]
    assert counts(hash_desk.index([folder])) == (0, 1, 0, 0, 0)
    texts = [c.text for c in hash_desk.store.chunks_of("ferry.md")]
    assert len(texts) == 2 and all("Paragraph" in t for t in texts)
    assert len(chunk_ids(hash_desk)) == 2


def test_check_discards_an_unfinished_version_and_finishes_a_deletion(hash_desk, tmp_path):
    from retrieval.store import TOMBSTONE

    folder = indexed_story_folder(hash_desk, tmp_path)
    write_legacy(hash_desk, "half.md", ["part 0", "part 1"], "h")
    hash_desk.store.add(["v#0"], ["pending"], hash_desk.embeddings.embed_documents(["pending"]),
                        [{"doc_id": "first.md", "doc_hash": "next", "version": "next", "start": 0, "end": 1}])
    hash_desk.store.commit({"half.md": {"version": TOMBSTONE, "doc_hash": "", "chunks": 0}})
    assert [s.doc_id for s in hash_desk.sources()] == ["first.md"]  # neither the pending chunk nor the deleted
    report = hash_desk.check()
    assert report.to_dict() == {"articles": 1, "chunks": 1, "discarded_chunks": 1, "discarded_articles": ["first.md"],
                                "broken": [], "mixed": [], "tombstones": 1}
    assert chunk_ids(hash_desk) == ["first.md#0"] and list(hash_desk.store.records()) == ["first.md"]
    assert hash_desk.check().repaired == 0
    assert hash_desk.index([folder]).unchanged == 1


def test_an_article_over_the_size_limit_is_reported_and_its_indexed_version_kept(tmp_path):
    desk = make_desk(tmp_path / "data", HashEmbeddings(), model_name="hash-64", max_article_chars=2000)
    folder = tmp_path / "articles"
    folder.mkdir()
    write_story(folder, "ferry.md", paragraphs=2)
    desk.index([folder])
    size = len(write_story(folder, "ferry.md", paragraphs=6).read_text().split("---\n", 2)[2].strip())
    report = desk.index([folder], prune=True)
    assert counts(report) == (0, 0, 0, 0, 1)
    assert report.failures == [(str(folder / "ferry.md"), f"article is {size:,} characters long, over the limit "
                                                           "of 2,000 (MAX_ARTICLE_CHARS); skipped")]
    assert [s.chunks for s in desk.sources()] == [2]
