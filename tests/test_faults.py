"""Fault injection with real processes: `kill -9` at chosen writes, two indexers at once.

The indexer runs in a child process (`python -m bench.faults child index`, hashing embedder)
that SIGKILLs itself after its Nth write to the store; another child reads what a reader
would see. Every article must be wholly one version, and the next run must finish the job.
"""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.faults import ROOT, expected_versions, last_json, run_child, story


def index(data: Path, folder: Path, *extra: str) -> dict:
    return run_child("index", str(data), str(folder), *extra)


def state(data: Path) -> dict[str, list[str]]:
    result = run_child("state", str(data))
    assert result["rc"] == 0, result["err"]
    seen = last_json(result["out"])
    assert seen["whole"] == seen["articles"], "an article read whole is its committed version, whole"
    return seen["articles"]


def write(folder: Path, version: int, paragraphs: dict[str, int]) -> dict[str, str]:
    folder.mkdir(exist_ok=True)
    texts = {doc: story(doc, version, n) for doc, n in paragraphs.items()}
    for doc, text in texts.items():
        (folder / doc).write_text(text)
    return texts


def chunks_of(folder: Path, texts: dict[str, str]) -> dict[str, list[str]]:
    return {doc: versions[0] for doc, versions in expected_versions(folder, {d: [t] for d, t in texts.items()}).items()}


def test_kill_during_an_update_leaves_old_versions_whole_and_the_rerun_finishes(tmp_path):
    data, folder = tmp_path / "data", tmp_path / "articles"
    small = {f"s{i:02d}.md": 4 for i in range(40)}
    old = write(folder, 1, small)
    sizes = [len(chunks) for _, chunks in sorted(chunks_of(folder, old).items())]
    assert sizes == [2] * 40  # 80 chunks: a first batch of 64 (32 articles), then 16
    assert json.loads(index(data, folder)["out"].splitlines()[-1])["added"] == 40
    new = write(folder, 2, small)
    killed = index(data, folder, "--kill-after", "1")  # after the first batch of new chunks is written
    assert killed["killed"] and killed["rc"] == -signal.SIGKILL
    assert state(data) == chunks_of(folder, old)  # every article wholly its old version

    rerun = last_json(index(data, folder)["out"])
    assert (rerun["updated"], rerun["unchanged"], rerun["repaired"]) == (40, 0, 32)
    assert state(data) == chunks_of(folder, new)
    again = last_json(index(data, folder)["out"])
    assert (again["updated"], again["unchanged"], again["chunks_embedded"]) == (0, 40, 0)


def test_kill_between_the_switch_and_the_deletion_shows_only_the_new_version(tmp_path):
    data, folder = tmp_path / "data", tmp_path / "articles"
    write(folder, 1, {"a.md": 2})
    index(data, folder)
    new = write(folder, 2, {"a.md": 1})
    # writes: the chunks, the switch of the record, then the deletion of the old chunks
    assert index(data, folder, "--kill-after", "2")["killed"]
    assert state(data) == chunks_of(folder, new)
    rerun = last_json(index(data, folder)["out"])
    assert (rerun["unchanged"], rerun["repaired"], rerun["writes"]) == (1, 1, ["delete"])


def test_kill_inside_a_long_article_hides_it_until_a_rerun_adds_it_whole(tmp_path):
    data, folder = tmp_path / "data", tmp_path / "articles"
    texts = write(folder, 1, {"long.md": 150})
    assert len(chunks_of(folder, texts)["long.md"]) == 75  # written in two batches of at most 64
    assert index(data, folder, "--kill-after", "1")["killed"]
    assert state(data) == {}
    rerun = last_json(index(data, folder)["out"])
    assert (rerun["added"], rerun["repaired"], rerun["chunks_embedded"]) == (1, 1, 75)
    assert state(data) == chunks_of(folder, texts)


def test_kill_during_a_prune_deletes_the_article_or_keeps_it_whole(tmp_path):
    data, folder = tmp_path / "data", tmp_path / "articles"
    texts = write(folder, 1, {"a.md": 1, "b.md": 1})
    index(data, folder)
    (folder / "b.md").unlink()
    assert index(data, folder, "--prune", "--kill-after", "1")["killed"]  # after the tombstone
    assert state(data) == chunks_of(folder, {"a.md": texts["a.md"]})
    rerun = last_json(index(data, folder, "--prune")["out"])
    assert (rerun["unchanged"], rerun["deleted"], rerun["repaired"]) == (1, 0, 1)


def flock_held(path: Path) -> bool:
    """Whether some process holds a `flock` on `path` (Linux's /proc/locks), looked up without
    taking the lock, which would make its holder wait."""
    if not path.exists():
        return False
    inode = path.stat().st_ino
    return any(f[1] == "FLOCK" and f[5].endswith(f":{inode}")
               for f in (line.split() for line in Path("/proc/locks").read_text().splitlines()) if len(f) > 5)


def test_two_indexers_on_one_data_directory_take_turns(tmp_path):
    data = tmp_path / "data"
    one = write(tmp_path / "one", 1, {f"one-{i}.md": 60 for i in range(3)})
    two = write(tmp_path / "two", 1, {f"two-{i}.md": 2 for i in range(3)})
    env = {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}

    def start(name):
        return subprocess.Popen([sys.executable, "-m", "bench.faults", "child", "index", str(data),
                                 str(tmp_path / name), "--slow-ms", "20"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    # The second starts once the first holds the lock: started together, a busy machine could
    # let the first finish before the second asks, and nobody would wait.
    first = start("one")
    deadline = time.monotonic() + 60
    while not flock_held(data / "index.lock") and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    procs = [first, start("two")]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _, err in results]
    reports = [last_json(out) for out, _ in results]
    assert sorted(r["added"] for r in reports) == [3, 3]
    assert sorted(r["waited"] for r in reports) == [False, True]  # the second waited for the first
    assert state(data) == {**chunks_of(tmp_path / "one", one), **chunks_of(tmp_path / "two", two)}


def test_a_busy_index_without_waiting_says_so_and_exits_3(tmp_path):
    from typer.testing import CliRunner

    from retrieval.cli import app
    from retrieval.writelock import FileWriterLock

    data = tmp_path / "data"
    (tmp_path / "a.md").write_text("A story about the harbour ferry.")
    with FileWriterLock(data / "index.lock").hold():
        result = CliRunner().invoke(app, ["--data-dir", str(data), "index", str(tmp_path / "a.md"), "--no-wait",
                                          "--json"])
    assert result.exit_code == 3
    assert json.loads(result.stdout) == {
        "error": "another index run is writing to this archive; try again when it has finished", "kind": "busy"}
