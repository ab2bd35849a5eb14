"""What a one-shot `newsdesk` command costs: wall time and peak memory, each in a fresh process.

    .venv/bin/python -m bench.oneshot                 # 5 rounds over the seed, in a temporary data dir
    .venv/bin/python -m bench.oneshot --rounds 9 --question "Which crossings closed?"

A person at a terminal, a cron job or a chat-ops hook starts a new process for every command,
so what matters is process start to answer. Each round runs `newsdesk --help`, `sources`,
`ask` through the ONNX export (the default) and `ask` with EMBEDDING_BACKEND=torch
(sentence-transformers, the path before the export existed), interleaved so that load on a
shared machine falls on all alike, and what the bot does before it connects (import it,
build the Newsdesk, warm up with a search) both ways; it prints the median, min and max wall time and peak RSS
(the child's own high-water mark, VmHWM). Then it checks `python -X importtime` for the ONNX
`ask` (torch and sentence_transformers must not appear) and that both paths give the same
answer and citations.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

ROOT = Path(__file__).resolve().parent.parent
# The CLI, reporting its peak RSS at exit. VmHWM, not wait4's ru_maxrss: Linux carries a
# forked child's pre-exec peak (this process's) into ru_maxrss, which would floor small figures.
PEAK = "PEAK_RSS_KB"
CLI = ("import atexit, sys; atexit.register(lambda: sys.stderr.write('\\n" + PEAK + " ' + next("
       "l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')) + '\\n')); "
       "from retrieval.cli import app; sys.argv[0] = 'newsdesk'; app()")
# What `python -m bot` does before it connects: import the bot, build the Newsdesk, warm up.
BOT = ("import atexit, sys; atexit.register(lambda: sys.stderr.write('\\n" + PEAK + " ' + next("
       "l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')) + '\\n')); "
       "import bot.__main__; from retrieval.config import RetrievalSettings; from retrieval.service import build_newsdesk; "
       "build_newsdesk(RetrievalSettings()).search('warm up', k=1)")
HEAVY = ("torch", "sentence_transformers", "transformers")

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


def environment(data_dir: Path, backend: str = "auto") -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "NEWSDESK_DATA_DIR": str(data_dir),
            "EMBEDDING_BACKEND": backend, "CHROMA_HOST": "", "LLM_PROVIDER": "none"}


def timed(args: list[str], env: dict[str, str], cwd: Path, program: str = CLI) -> tuple[float, float, str, str]:
    """(wall seconds, peak RSS in MB, stdout, stderr) of one fresh process."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", program, *args], env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    stdout, stderr = done.stdout, done.stderr
    if done.returncode:
        raise SystemExit(f"`newsdesk {' '.join(args)}` failed ({done.returncode}):\n{stderr}")
    peak = next(line.split()[1] for line in reversed(stderr.splitlines()) if line.startswith(PEAK))
    return wall, int(peak) / 1024, stdout, stderr


def imported(args: list[str], env: dict[str, str], cwd: Path) -> tuple[list[str], list[tuple[float, str]]]:
    """The top-level packages `python -X importtime` reports for a command, and its five
    costliest top-level imports (cumulative seconds)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", CLI, *args], env=env, cwd=cwd,
                          capture_output=True, text=True, check=True)
    names, costs = set(), []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.removeprefix("import time:").split("|")
        names.add(name.strip().split(".")[0])
        if not name.startswith("  "):  # imported by the program itself, not by another module
            costs.append((int(cumulative) / 1e6, name.strip()))
    return sorted(names), sorted(costs, reverse=True)[:5]


@app.command()
def main(rounds: Annotated[int, typer.Option(min=1, help="Times each command runs.")] = 5,
         question: Annotated[str, typer.Option(help="The question `ask` is timed with.")] = "Which crossings closed?",
         seeds: Annotated[Path, typer.Option(help="Articles to index.")] = ROOT / "seeds") -> None:
    with tempfile.TemporaryDirectory(prefix="newsdesk-oneshot-") as tmp:
        data_dir = Path(tmp) / "data"
        onnx, torch = environment(data_dir), environment(data_dir, "torch")
        wall, rss, *_ = timed(["index", str(seeds)], onnx, Path(tmp))
        print(f"first index (embeds the seed, exports the model to ONNX): {wall:.2f} s, {rss:.0f} MB")
        wall, rss, *_ = timed(["index", str(seeds)], onnx, Path(tmp))
        print(f"index again (nothing changed): {wall:.2f} s, {rss:.0f} MB")

        commands = {"--help": (["--help"], onnx, CLI), "sources": (["sources"], onnx, CLI),
                    "ask (onnx)": (["ask", question, "--json"], onnx, CLI),
                    "ask (torch)": (["ask", question, "--json"], torch, CLI),
                    "bot warm (onnx)": ([], onnx, BOT), "bot warm (torch)": ([], torch, BOT)}
        results: dict[str, list[tuple[float, float]]] = {label: [] for label in commands}
        answers: dict[str, dict] = {}
        for _ in range(rounds):
            for label, (args, env, program) in commands.items():
                wall, rss, out, _ = timed(args, env, Path(tmp), program)
                results[label].append((wall, rss))
                if label.startswith("ask"):
                    answers[label] = json.loads(out)

        print(f"\n{rounds} rounds, interleaved; {os.cpu_count()} CPUs, load average "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print(f"{'command':<16} {'wall median':>11} {'min':>6} {'max':>6} {'peak RSS median':>16} {'max':>6}")
        for label, runs in results.items():
            walls, peaks = [w for w, _ in runs], [r for _, r in runs]
            print(f"{label:<16} {statistics.median(walls):>9.2f} s {min(walls):>6.2f} {max(walls):>6.2f} "
                  f"{statistics.median(peaks):>13.0f} MB {max(peaks):>6.0f}")

        names, costs = imported(["ask", question], onnx, Path(tmp))
        found = [name for name in HEAVY if name in names]
        print(f"\n-X importtime of `ask` (onnx): {', '.join(found) or 'no ' + ', '.join(HEAVY)} imported; "
              f"costliest: {', '.join(f'{name} {seconds:.2f} s' for seconds, name in costs)}")
        same = all(answers["ask (onnx)"][key] == answers["ask (torch)"][key]
                   for key in ("answer", "abstained", "citations"))
        print(f"the same answer and citations through both paths: {same}")
        if found or not same:
            raise typer.Exit(1)


if __name__ == "__main__":
    app()
