"""The torch-free query path: ONNX vectors match sentence-transformers', and so do answers."""

import datetime as dt
import json
import os

import numpy as np
import pytest

from retrieval.answer_model import PACKAGED
from retrieval.answers import ABSTAIN_NO_ANSWER, ABSTAIN_OFF_TOPIC, ABSTAIN_STALE, Composer
from retrieval.embeddings import LazyEmbeddings, ModelEmbeddings, resolve_model_path
from retrieval.onnx_embeddings import (
    DATA_FILE, EXPORT_FILE, EXPORT_VERSION, RECORD_FILE, ExportError, ModelLayout, OnnxEmbeddings, cpu_session,
    current_export, export_folder,
)
from retrieval.search import Searcher
from retrieval.service import Newsdesk

from conftest import ROOT, HashEmbeddings

DEV_QUESTIONS = ROOT.parent / "shared" / "eval" / "natural-dev" / "questions.jsonl"

QUESTIONS = [
    "Which crossings closed?",
    "what did biden and the mexican president agree on",
    "How many migrants crossed the border?",
    "Who won the 2022 World Cup?",
    "   padded with spaces   ",
    "x",
]


def seed_sentences(desk) -> list[str]:
    from retrieval.sentences import sentence_spans

    chunks = desk.store.all_chunks()
    return [c.text[start:end] for c in chunks for start, end in sentence_spans(c.text)] + [c.text for c in chunks]


def onnx_of(desk: Newsdesk) -> OnnxEmbeddings:
    chosen = desk.embeddings.chosen
    assert isinstance(chosen, OnnxEmbeddings), "the entry points' embeddings use the export"
    return chosen


def cosines(texts, model, onnx) -> np.ndarray:
    torch_vectors = np.asarray(model.embed_documents(texts))
    onnx_vectors = np.asarray(onnx.embed_documents(texts))
    assert onnx_vectors.shape == torch_vectors.shape == (len(texts), 384)
    assert np.linalg.norm(onnx_vectors, axis=1) == pytest.approx(np.ones(len(texts)), abs=1e-5)
    return np.sum(torch_vectors * onnx_vectors, axis=1)


def test_onnx_vectors_match_torch_on_questions_sentences_and_long_text(model, onnx_desk):
    # A text far beyond 256 tokens checks that both truncate alike.
    texts = QUESTIONS + seed_sentences(onnx_desk) + [" ".join(seed_sentences(onnx_desk))]
    onnx = onnx_of(onnx_desk)
    assert cosines(texts, model, onnx).min() >= 0.9999
    # Batched, texts are padded to the longest: the attention mask must keep the padding out.
    batched = OnnxEmbeddings(onnx.onnx_path, onnx.layout, batch_size=32)
    assert cosines(texts, model, batched).min() >= 0.9999
    assert np.asarray(onnx_of(onnx_desk).embed_query(QUESTIONS[0])) == pytest.approx(
        np.asarray(model.embed_query(QUESTIONS[0])), abs=1e-4)


def test_runs_of_four_give_the_vectors_of_one_at_a_time(onnx_desk):
    # Padding a text to its batch's longest must change nothing (the mask keeps it out), so
    # that batching is a question of speed alone.
    texts = QUESTIONS + seed_sentences(onnx_desk)
    onnx = onnx_of(onnx_desk)
    assert onnx.batch_size == 4
    alone = OnnxEmbeddings(onnx.onnx_path, onnx.layout, batch_size=1)
    assert np.asarray(onnx.embed_documents(texts)) == pytest.approx(np.asarray(alone.embed_documents(texts)), abs=1e-6)


def test_an_ask_runs_the_model_on_its_question_once(onnx_desk, monkeypatch):
    onnx = onnx_of(onnx_desk)
    embedded: list[str] = []
    original = onnx.embed_documents
    monkeypatch.setattr(onnx, "embed_documents", lambda texts: embedded.extend(texts) or original(texts))
    question = "Which rail crossings closed on Dec. 18?"
    answer = onnx_desk.ask(question)
    assert not answer.abstained
    # the search embedded it; ranking the sentences took the kept vector
    assert embedded.count(question) == 1
    assert len(embedded) > 1, "the best sentences were embedded too"
    embedded.clear()
    assert onnx_desk.ask(question).text == answer.text
    assert question not in embedded


def test_query_vectors_are_kept_for_the_last_few_texts():
    calls: list[str] = []

    class Counting(HashEmbeddings):
        def embed_query(self, text: str) -> list[float]:
            calls.append(text)
            return super().embed_query(text)

    embeddings = ModelEmbeddings("hash", None)
    embeddings._chosen = Counting()
    first = embeddings.embed_query("which crossings closed?")
    first.append(99.0)  # a caller's change to its copy is not kept
    assert embeddings.embed_query("which crossings closed?") == HashEmbeddings().embed_query("which crossings closed?")
    assert calls == ["which crossings closed?"]
    for n in range(ModelEmbeddings.QUERIES_KEPT):
        embeddings.embed_query(f"question {n}")
    embeddings.embed_query("which crossings closed?")  # the oldest was let go
    assert calls.count("which crossings closed?") == 2
    assert len(embeddings._queries) == ModelEmbeddings.QUERIES_KEPT


@pytest.mark.skipif(not DEV_QUESTIONS.is_file(), reason=f"the dev set is not at {DEV_QUESTIONS}")
def test_onnx_vectors_match_torch_on_the_dev_sets_questions_and_sentences(model, onnx_desk):
    records = [json.loads(line) for line in DEV_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [r["question"] for r in records] + [r["evidence"] for r in records if r.get("evidence")]
    assert len(texts) > 200
    assert cosines(texts, model, onnx_of(onnx_desk)).min() >= 0.9999


# Answers, and each of the three reasons to abstain.
ASKED = [("Which crossings closed?", None), ("How many migrants crossed?", None),
         ("Which crossings closed this week?", dt.date(2023, 12, 22)),
         ("Who is the new border patrol chief?", None), ("Which cartel controls the border?", None),
         ("Who won the 2022 World Cup?", None), ("Which crossings closed this week?", dt.date(2024, 1, 20))]


def outcome(answer) -> tuple:
    return (answer.text, answer.abstained_because, [(c.n, c.doc_id, c.quote) for c in answer.citations],
            [p.chunk_id for p in answer.passages], round(answer.evidence or 0.0, 3))


def test_the_same_answers_and_citations_through_both_paths(seed_desk, onnx_desk):
    # seed_desk: indexed and asked through sentence-transformers; onnx_desk: through ONNX;
    # mixed: the torch-built index asked through ONNX.
    onnx = onnx_of(onnx_desk)
    mixed = seed_desk.with_parts(embeddings=onnx, searcher=Searcher(seed_desk.store, onnx, seed_desk.lexical.current),
                                 composer=Composer(onnx, seed_desk.composer.options, idf=seed_desk.lexical.idf,
                                                   answer_model=seed_desk.composer.answer_model))
    outcomes = [[outcome(desk.ask(q, as_of=as_of)) for q, as_of in ASKED] for desk in (seed_desk, onnx_desk, mixed)]
    assert outcomes[0] == outcomes[1] == outcomes[2]
    assert [o[1] for o in outcomes[0]] == ["", "", "", ABSTAIN_NO_ANSWER, ABSTAIN_NO_ANSWER, ABSTAIN_OFF_TOPIC,
                                          ABSTAIN_STALE]


def test_the_export_is_recorded_and_reused(onnx_desk):
    folder = export_folder(onnx_desk.data_dir, "all-MiniLM-L6-v2")
    assert sorted(p.name for p in folder.iterdir()) == sorted([EXPORT_FILE, DATA_FILE, RECORD_FILE])
    record = json.loads((folder / RECORD_FILE).read_text())
    layout = ModelLayout.read(resolve_model_path("all-MiniLM-L6-v2"))
    assert (record["version"], record["weights"]["path"], record["fused"]) == (EXPORT_VERSION, str(layout.weights), True)
    assert current_export(folder, layout) == folder / EXPORT_FILE


def fake_export(tmp_path, weights: bytes):
    """A model folder and an export folder whose record matches the model's weights file."""
    from retrieval.onnx_embeddings import _weights_record

    model_dir, folder = tmp_path / "model", tmp_path / "export"
    model_dir.mkdir()
    folder.mkdir()
    (model_dir / "model.safetensors").write_bytes(weights)
    layout = ModelLayout(model_dir, model_dir / "model.safetensors", 256)
    (folder / EXPORT_FILE).write_bytes(b"graph")
    (folder / DATA_FILE).write_bytes(b"weights")
    record = {"version": EXPORT_VERSION, "weights": _weights_record(layout.weights)}
    (folder / RECORD_FILE).write_text(json.dumps(record))
    return layout, folder, record


def test_an_export_of_other_weights_is_not_used(tmp_path):
    layout, folder, record = fake_export(tmp_path, b"weights one")
    assert current_export(folder, layout) == folder / EXPORT_FILE
    os.utime(layout.weights, ns=(1, 1))  # touched (a reinstall), same bytes: hashed, and remembered
    assert current_export(folder, layout) == folder / EXPORT_FILE
    assert json.loads((folder / RECORD_FILE).read_text())["weights"]["mtime_ns"] == 1
    layout.weights.write_bytes(b"weights two")  # same size, other bytes
    assert current_export(folder, layout) is None
    (folder / RECORD_FILE).write_text(json.dumps({**record, "version": EXPORT_VERSION - 1}))
    assert current_export(folder, layout) is None


def test_models_onnx_cannot_reproduce_stay_on_sentence_transformers(tmp_path):
    model_dir = tmp_path / "cls-pooled"
    (model_dir / "1_Pooling").mkdir(parents=True)
    (model_dir / "modules.json").write_text(json.dumps([
        {"path": "", "type": "sentence_transformers.models.Transformer"},
        {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]))
    (model_dir / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    with pytest.raises(ExportError, match="only mean pooling"):
        ModelLayout.read(model_dir)
    embeddings = ModelEmbeddings(str(model_dir), tmp_path / "export")
    assert isinstance(embeddings.chosen, LazyEmbeddings)  # chosen without loading anything
    assert not (tmp_path / "export").exists()
    assert isinstance(ModelEmbeddings("all-MiniLM-L6-v2", tmp_path / "export", backend="torch").chosen, LazyEmbeddings)


def test_sessions_let_idle_threads_sleep_unless_asked_to_spin():
    # An ask alternates between two sessions; spinning threads of one slow the other (bench.ask_variants).
    def spinning(session) -> str:
        return session.get_session_options().get_session_config_entry("session.intra_op.allow_spinning")

    model = PACKAGED / "model.onnx"
    assert (spinning(cpu_session(model)), spinning(cpu_session(model, spinning=True))) == ("0", "1")
