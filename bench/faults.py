"""Fault injection: kill indexers at random moments and check that no article is ever mixed.

    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.faults --kills 50           # embedded, then a server
    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.faults --kills 10 --seed 3 --no-server

Each round writes a change to a small archive (new articles, new versions of some, deleted
files with --prune), starts `index` in a real process, and `kill -9`s it at a random moment
of its writes; another process then reads what a reader would see, and every article must be
wholly one version of it. A run to completion follows, after which the store must equal the
files exactly. On a `chroma run` server the same rounds run, then the server is frozen with
SIGSTOP and a reader must give up with an error within its timeout. (A writer killed on a server
holds its lease until it expires: 5 s here, INDEX_LEASE_S in production.) It prints: runs, kills,
articles checked, articles found mixed or partial (must be 0), commands that hung (must be 0).

The processes use a hashing embedder (no model: each process starts in ~3 s rather than 15),
slowed by `--slow-ms` per chunk so that kills land inside the writes rather than after them.

`child` is the process side, also used by tests/test_faults.py:

    python -m bench.faults child index DATA_DIR PATH... [--kill-after N] [--prune] [--server PORT]
    python -m bench.faults child state DATA_DIR [--server PORT]
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib
from pathlib import Path
from typing import Annotated, Optional

import typer
from langchain_core.embeddings import Embeddings

ROOT = Path(__file__).resolve().parent.parent
CHILD_TIMEOUT_S = 120


class SlowHashEmbeddings(Embeddings):
    """Token counts hashed into 64 buckets, normalised; `slow_ms` of sleep per text."""

    def __init__(self, slow_ms: float = 0.0):
        self.slow_ms = slow_ms

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        time.sleep(self.slow_ms * len(texts) / 1000)
        return [self.embed_query(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        vector = [0.0] * 64
        for token in text.lower().split():
            vector[zlib.crc32(token.encode()) % 64] += 1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]


# -- the process side ----------------------------------------------------------------------
def _desk(data_dir: Path, server: int | None, slow_ms: float = 0.0, timeout_s: float = 15.0):
    from retrieval.config import RetrievalSettings
    from retrieval.service import build_newsdesk

    settings = RetrievalSettings(_env_file=None, newsdesk_data_dir=data_dir, embedding_model="hash-64",
                                 chroma_host="127.0.0.1" if server else None, chroma_port=server or 8000,
                                 store_timeout_s=timeout_s, index_lease_s=5.0)
    return build_newsdesk(settings, embeddings=SlowHashEmbeddings(slow_ms))


app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
child = typer.Typer(help="The process side: one indexer or one reader (tests/test_faults.py runs them too).")
app.add_typer(child, name="child")


@child.command("index")
def child_index(data_dir: Path, paths: list[Path],
                kill_after: Annotated[int, typer.Option(help="SIGKILL this process after its Nth write.")] = 0,
                prune: Annotated[bool, typer.Option("--prune")] = False,
                server: Optional[int] = None, slow_ms: float = 0.0) -> None:
    """Index PATHS into DATA_DIR, saying "ready" first and the report last."""
    desk = _desk(data_dir, server, slow_ms)
    writes = []

    def on_write(what: str) -> None:
        writes.append(what)
        if kill_after and len(writes) >= kill_after:
            os.kill(os.getpid(), signal.SIGKILL)  # a real kill -9, at a chosen write

    print("ready", flush=True)
    waited = []
    began = time.monotonic()
    report = desk.index(paths, prune=prune, wait=True,
                        on_wait=lambda: waited.append(True), on_write=on_write)
    print(json.dumps({**report.to_dict(), "writes": writes, "waited": bool(waited),
                      "seconds": time.monotonic() - began}), flush=True)


@child.command("state")
def child_state(data_dir: Path, server: Optional[int] = None, timeout: float = 15.0) -> None:
    """What a reader sees: every visible article's chunk texts in text order, and search hits."""
    from retrieval.errors import NewsdeskError

    try:
        desk = _desk(data_dir, server, timeout_s=timeout)
        chunks = desk.store.all_chunks()
        articles: dict[str, list] = {}
        for chunk in sorted(chunks, key=lambda c: (c.metadata["doc_id"], c.metadata["start"])):
            articles.setdefault(chunk.metadata["doc_id"], []).append(chunk.text)
        # Each article as the composer reads one whole (by the chunk ids its record lists).
        whole = {doc_id: [c.text for c in desk.store.chunks_of(doc_id)] for doc_id in articles}
        hits = [c.metadata["doc_id"] + "\t" + c.text for c, _ in
                desk.store.dense_search(SlowHashEmbeddings().embed_query("harbour ferry version"), k=200)]
    except NewsdeskError as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
        raise typer.Exit(1) from None
    print(json.dumps({"articles": articles, "whole": whole, "hits": hits}), flush=True)


def run_child(*argv: str, kill_after_s: float | None = None, timeout_s: float = CHILD_TIMEOUT_S) -> dict:
    """Run a child; with `kill_after_s`, SIGKILL it that long after it says it is ready.
    Returns {"rc", "out", "killed", "hung"}."""
    # `-m` in the checkout (cwd=ROOT) puts it first on the child's import path.
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "bench.faults", "child", *argv], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = hung = False
    started = time.monotonic()
    if kill_after_s is not None:
        line = proc.stdout.readline()
        if line.strip() == "ready":
            time.sleep(kill_after_s)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                killed = True
    try:
        out, err = proc.communicate(timeout=max(timeout_s - (time.monotonic() - started), 1))
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        hung = True
    if proc.returncode == -signal.SIGKILL and kill_after_s is None:
        killed = True  # killed itself through --kill-after
    return {"rc": proc.returncode, "out": out, "err": err, "killed": killed, "hung": hung}


def last_json(text: str) -> dict | None:
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return None


# -- the archive and what it must look like ------------------------------------------------------
def story(doc: str, version: int, paragraphs: int) -> str:
    body = "\n\n".join(f"Paragraph {i} of {doc}, version {version}: the harbour ferry sailed at dawn "
                       f"and version {version} of the report says so plainly. " * 3 for i in range(paragraphs))
    return f"---\ntitle: Ferry {doc}\ndate: 2023-12-{1 + version % 27:02d}\n---\n{body}\n"


def expected_versions(folder: Path, history: dict[str, list[str]]) -> dict[str, list[list[str]]]:
    """For each article, the chunk texts of every version it has had."""
    from retrieval.chunking import Chunker
    from retrieval.ingest import parse_markdown

    chunker = Chunker()
    out = {}
    for doc, texts in history.items():
        out[doc] = [[c.text for c in chunker.split(parse_markdown(t, doc_id=doc, origin=str(folder / doc)))]
                    for t in texts]
    return out


def classify(state: dict, versions: dict[str, list[list[str]]]) -> tuple[int, list[str]]:
    """(articles checked, those visible as neither wholly one version nor absent)."""
    bad = []
    for doc, texts in state["articles"].items():
        if texts not in versions.get(doc, []):
            bad.append(doc)
    visible = {doc: set(texts) for doc, texts in state["articles"].items()}
    for hit in state["hits"]:
        doc, text = hit.split("\t", 1)
        if text not in visible.get(doc, set()) and doc not in bad:
            bad.append(doc)  # search returned a chunk the article's committed version lacks
    return len(state["articles"]), bad


class Campaign:
    def __init__(self, rng: random.Random, server: int | None, slow_ms: float):
        self.rng = rng
        self.server = server
        self.slow_ms = slow_ms
        self.runs = self.kills = self.checked = self.hung = 0
        self.bad: list[str] = []

    def _index(self, data: Path, folder: Path, prune: bool, kill: float | None) -> dict:
        argv = ["index", str(data), str(folder), "--slow-ms", str(self.slow_ms)]
        argv += ["--prune"] if prune else []
        argv += ["--server", str(self.server)] if self.server else []
        self.runs += 1
        result = run_child(*argv, kill_after_s=kill)
        self.kills += result["killed"]
        self.hung += result["hung"]
        if not result["killed"] and not result["hung"] and result["rc"] not in (0,):
            raise SystemExit(f"index failed unexpectedly:\n{result['err'][-3000:]}")
        return result

    def _check(self, data: Path, versions: dict, exact: dict | None = None) -> None:
        argv = ["state", str(data)] + (["--server", str(self.server)] if self.server else [])
        self.runs += 1
        result = run_child(*argv)
        self.hung += result["hung"]
        state = last_json(result["out"])
        if state is None or "articles" not in state:
            raise SystemExit(f"state failed:\n{result['err'][-3000:]}")
        checked, bad = classify(state, versions)
        self.checked += checked
        self.bad += bad
        if exact is not None and state["articles"] != exact:
            self.bad += sorted(set(exact) ^ set(state["articles"])) or ["<final state differs>"]

    def run(self, data: Path, folder: Path, rounds: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        history: dict[str, list[str]] = {}
        current: dict[str, int] = {}
        serial = 0
        duration = 3.0  # seconds an index run writes for; measured on the runs to completion
        for _ in range(rounds):
            op = self.rng.choice(["add", "update", "update", "prune"] if current else ["add"])
            prune = False
            if op == "add" or len(current) < 3:
                for _ in range(self.rng.randint(2, 5)):
                    serial += 1
                    doc = f"story-{serial:03d}.md"
                    current[doc] = 1
            elif op == "update":
                for doc in self.rng.sample(sorted(current), k=max(1, len(current) // 2)):
                    current[doc] += 1
            else:
                for doc in self.rng.sample(sorted(current), k=max(1, len(current) // 4)):
                    del current[doc]
                    (folder / doc).unlink()
                prune = True
            for doc, version in current.items():
                # One long article in every few: many batches, the case of the 2,090-chunk one.
                paragraphs = 150 if doc.endswith(("1.md", "7.md")) else self.rng.randint(1, 6)
                text = story(doc, version, paragraphs)
                if not history.get(doc) or history[doc][-1] != text:
                    history.setdefault(doc, []).append(text)
                    (folder / doc).write_text(text)
            versions = expected_versions(folder, history)
            self._index(data, folder, prune, kill=self.rng.uniform(0, duration))
            self._check(data, versions)
            done = last_json(self._index(data, folder, prune, kill=None)["out"]) or {}
            duration = max(0.3, done.get("seconds", duration))
            final = {doc: versions[doc][-1] for doc in current}
            self._check(data, versions, exact=final)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(path: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen([str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            return proc, port
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("chroma run did not start")
            time.sleep(0.2)


def frozen_server_probe(campaign: Campaign, data: Path, server: subprocess.Popen) -> str:
    """SIGSTOP the server: a reader with a 3 s timeout must fail with a message, not hang."""
    server.send_signal(signal.SIGSTOP)
    try:
        began = time.monotonic()
        result = run_child("state", str(data), "--server", str(campaign.server), "--timeout", "3", timeout_s=60)
        campaign.runs += 1
        campaign.hung += result["hung"]
        said = (last_json(result["out"]) or {}).get("error", "")
        return f"frozen server: exit {result['rc']} after {time.monotonic() - began:.1f} s: {said}"
    finally:
        server.send_signal(signal.SIGCONT)


@app.callback(invoke_without_command=True)
def main(ctx: typer.Context,
         kills: Annotated[int, typer.Option(help="Rounds (each with one kill attempt) in all.")] = 50,
         seed: int = 11, slow_ms: float = 20.0,
         no_server: Annotated[bool, typer.Option("--no-server", help="The embedded store only.")] = False) -> None:
    """Fault injection: kill indexers at random moments and check that no article is ever mixed."""
    if ctx.invoked_subcommand is not None:
        return  # `child …`: the process side
    rng = random.Random(seed)
    lines = []
    totals = Campaign(rng, None, slow_ms)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        kinds = ["embedded"] + ([] if no_server else ["server"])
        for kind in kinds:
            began = time.monotonic()
            server = port = None
            if kind == "server":
                server, port = start_server(root / "server")
            campaign = Campaign(rng, port, slow_ms)
            try:
                rounds = kills // len(kinds) if kind == "embedded" else kills - kills // len(kinds)
                campaign.run(root / f"{kind}-data", root / f"{kind}-articles", rounds)
                if server is not None:
                    lines.append(frozen_server_probe(campaign, root / f"{kind}-data", server))
            finally:
                if server is not None:
                    server.terminate()
                    server.wait(timeout=30)
            lines.append(f"{kind}: runs {campaign.runs}, kills {campaign.kills}, articles checked {campaign.checked}, "
                         f"mixed or partial {len(campaign.bad)}, hung {campaign.hung} ({time.monotonic() - began:.0f} s)")
            for name in ("runs", "kills", "checked", "hung"):
                setattr(totals, name, getattr(totals, name) + getattr(campaign, name))
            totals.bad += campaign.bad
    print("\n".join(lines))
    print(f"total: runs {totals.runs}, kills {totals.kills}, articles checked {totals.checked}, "
          f"mixed or partial {len(totals.bad)}{' ' + str(sorted(set(totals.bad))[:5]) if totals.bad else ''}, "
          f"hung {totals.hung}")
    if totals.bad or totals.hung:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
