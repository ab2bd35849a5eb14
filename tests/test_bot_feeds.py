"""/feeds and /digest through the real discord.py client and the loopback Discord, with feeds
served on 127.0.0.1 and an injected clock for digest schedules."""

from __future__ import annotations

import datetime as dt

import pytest

from retrieval.schedules import DigestStore
from conftest import HashEmbeddings, make_desk
from testing.feed_server import FeedServer, Item, Page, rss
from retrieval.feeds import FeedOptions, Poller
from retrieval.feedstore import FeedStore
from retrieval.fetch import FetchOptions
from retrieval.models import Article

pytestmark = pytest.mark.asyncio(loop_scope="session")

TRAM = ("The city council voted on Tuesday to expand the tram line to the airport. "
        "Construction will start in the spring and take three years. Opponents said the cost had doubled.")


class Clock:
    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def feed_server():
    srv = FeedServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def desk(tmp_path):
    return make_desk(tmp_path / "data", HashEmbeddings(), model_name="hash-64")


def options() -> FeedOptions:
    return FeedOptions(fetch=FetchOptions(timeout_s=2.0, host_interval_s=0.0))


async def test_admins_follow_list_and_remove_feeds_and_the_bot_polls_them(bot_factory, fake_discord, feed_server,
                                                                          desk):
    fake = fake_discord
    feed_server.pages["/news.xml"] = Page(rss("Harbour News", [
        Item("hn-1", "Tram line approved", TRAM),
        Item("hn-2", "Ferry timetable", "The winter ferry timetable starts on Monday with two fewer crossings."),
    ]), "application/rss+xml", etag='"v1"')
    feed_server.pages["/gone.xml"] = Page("gone", "text/plain", status=404)
    clock = Clock(dt.datetime(2024, 1, 3, 12, 0, tzinfo=dt.UTC))
    store = FeedStore.in_dir(desk.data_dir)
    poller = Poller(store, desk, options(), clock)
    await bot_factory(desk, feed_poll_seconds=0.05, app_options={"poller": poller, "clock": clock})
    admin, member = fake.make_user("editor"), fake.make_user("reader")

    refused = await fake.slash("feeds add", user=member, url=feed_server.url("/news.xml"))
    await fake.wait_until(lambda: fake.interaction_messages(refused))
    assert fake.interaction_messages(refused)[0]["content"] == "Only server admins (Manage Server, or an admin role) can do that."
    assert store.list() == []

    news, gone = feed_server.url("/news.xml"), feed_server.url("/gone.xml")
    added = await fake.slash("feeds add", user=admin, admin=True, url=news, every="2h")
    await fake.wait_until(lambda: fake.interaction_messages(added))
    assert fake.interaction_messages(added)[0]["content"] == (
        f"Following <{news}>, polled every 2h; its entries are read within a minute.")
    bad = await fake.slash("feeds add", user=admin, admin=True, url="ftp://example.invalid/x")
    await fake.wait_until(lambda: fake.interaction_messages(bad))
    assert fake.interaction_messages(bad)[0]["content"] == "Ftp://example.invalid/x is not an http(s) address."
    await fake.slash("feeds add", user=admin, admin=True, url=gone)
    # The poll loop reads both feeds (the clock stands still, so each is polled once).
    await fake.wait_until(lambda: all(f.last_polled for f in store.list()) and len(store.list()) == 2)
    assert sorted(s.doc_id for s in desk.sources()) == ["hn-1", "hn-2"]

    listed = await fake.slash("feeds list", user=admin, admin=True)
    await fake.wait_until(lambda: fake.interaction_messages(listed))
    next_news = int(clock.now.timestamp()) + 7200
    next_gone = int(clock.now.timestamp()) + 1800
    now = int(clock.now.timestamp())
    assert fake.interaction_messages(listed)[0]["content"] == (
        "**2 feeds followed**\n\n"  # added at the same moment of the clock: in URL order
        f"**(not read yet)** <{gone}>\n"
        f"every 30m · 0 items · last success never · next poll <t:{next_gone}:R>\n"
        f"⚠️ HTTP 404 Not Found from {gone}\n\n"
        f"**Harbour News** <{news}>\n"
        f"every 2h · 2 items · last success <t:{now}:R> · next poll <t:{next_news}:R>")

    removed = await fake.slash("feeds remove", user=admin, admin=True, url=gone)
    await fake.wait_until(lambda: fake.interaction_messages(removed))
    assert fake.interaction_messages(removed)[0]["content"] == (
        f"No longer following <{gone}>; its articles stay indexed.")
    assert [f.url for f in store.list()] == [news]


def _articles() -> list[Article]:
    wire = ("Flooding closed the coastal highway near Port Alder on Monday after two days of heavy rain. "
            "Crews expect to reopen it by Thursday. About 300 homes lost power.")
    return [
        Article("ap-1", wire, title="Floods close coastal highway", source="Wire Service",
                date=dt.date(2024, 1, 8), url="http://127.0.0.1/ap-1"),
        Article("copy-1", wire, title="Highway closed by floods", source="Alder Daily",
                date=dt.date(2024, 1, 8), url="http://127.0.0.1/copy-1"),
        Article("tram-1", TRAM, title="Tram line approved", source="Harbour News", date=dt.date(2024, 1, 8),
                url="http://127.0.0.1/tram-1"),
        Article("old-1", "An old story about the harbour festival that drew large crowds last summer.",
                title="Harbour festival", source="Harbour News", date=dt.date(2023, 7, 1)),
    ]


async def test_a_scheduled_digest_is_posted_once_at_its_time_and_not_again_after_a_restart(
        bot_factory, fake_discord, desk, tmp_path):
    fake = fake_discord
    assert desk.index_articles(_articles()).added == 4
    clock = Clock(dt.datetime(2024, 1, 8, 8, 0, tzinfo=dt.UTC))  # a Monday, 09:00 in Paris
    digests = DigestStore.in_dir(desk.data_dir)
    settings = {"digest_check_seconds": 0.05, "digest_timezone": "Europe/Paris", "feed_poll_seconds": 0}
    run = await bot_factory(desk, app_options={"schedules": digests, "clock": clock}, **settings)
    admin = fake.make_user("editor")
    channel = fake.channels[fake.other_channel_id]
    ix = await fake.slash("digest set", user=admin, admin=True, channel=channel, time="10:30")
    await fake.wait_until(lambda: fake.interaction_messages(ix))
    assert fake.interaction_messages(ix)[0]["content"] == (
        f"Digest scheduled every day at 10:30 (Europe/Paris) in <#{fake.other_channel_id}>.")
    checks = run.bot.digest_checks
    await fake.wait_until(lambda: run.bot.digest_checks >= checks + 3)
    assert fake.channel_messages(fake.other_channel_id) == []  # 09:00 in Paris: not yet

    clock.now = dt.datetime(2024, 1, 8, 9, 31, tzinfo=dt.UTC)  # 10:31 in Paris
    await fake.wait_until(lambda: fake.channel_messages(fake.other_channel_id))
    [message] = fake.channel_messages(fake.other_channel_id)
    assert message["content"] == (
        "**Daily digest** · since 2024-01-07\n\n"
        "**Tram line approved**\n"
        "“The city council voted on Tuesday to expand the tram line to the airport. "
        "Construction will start in the spring and take three years.” [1]\n"
        "[1] Harbour News, 2024-01-08 <http://127.0.0.1/tram-1>\n\n"
        "**Floods close coastal highway**\n"
        "“Flooding closed the coastal highway near Port Alder on Monday after two days of heavy rain. "
        "Crews expect to reopen it by Thursday.” [2]\n"
        "[2] Wire Service, 2024-01-08 <http://127.0.0.1/ap-1> · also in: Alder Daily")

    await run.stop()
    again = await bot_factory(desk, app_options={"schedules": DigestStore.in_dir(desk.data_dir), "clock": clock},
                              **settings)
    await fake.wait_until(lambda: again.bot.digest_checks >= 3)
    assert len(fake.channel_messages(fake.other_channel_id)) == 1  # the slot was posted before the restart

    # Down for three days: the missed slots are owed once, with only what is new.
    desk.index_articles([Article("fair-1", "The county fair opens on Friday with a new livestock hall.",
                                 title="Fair opens", source="Harbour News", date=dt.date(2024, 1, 10))])
    await again.stop()
    clock.now = dt.datetime(2024, 1, 11, 12, 0, tzinfo=dt.UTC)
    third = await bot_factory(desk, app_options={"schedules": DigestStore.in_dir(desk.data_dir), "clock": clock},
                              **settings)
    await fake.wait_until(lambda: len(fake.channel_messages(fake.other_channel_id)) == 2)
    await fake.wait_until(lambda: third.bot.digest_checks >= 3)
    messages = fake.channel_messages(fake.other_channel_id)
    assert len(messages) == 2
    assert messages[1]["content"] == (
        "**Daily digest** · since 2024-01-08\n\n"
        "**Fair opens**\n“The county fair opens on Friday with a new livestock hall.” [1]\n"
        "[1] Harbour News, 2024-01-10")


async def test_digest_now_splits_a_long_digest_under_2000_characters(bot_factory, fake_discord, tmp_path):
    fake = fake_discord
    # Wide hashed vectors: unrelated texts stay apart (at 64 dimensions, collisions group some).
    desk = make_desk(tmp_path / "wide", HashEmbeddings(dims=1024), model_name="hash-1024")
    articles = [Article(f"a-{i:02d}", f"Event{i} happened in place{i} today. "
                        + " ".join(f"w{i}x{j}" for j in range(40)) + ".",
                        title=f"Headline {i:02d} " + "x" * 80, source=f"Source {i}", date=dt.date(2024, 1, 8),
                        url=f"http://127.0.0.1/a-{i:02d}") for i in range(15)]
    desk.index_articles(articles)
    clock = Clock(dt.datetime(2024, 1, 8, 12, 0, tzinfo=dt.UTC))
    await bot_factory(desk, app_options={"schedules": DigestStore.in_dir(desk.data_dir), "clock": clock},
                      feed_poll_seconds=0)
    ix = await fake.slash("digest now", user=fake.make_user("reader"))
    await fake.wait_until(lambda: "[15] Source 0," in "".join(m["content"] for m in fake.interaction_messages(ix)))
    parts = [m["content"] for m in fake.interaction_messages(ix)]
    assert len(parts) == 4
    assert all(len(p) <= 2000 for p in parts)
    assert parts[0].startswith("**What's new** · since 2024-01-07\n\n**Headline 14 x")  # newest first
    text = "\n\n".join(parts)
    assert [f"[{n}] Source" in text for n in range(1, 16)] == [True] * 15
