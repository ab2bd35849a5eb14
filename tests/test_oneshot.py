"""One-shot commands, each in a fresh process: they import only what they need (no torch to
answer a question, no model and no BM25 to list sources or print help) and answer as the
long-running process does."""

import json
import os
import shutil
import subprocess
import sys

import bm25s
import pytest

from retrieval.lexical import STOPWORDS_EN

from conftest import ROOT, SEEDS

MODEL_STACK = {"torch", "sentence_transformers", "transformers"}
RUNTIME = {"onnxruntime", "tokenizers"}

# Runs the CLI and reports which top-level packages the process imported, whatever it exits with.
WRAPPER = """
import atexit, json, sys
atexit.register(lambda: print("MODULES " + json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr))
from retrieval.cli import app
sys.argv = ["newsdesk", *sys.argv[1:]]
app()
"""


def fresh_env(data_dir) -> dict[str, str]:
    """This tree first on the path, the data directory given, the defaults for the rest."""
    return {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "NEWSDESK_DATA_DIR": str(data_dir),
            "CHROMA_HOST": "", "EMBEDDING_BACKEND": "auto", "LLM_PROVIDER": "none"}


def run_cli(data_dir, *args, stdin: str = "") -> tuple[subprocess.CompletedProcess, set[str]]:
    done = subprocess.run([sys.executable, "-c", WRAPPER, *args], cwd=data_dir, env=fresh_env(data_dir),
                          input=stdin, capture_output=True, text=True, timeout=300)
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES "))
    return done, set(json.loads(line.removeprefix("MODULES ")))


def test_ask_in_a_fresh_process_imports_no_torch_and_answers_as_torch_does(seed_desk, onnx_desk):
    done, modules = run_cli(onnx_desk.data_dir, "ask", "Which crossings closed?", "--json")
    assert done.returncode == 0, done.stderr
    assert modules & MODEL_STACK == set() and RUNTIME <= modules
    payload = json.loads(done.stdout)
    expected = seed_desk.ask("Which crossings closed?")
    assert (payload["answer"], [c["quote"] for c in payload["citations"]]) == (
        expected.text, [c.quote for c in expected.citations])
    assert done.stderr.startswith("MODULES "), "no warning: the export was found"


def test_chat_answers_without_torch(onnx_desk):
    done, modules = run_cli(onnx_desk.data_dir, "chat", stdin="Which crossings closed?\n")
    assert done.returncode == 0, done.stderr
    assert modules & MODEL_STACK == set() and "Eagle Pass" in done.stdout


@pytest.mark.parametrize("args", [["search", "Eagle Pass"], ["summary", "--topic", "border crossings"],
                                  ["index", str(SEEDS)]])
def test_search_summary_and_a_no_op_index_import_no_torch(onnx_desk, args):
    done, modules = run_cli(onnx_desk.data_dir, *args)
    assert done.returncode == 0, done.stderr
    assert modules & MODEL_STACK == set()


def test_indexing_prints_no_library_debug_lines(onnx_desk, tmp_path):
    # bm25s sets its own logger to DEBUG when imported; building an index must not print its lines.
    shutil.copytree(onnx_desk.data_dir / "models", tmp_path / "models")  # the export: no torch needed
    done, _ = run_cli(tmp_path, "index", str(SEEDS))
    assert done.returncode == 0, done.stderr
    assert "added 1, updated 0, unchanged 0, deleted 0, failed 0" in done.stdout
    assert [line for line in done.stderr.splitlines() if line.strip() and not line.startswith("MODULES ")] == []


@pytest.mark.parametrize("args", [["--help"], ["ask", "--help"], ["sources"]])
def test_listing_commands_import_no_model_and_no_bm25(onnx_desk, args):
    done, modules = run_cli(onnx_desk.data_dir, *args)
    assert done.returncode == 0, done.stderr
    assert modules & (MODEL_STACK | RUNTIME | {"bm25s"}) == set()
    if args[-1] == "--help":
        assert modules & {"chromadb", "langchain_core", "numpy"} == set()


def test_the_copied_stopwords_are_bm25s_own():
    assert STOPWORDS_EN == bm25s.stopwords.STOPWORDS_EN


# What `python -m bot` does before and while answering: build the Newsdesk from the settings,
# warm up (a search), then answer; the Discord connection itself is left out.
BOT = """
import json, sys
import bot.__main__
from bot.client import NewsdeskBot
from retrieval.config import RetrievalSettings
from retrieval.service import build_newsdesk
desk = build_newsdesk(RetrievalSettings())
desk.search("warm up", k=1)
answer = desk.ask("Which crossings closed?")
print(json.dumps({"answer": answer.text, "modules": sorted({m.split('.')[0] for m in sys.modules})}))
"""


def test_the_bots_answer_path_imports_no_torch(seed_desk, onnx_desk):
    done = subprocess.run([sys.executable, "-c", BOT], cwd=onnx_desk.data_dir, env=fresh_env(onnx_desk.data_dir),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "discord" in result["modules"] and MODEL_STACK & set(result["modules"]) == set()
    assert result["answer"] == seed_desk.ask("Which crossings closed?").text
