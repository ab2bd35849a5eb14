"""Feed polling: the first poll of many feeds, the second (all 304), and /ask while a poll runs.

    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.feeds                  # 50 feeds x 20 entries
    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.feeds --feeds 10 --entries 5 --json out.json

A web server on 127.0.0.1 (testing/feed_server.py) serves the feeds: RSS, Atom and JSON Feed in
turn; every other feed carries only summaries, so its entries' pages are fetched and extracted
with trafilatura. The entries' texts are the RealTimeQA dev articles (read by path), else
generated. The real model and an embedded Chroma in a temporary data directory index them
through the real Poller and Newsdesk. All requests go to one host, so the per-host rule
serialises them; --host-interval sets the pause between them (0 here: the server is local).

Reported:
- first poll: seconds, articles/s, and the seconds spent embedding (the model's own calls);
- second poll: seconds and chunks embedded (must be 0, in ≤ 2 s: every feed answers 304);
- /ask during a poll: the real bot on the loopback Discord (testing/discord_fake) answers
  /ask every --ask-every seconds while a third poll runs (every entry changed, so it embeds
  again); ack = from INTERACTION_CREATE to the bot's defer (Discord allows 3 s).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Optional

import typer
from langchain_core.embeddings import Embeddings

from bot import BotSettings, NewsdeskBot
from retrieval.app import NewsdeskApp
from retrieval.config import RetrievalSettings
from retrieval.embeddings import LazyEmbeddings
from retrieval.feedback import FeedbackStore
from retrieval.feeds import FeedOptions, Poller
from retrieval.feedstore import FeedStore
from retrieval.fetch import FetchOptions
from retrieval.service import build_newsdesk
from testing.discord_fake import FakeDiscord
from testing.feed_server import FeedServer, Item, Page, article_page, atom, json_feed, rss

ROOT = Path(__file__).resolve().parent.parent

DEV = ROOT.parent / "shared" / "eval" / "realtimeqa-dev" / "articles.jsonl.gz"


class TimedEmbeddings(Embeddings):
    """The real model, with the time spent in it added up."""

    def __init__(self, inner: Embeddings):
        self.inner = inner
        self.seconds = 0.0
        self.texts = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        started = time.perf_counter()
        try:
            return self.inner.embed_documents(texts)
        finally:
            self.seconds += time.perf_counter() - started
            self.texts += len(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def texts(count: int) -> list[tuple[str, str]]:
    """(title, text) pairs: dev-set articles when available, else generated prose."""
    found = []
    if DEV.is_file():
        with gzip.open(DEV, "rt", encoding="utf-8") as fh:
            for line in fh:
                record = json.loads(line)
                if record.get("text", "").strip():
                    found.append((record.get("title") or "Untitled", record["text"][:6000]))
                if len(found) == count:
                    return found
    while len(found) < count:
        n = len(found)
        found.append((f"Story {n}", " ".join(f"Sentence {i} of story {n} reports event {n * 7 + i}." for i in range(40))))
    return found


def serve(server: FeedServer, feeds: int, entries: int, version: int) -> list[str]:
    corpus = texts(feeds * entries)
    urls = []
    for f in range(feeds):
        items = []
        with_pages = f % 2 == 1
        for e in range(entries):
            title, text = corpus[f * entries + e]
            text = text if version == 1 else text + f"\n\nUpdated: version {version}."
            link = server.url(f"/f{f}/e{e}.html")
            if with_pages:
                server.pages[f"/f{f}/e{e}.html"] = Page(article_page(title, text))
                items.append(Item(f"f{f}-e{e}", title, link=link, summary=text[:200] + f" (v{version})",
                                  date=f"2024-01-{1 + e % 28:02d}T10:00:00Z"))
            else:
                items.append(Item(f"f{f}-e{e}", title, text, link=link, date=f"2024-01-{1 + e % 28:02d}T10:00:00Z"))
        kind = f % 3
        body, ctype, path = ((rss(f"Feed {f}", items), "application/rss+xml", f"/f{f}.rss"),
                             (atom(f"Feed {f}", items), "application/atom+xml", f"/f{f}.atom"),
                             (json_feed(f"Feed {f}", items), "application/feed+json", f"/f{f}.json"))[kind]
        server.pages[path] = Page(body, ctype, etag=f'"f{f}-v{version}"')
        urls.append(server.url(path))
    return urls


async def ask_during(bot_poll, fake: FakeDiscord, every: float) -> list[float]:
    """Ask /ask every `every` seconds until the poll ends; the acknowledgement times."""
    user = fake.make_user("bench")
    poll = asyncio.create_task(bot_poll())
    asked = []
    while not poll.done():
        asked.append(await fake.slash("ask", user=user, question="What happened in the news?"))
        await asyncio.sleep(every)
    report = await poll
    await fake.wait_until(lambda: all(ix.acked_at is not None for ix in asked), timeout=120)
    return report, [ix.acked_at - ix.sent_at for ix in asked]


async def run(args: Load) -> dict:
    server = FeedServer().start()
    tmp = Path(tempfile.mkdtemp(prefix="newsdesk-feeds-bench-"))
    settings = RetrievalSettings(_env_file=None, newsdesk_data_dir=tmp / "data", chroma_host=None)
    model = TimedEmbeddings(LazyEmbeddings(settings.embedding_model))
    model.embed_query("warm up")
    desk = build_newsdesk(settings, embeddings=model)
    store = FeedStore.in_dir(settings.data_dir)
    options = FeedOptions(fetch=FetchOptions(host_interval_s=args.host_interval, timeout_s=30))
    poller = Poller(store, desk, options)
    for url in serve(server, args.feeds, args.entries, version=1):
        store.add(url, 1800, time.time())
    results: dict = {"feeds": args.feeds, "entries": args.entries, "host_interval_s": args.host_interval,
                     "machine": f"{platform.machine()} {platform.processor() or ''}".strip()}

    started = time.perf_counter()
    first = await asyncio.to_thread(poller.poll)
    seconds = time.perf_counter() - started
    totals = first.to_dict()["total"]
    results["first_poll"] = {"seconds": round(seconds, 2), **totals, "chunks_embedded": first.chunks_embedded,
                             "articles_per_s": round(totals["added"] / seconds, 1),
                             "embedding_seconds": round(model.seconds, 2)}

    model.seconds = 0.0
    started = time.perf_counter()
    second = await asyncio.to_thread(poller.poll)
    seconds = time.perf_counter() - started
    results["second_poll"] = {"seconds": round(seconds, 2), **second.to_dict()["total"],
                              "not_modified": sum(r.not_modified for r in second.feeds),
                              "chunks_embedded": second.chunks_embedded}

    # The bot, answering while a third poll (every entry changed) runs in its poll thread.
    serve(server, args.feeds, args.entries, version=2)
    fake = FakeDiscord(heartbeat_interval=1.0)
    await fake.start()
    bot_settings = BotSettings(_env_file=None, discord_token="bench.token", discord_api_base=fake.api_base,
                               discord_gateway_url=fake.gateway_url, discord_guild_ids=[fake.guild_id],
                               ask_cooldown_seconds=0, feed_poll_seconds=0, warm_up=True)
    app = NewsdeskApp(desk, feedback=FeedbackStore(tmp / "feedback.sqlite3"), poller=Poller(store, desk, options))
    bot = NewsdeskBot(app=app, settings=bot_settings, guild_ready_timeout=0.05)
    await bot.login(bot_settings.token)
    connection = asyncio.create_task(bot.connect(reconnect=False))
    await bot.wait_until_ready()
    model.seconds = 0.0
    started = time.perf_counter()

    async def full_poll():
        return await app.poll_feeds(due_only=False)

    third, acks = await ask_during(full_poll, fake, args.ask_every)
    seconds = time.perf_counter() - started
    results["ask_during_poll"] = {
        "poll_seconds": round(seconds, 2), "updated": third.to_dict()["total"]["updated"],
        "chunks_embedded": third.chunks_embedded, "asks": len(acks),
        "ack_median_s": round(statistics.median(acks), 3), "ack_max_s": round(max(acks), 3)}
    await bot.close()
    app.close()
    connection.cancel()
    await fake.stop()
    server.stop()
    return results


app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@dataclass(frozen=True)
class Load:
    """What one run serves and asks (the command line's options)."""

    feeds: int = 50
    entries: int = 20
    host_interval: float = 0.0
    ask_every: float = 1.0


@app.command()
def main(feeds: Annotated[int, typer.Option(min=1)] = 50,
         entries: Annotated[int, typer.Option(min=1)] = 20,
         host_interval: float = 0.0,
         ask_every: float = 1.0,
         json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the figures here.")] = None,
         ) -> None:
    """Feed polling: the first poll of many feeds, the second (all 304), and /ask while a poll runs."""
    logging.basicConfig(level=logging.WARNING)
    results = asyncio.run(run(Load(feeds, entries, host_interval, ask_every)))
    print(json.dumps(results, indent=2))
    if json_out:
        json_out.write_text(json.dumps(results, indent=2))
    ok = (results["second_poll"]["chunks_embedded"] == 0 and results["second_poll"]["seconds"] <= 2.0
          and results["ask_during_poll"]["ack_max_s"] < 3.0)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    app()
