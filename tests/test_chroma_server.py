"""Server mode against a real `chroma run` started on 127.0.0.1 for this module."""

import pytest

from retrieval.errors import StoreUnavailableError

from bench.faults import start_server
from conftest import SEED_ID, Clock, make_desk

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    proc, port = start_server(tmp_path_factory.mktemp("chroma-server"))
    yield port
    proc.terminate()
    proc.wait(timeout=20)


def test_index_and_ask_through_a_chroma_server(chroma_server, model, tmp_path, seed_copy):
    desk = make_desk(tmp_path / "one", model, chroma_host="127.0.0.1", chroma_port=chroma_server)
    assert desk.index([seed_copy]).added == 1
    assert not (tmp_path / "one" / "chroma").exists(), "server mode keeps no embedded store"

    # Another machine (a fresh data dir, no BM25 copy) sees the same index and rebuilds BM25 from it.
    clock = Clock()  # stands still: no check is due until it is advanced
    other = make_desk(tmp_path / "two", model, chroma_host="127.0.0.1", chroma_port=chroma_server, clock=clock)
    answer = other.ask("Which crossings closed?")
    assert [c.doc_id for c in answer.citations] == [SEED_ID]
    assert "San Ysidro" in answer.text and "El Paso" in answer.text
    assert other.index([seed_copy]).unchanged == 1

    # A changed article replaces its chunks on the server too, and BM25 follows.
    (seed_copy / SEED_ID).write_text((seed_copy / SEED_ID).read_text().replace("Lukeville", "Sasabe"))
    assert desk.index([seed_copy]).updated == 1
    assert "Sasabe" in other.ask("Which crossings closed?").text  # dense search reads the server live
    assert other.lexical.current().search("Sasabe", 5) == []  # a running process keeps its BM25 copy...
    clock.advance(other.lexical.check_seconds)
    other.lexical.current()  # ...until its next check, which rebuilds it in the background
    other.lexical.wait()
    [(chunk_id, _score)] = other.lexical.current().search("Sasabe", 5)
    assert chunk_id.startswith(SEED_ID)


def test_an_unreachable_server_is_a_clear_error(model, tmp_path):
    with pytest.raises(StoreUnavailableError, match="127.0.0.1:9"):
        make_desk(tmp_path, model, chroma_host="127.0.0.1", chroma_port=9)


def test_a_frozen_then_stopped_server_is_one_line_and_the_desk_recovers(tmp_path, monkeypatch):
    import json
    import signal

    from typer.testing import CliRunner

    from retrieval.cli import app

    from conftest import HashEmbeddings

    server, port = start_server(tmp_path / "server")
    try:
        desk = make_desk(tmp_path / "data", HashEmbeddings(), model_name="hash-64", chroma_host="127.0.0.1",
                         chroma_port=port, store_timeout_s=2)
        (tmp_path / "a.md").write_text("The harbour ferry sailed at dawn.")
        assert desk.index([tmp_path / "a.md"]).added == 1
        monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
        monkeypatch.setenv("CHROMA_PORT", str(port))
        monkeypatch.setenv("STORE_TIMEOUT_S", "2")
        runner = CliRunner()

        server.send_signal(signal.SIGSTOP)  # frozen: accepts connections, never answers
        try:
            with pytest.raises(StoreUnavailableError, match="did not answer within 2 s"):
                desk.store.dense_search(HashEmbeddings().embed_query("ferry"), k=3)
            frozen = runner.invoke(app, ["--data-dir", str(tmp_path / "cli"), "ask", "ferry?", "--json"])
        finally:
            server.send_signal(signal.SIGCONT)
        assert frozen.exit_code == 1
        assert json.loads(frozen.stdout) == {
            "error": f"cannot reach the Chroma server at 127.0.0.1:{port}: the vector store did not answer within 2 s",
            "kind": "store_unavailable"}
        # The same desk recovers by itself once the server answers again.
        [(chunk, _)] = desk.store.dense_search(HashEmbeddings().embed_query("ferry"), k=3)
        assert chunk.id == "a.md#0"

        server.terminate()
        server.wait(timeout=30)
        stopped = runner.invoke(app, ["--data-dir", str(tmp_path / "cli"), "ask", "ferry?"])
        assert stopped.exit_code == 1
        assert stopped.stderr.startswith(f"error: cannot reach the Chroma server at 127.0.0.1:{port}")
        assert len(stopped.stderr.strip().splitlines()) == 1 and "Traceback" not in stopped.output
        index = runner.invoke(app, ["--data-dir", str(tmp_path / "cli"), "index", str(tmp_path / "a.md"), "--json"])
        assert index.exit_code == 1 and json.loads(index.stdout)["kind"] == "store_unavailable"
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=30)


def test_two_writers_on_one_server_take_turns_through_a_lease(chroma_server, tmp_path):
    from retrieval.errors import IndexBusyError

    from conftest import HashEmbeddings

    one = make_desk(tmp_path / "one", HashEmbeddings(), model_name="hash-64", chroma_host="127.0.0.1",
                    chroma_port=chroma_server, chroma_collection="leases")
    two = make_desk(tmp_path / "two", HashEmbeddings(), model_name="hash-64", chroma_host="127.0.0.1",
                    chroma_port=chroma_server, chroma_collection="leases")
    (tmp_path / "a.md").write_text("The harbour ferry sailed at dawn.")
    with one.writer_lock.hold():
        with pytest.raises(IndexBusyError, match="another index run is writing to this archive"):
            two.index([tmp_path / "a.md"])
    assert two.index([tmp_path / "a.md"]).added == 1  # released: the lease is gone
