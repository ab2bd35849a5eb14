"""Bot start to ready: `python -m bot` from process start until the gateway is connected and
the slash commands are synced, against the loopback Discord of the tests.

    HF_HUB_OFFLINE=1 nice -n 19 .venv/bin/python -m bench.bot_start --data-dir DIR
    HF_HUB_OFFLINE=1 nice -n 19 .venv/bin/python -m bench.bot_start --data-dir DIR --rounds 5 --against ../main

The bot is the real one, started as a user starts it (`python -m bot` with the four Discord
variables and NEWSDESK_DATA_DIR), its real discord.py client talking to testing/discord_fake
on 127.0.0.1, fresh for each round. Ready: the fake has received IDENTIFY (and answered
READY) and the commands' sync (PUT .../commands). `--data-dir` is an indexed archive (the
quality benchmark's dev-set index, say); it is copied first and never written. The first
round on a copy may build the BM25 copy that later starts load; it is reported apart.

`--against` times another checkout of Newsdesk (the main branch, say) on its own copy of
the archive, its rounds interleaved with this one's, so both meet the same load.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "MTIz.bench-start.token-value"
app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


async def start_to_ready(code: Path, data_dir: Path, timeout: float = 300.0) -> float:
    """Seconds from starting `python -m bot` (of the checkout `code`) until it is ready."""
    from testing.discord_fake import FakeDiscord

    fake = FakeDiscord()
    await fake.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "NEWSDESK_", "ADMIN_", "ASK_"))}
    env |= {"DISCORD_TOKEN": TOKEN, "DISCORD_API_BASE": fake.api_base, "DISCORD_GATEWAY_URL": fake.gateway_url,
            "DISCORD_GUILD_IDS": str(fake.guild_id), "NEWSDESK_DATA_DIR": str(data_dir), "PYTHONPATH": str(code),
            "HF_HUB_OFFLINE": "1", "CHROMA_HOST": "", "LLM_PROVIDER": "none"}
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", cwd=code, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        ready = asyncio.create_task(fake.wait_until(lambda: fake.gateway.identify and fake.commands, timeout=timeout))
        exited = asyncio.create_task(proc.wait())
        done, _ = await asyncio.wait({ready, exited}, return_when=asyncio.FIRST_COMPLETED)
        seconds = time.perf_counter() - started
        if ready not in done:
            output = (await proc.stdout.read()).decode()
            raise SystemExit(f"python -m bot exited with {proc.returncode}:\n{output}")
        exited.cancel()
        return seconds
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.communicate()
        await fake.stop()


async def run(data_dir: Path, rounds: int, against: Path | None) -> None:
    checkouts = {"this": ROOT} | ({"against": against.resolve()} if against else {})
    with tempfile.TemporaryDirectory(prefix="newsdesk-botstart-", dir=data_dir.parent) as tmp:
        copies = {}
        for label in checkouts:
            copies[label] = Path(tmp) / label
            shutil.copytree(data_dir, copies[label])
        first: dict[str, float] = {}
        times: dict[str, list[float]] = {label: [] for label in checkouts}
        for round_ in range(rounds + 1):
            for label, code in checkouts.items():
                seconds = await start_to_ready(code, copies[label])
                if round_ == 0:
                    first[label] = seconds
                else:
                    times[label].append(seconds)
                print(f"  {label} round {round_}: {seconds:.2f} s", file=sys.stderr, flush=True)
    print(f"\n{os.cpu_count()} CPUs, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}; "
          f"archive {data_dir}")
    print(f"{'checkout':<10} {'first start s':>13} {'then median s':>13} {'min':>6} {'max':>6}")
    for label, code in checkouts.items():
        got = times[label]
        print(f"{label:<10} {first[label]:>13.2f} {statistics.median(got):>13.2f} {min(got):>6.2f} {max(got):>6.2f}"
              f"   ({code})")


@app.command()
def main(data_dir: Annotated[Path, typer.Option(help="An indexed archive (copied, never written).")],
         rounds: Annotated[int, typer.Option(min=1, help="Timed starts after the first, per checkout.")] = 3,
         against: Annotated[Path | None, typer.Option(help="Another checkout to time the same way.")] = None) -> None:
    asyncio.run(run(data_dir, rounds, against))


if __name__ == "__main__":
    app()
