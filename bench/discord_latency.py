"""Discord latency: how fast the bot acknowledges and answers /ask under concurrent load.

    .venv/bin/python -m bench.discord_latency                       # 3 rounds of 20 concurrent /ask
    .venv/bin/python -m bench.discord_latency --concurrency 50 --rounds 5 --json out.json

The real bot (`bot.NewsdeskBot`, warm-up and all, as `python -m bot` builds it) and the real
Newsdesk (the shipped model; seeds/ indexed into a temporary data directory, or an existing
index with --data-dir) run against the loopback Discord of the tests (testing/discord_fake),
in one process and one event loop, so the figures include the client's own work (gateway
parsing, command dispatch, REST calls) but no network.

Definitions, all from the fake Discord's clock (time.monotonic):
- ack: from sending INTERACTION_CREATE down the gateway to receiving the bot's
  interaction callback (the "thinking" defer). Discord allows 3 s.
- answer: from sending INTERACTION_CREATE to receiving the follow-up that carries the answer.
- heartbeat gap: time between consecutive gateway heartbeats received while a round ran
  (the round's start and end count as edges). The interval is --heartbeat seconds; a gap
  well above it means the event loop was blocked.
- baseline: the same question asked --baseline times one after another (no concurrency).

Every answer is checked to name the four crossings of the seed article when the default
question is used; a round that loses an answer fails the run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import platform
import shutil
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Optional

import typer

from bot import BotSettings, NewsdeskBot
from retrieval.app import NewsdeskApp
from retrieval.config import RetrievalSettings
from retrieval.feedback import FeedbackStore
from retrieval.service import build_newsdesk
from testing.discord_fake import FakeDiscord

ROOT = Path(__file__).resolve().parent.parent

QUESTION = "Which crossings closed?"
CROSSINGS = ["Eagle Pass", "El Paso", "San Ysidro", "Lukeville"]


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "median": statistics.median(ordered),
        "p90": ordered[max(0, int(round(0.9 * len(ordered))) - 1)],
        "max": ordered[-1],
    }


def row(name: str, s: dict) -> str:
    return f"{name:<22}{s['n']:>5}{s['median'] * 1000:>10.0f}{s['p90'] * 1000:>10.0f}{s['max'] * 1000:>10.0f}"


async def run_round(fake: FakeDiscord, n: int, question: str, check: bool, tag: str) -> dict:
    users = [fake.make_user(f"{tag}-{i}") for i in range(n)]
    interactions = await asyncio.gather(*(fake.slash("ask", user=u, question=question) for u in users))
    await fake.wait_until(
        lambda: all((m := fake.interaction_messages(ix)) and m[-1]["components"] for ix in interactions), timeout=600
    )
    acks, answers = [], []
    for ix in interactions:
        acks.append(ix.acked_at - ix.sent_at)
        posts = [c.at for c in fake.calls_for(ix) if c.path.startswith("/webhooks/") and c.method == "POST"]
        answers.append(min(posts) - ix.sent_at)
        if check:
            text = fake.interaction_messages(ix)[0]["content"]
            missing = [c for c in CROSSINGS if c not in text]
            if missing:
                raise SystemExit(f"an answer lacks {missing}: {text!r}")
    start = min(ix.sent_at for ix in interactions)
    end = max(c.at for ix in interactions for c in fake.calls_for(ix))
    return {"acks": acks, "answers": answers, "gaps": fake.heartbeat_gaps(start, end), "wall": end - start}


app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@dataclass(frozen=True)
class Load:
    """What one run asks of the bot (the command line's options)."""

    concurrency: int = 20
    rounds: int = 3
    baseline: int = 5
    heartbeat: float = 1.0
    question: str = QUESTION
    data_dir: Path | None = None
    json: Path | None = None


@app.command()
def main(concurrency: Annotated[int, typer.Option(min=1)] = 20,
         rounds: Annotated[int, typer.Option(min=1)] = 3,
         baseline: Annotated[int, typer.Option(help="Sequential asks before the concurrent rounds.")] = 5,
         heartbeat: Annotated[float, typer.Option(help="Gateway heartbeat interval, seconds.")] = 1.0,
         question: str = QUESTION,
         data_dir: Annotated[Optional[Path], typer.Option(
             help="An existing index (default: seeds/ indexed into a temp dir).")] = None,
         json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the raw figures here.")] = None,
         ) -> None:
    """Discord latency: how fast the bot acknowledges and answers /ask under concurrent load."""
    asyncio.run(measure(Load(concurrency, rounds, baseline, heartbeat, question, data_dir, json_out)))


async def measure(args: Load) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="newsdesk-latency-") as tmp:
        tmp = Path(tmp)
        if args.data_dir is None:
            shutil.copytree(ROOT / "seeds", tmp / "seeds")
        data_dir = args.data_dir or tmp / "data"
        t0 = time.perf_counter()
        newsdesk = build_newsdesk(RetrievalSettings(_env_file=None, newsdesk_data_dir=data_dir))
        if args.data_dir is None:
            newsdesk.index([tmp / "seeds"])
        print(f"index ready in {time.perf_counter() - t0:.1f} s ({len(newsdesk.sources())} articles)")

        fake = FakeDiscord(heartbeat_interval=args.heartbeat)
        await fake.start()
        settings = BotSettings(
            _env_file=None, discord_token="bench-token", discord_api_base=fake.api_base,
            discord_gateway_url=fake.gateway_url, discord_guild_ids=[fake.guild_id], ask_cooldown_seconds=0,
            warm_up=True,
        )
        app = NewsdeskApp(newsdesk, feedback=FeedbackStore(tmp / "feedback.sqlite3"))
        bot = NewsdeskBot(app=app, settings=settings, guild_ready_timeout=0.1)
        t0 = time.perf_counter()
        await bot.login(settings.token)
        connection = asyncio.create_task(bot.connect())
        await asyncio.wait({connection, asyncio.create_task(bot.wait_until_ready())},
                           return_when=asyncio.FIRST_COMPLETED)
        if connection.done():
            connection.result()
        print(f"bot ready in {time.perf_counter() - t0:.1f} s (login, warm-up, command sync, gateway)")

        check = args.question == QUESTION
        try:
            baseline = {"acks": [], "answers": []}
            for i in range(args.baseline):
                r = await run_round(fake, 1, args.question, check, f"base{i}")
                baseline["acks"] += r["acks"]
                baseline["answers"] += r["answers"]
            rounds = [await run_round(fake, args.concurrency, args.question, check, f"r{i}")
                      for i in range(args.rounds)]
        finally:
            await bot.close()
            app.close()
            await fake.stop()

    acks = [a for r in rounds for a in r["acks"]]
    answers = [a for r in rounds for a in r["answers"]]
    gaps = [g for r in rounds for g in r["gaps"]]
    print()
    print(f"{platform.processor() or platform.machine()}, {platform.python_version()}, "
          f"{args.rounds} rounds × {args.concurrency} concurrent /ask, heartbeat {args.heartbeat:.2f} s, "
          f"question {args.question!r}")
    print(f"{'':<22}{'n':>5}{'median ms':>10}{'p90 ms':>10}{'max ms':>10}")
    if baseline["acks"]:
        print(row("baseline ack", summary(baseline["acks"])))
        print(row("baseline answer", summary(baseline["answers"])))
    print(row("concurrent ack", summary(acks)))
    print(row("concurrent answer", summary(answers)))
    print(row("heartbeat gap", summary(gaps)))
    walls = ", ".join(f"{r['wall']:.2f} s" for r in rounds)
    print(f"round wall times: {walls}; acks over 3 s: {sum(a >= 3 for a in acks)}")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in asdict(args).items()},
                                         "baseline": baseline, "rounds": rounds}, indent=1))


if __name__ == "__main__":
    app()
