"""Server mode against a real `chroma run` started on 127.0.0.1 for this module."""

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from retrieval.errors import StoreUnavailableError

from conftest import SEED_ID, make_desk

pytestmark = pytest.mark.server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    chroma = Path(sys.executable).parent / "chroma"
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("chroma run did not start")
            time.sleep(0.2)
    yield port
    proc.terminate()
    proc.wait(timeout=20)


def test_index_and_ask_through_a_chroma_server(chroma_server, model, tmp_path, seed_copy):
    desk = make_desk(tmp_path / "one", model, chroma_host="127.0.0.1", chroma_port=chroma_server)
    assert desk.index([seed_copy]).added == 1
    assert not (tmp_path / "one" / "chroma").exists(), "server mode keeps no embedded store"

    # Another machine (a fresh data dir, no BM25 copy) sees the same index and rebuilds BM25 from it.
    other = make_desk(tmp_path / "two", model, chroma_host="127.0.0.1", chroma_port=chroma_server)
    other.lexical_check_seconds = 3600
    answer = other.ask("Which crossings closed?")
    assert [c.doc_id for c in answer.citations] == [SEED_ID]
    assert "San Ysidro" in answer.text and "El Paso" in answer.text
    assert other.index([seed_copy]).unchanged == 1

    # A changed article replaces its chunks on the server too, and BM25 follows.
    (seed_copy / SEED_ID).write_text((seed_copy / SEED_ID).read_text().replace("Lukeville", "Sasabe"))
    assert desk.index([seed_copy]).updated == 1
    assert "Sasabe" in other.ask("Which crossings closed?").text  # dense search reads the server live
    assert other.lexical_index().search("Sasabe", 5) == []  # a running process keeps its BM25 copy...
    other.lexical_check_seconds = 0
    other.lexical_index()  # ...until its next check, which rebuilds it in the background
    other.wait_for_lexical()
    [(chunk_id, _score)] = other.lexical_index().search("Sasabe", 5)
    assert chunk_id.startswith(SEED_ID)


def test_an_unreachable_server_is_a_clear_error(model, tmp_path):
    with pytest.raises(StoreUnavailableError, match="127.0.0.1:9"):
        make_desk(tmp_path, model, chroma_host="127.0.0.1", chroma_port=9)
