"""The bot's plain functions: message splitting, escaping, the feedback store, settings, logs."""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import logging
import re
import sqlite3
from contextlib import closing
from types import SimpleNamespace

import discord
import pytest

from bot.checks import QuestionBudget, is_admin
from bot.config import BotSettings
from bot.formatting import (
    MESSAGE_LIMIT,
    citation_line,
    escape,
    escape_cited,
    render_answer,
    render_partial,
    render_report,
    split_message,
)
from bot.logs import RedactToken, setup_logging
from bot.mentions import thread_name
from bot.streaming import EditThrottle
from bot_fixtures import stored_votes
from fake_newsdesk import FakeNewsdesk
from retrieval.app import Desk, NewsdeskApp
from retrieval.feedback import FeedbackStore, Stats
from retrieval.models import Answer, Citation, IndexReport
from retrieval.question import question_key
from retrieval.service import Newsdesk

ZWSP = "\u200b"


# ---------------------------------------------------------------------------------------- splitting


def _sentences(n: int, words: int = 12) -> list[str]:
    return [" ".join(f"w{i}x{j}" for j in range(words)) + f". [{i % 9 + 1}]" for i in range(n)]


@pytest.mark.parametrize("limit", [200, 500, MESSAGE_LIMIT])
def test_split_keeps_every_word_in_order_and_respects_the_limit(limit):
    paragraphs = [" ".join(_sentences(k)) for k in (3, 40, 1, 25)]
    text = "\n\n".join(paragraphs) + "\n\n**Sources**\n" + "\n".join(
        f"[{n}] **Title {n}** — Source, 2023-12-2{n % 10} <https://example.com/articles/{n}>" for n in range(1, 10)
    )
    parts = split_message(text, limit)
    assert all(0 < len(p) <= limit for p in parts)
    assert " ".join(parts).split() == text.split()  # nothing lost, nothing reordered


def test_split_cuts_at_paragraphs_first_then_sentences_never_inside_a_marker_or_link():
    sentence = "A sentence about the border crossings that closed this week. [2]"
    text = "\n\n".join([sentence] * 3) + "\n\n" + " ".join([sentence] * 40) + "\n\nSee <https://example.com/a/b>"
    parts = split_message(text, 300)
    assert parts[0] == "\n\n".join([sentence] * 3)  # the next paragraph is too long to join them
    for part in parts:
        assert part.count("[") == part.count("]")  # no marker cut in two
        assert part.count("<") == part.count(">")  # no link cut in two
        assert part.endswith(("[2]", ">"))  # every message ends where a sentence (or the link) ends
    assert parts[-1].endswith("See <https://example.com/a/b>")


def test_split_packs_paragraphs_that_fit_together():
    assert split_message("one.\n\ntwo.\n\nthree.", 11) == ["one.\n\ntwo.", "three."]
    assert split_message("short", 11) == ["short"]
    assert split_message("   ", 11) == []


def test_a_word_longer_than_a_message_is_the_only_thing_cut_mid_way():
    assert split_message("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


# ---------------------------------------------------------------------------------------- escaping


def test_escape_neutralizes_markdown_mentions_and_line_formats_but_keeps_bare_links():
    text = "**b** _i_ __u__ ~~s~~ ||sp|| `c` \\ [t](https://x.example) <@123456789012345678> <#42> <t:1:R> @everyone @here"
    assert escape(text) == (
        "\\*\\*b\\*\\* \\_i\\_ \\_\\_u\\_\\_ \\~\\~s\\~\\~ \\|\\|sp\\|\\| \\`c\\` \\\\ \\[t\\](https://x.example) "
        f"<{ZWSP}@123456789012345678> <{ZWSP}#42> <{ZWSP}t:1:R> @{ZWSP}everyone @{ZWSP}here"
    )
    assert escape("> quote\n# heading\n-# small\n- item\n3. item") == (
        "\\> quote\n\\# heading\n\\-# small\n\\- item\n3\\. item"
    )
    assert escape("see https://example.com/a_b_c now") == "see https://example.com/a_b_c now"


def test_escape_cited_leaves_citation_markers_alone():
    assert escape_cited("a *b* [1] c_d [12]") == "a \\*b\\* [1] c\\_d [12]"


def test_citation_lines_wrap_links_so_discord_shows_no_preview():
    c = Citation(3, "d", "A *bold* title", "USA TODAY", "2023-12-21", "https://example.com/x y>", "q")
    assert citation_line(c) == (
        "[3] **A \\*bold\\* title** — USA TODAY, 2023-12-21 <https://example.com/x%20y%3E>"
    )
    bare = Citation(1, "doc-7", "", "", "", "", "q")
    assert citation_line(bare) == "[1] **doc-7**"


def test_an_abstention_shows_no_sources_even_if_citations_came_along():
    answer = Answer("q", "Not in the archive.", True, [Citation(1, "d", "T", "S", "2023-01-01", "", "q")], [])
    assert render_answer(answer) == ["Not in the archive."]


def test_a_refusal_points_to_the_closest_articles_without_citing_them():
    related = [Citation(1, "d1", "Ports *closed*", "USA TODAY", "2023-12-21", "https://example.com/p", ""),
               Citation(2, "d2", "", "", "", "", "")]
    answer = Answer("q", "I couldn't find that in the indexed articles.", True, [], [], related=related)
    assert render_answer(answer) == [
        "I couldn't find that in the indexed articles.\n\n**Closest articles** (they may not say it plainly)\n"
        "- **Ports \\*closed\\*** — USA TODAY, 2023-12-21 <https://example.com/p>\n- **d2**"
    ]


def test_an_empty_answer_still_gets_a_message():
    assert render_answer(Answer("q", "  ", False, [], [])) == ["I have nothing to show for that."]


def test_an_answer_note_is_shown_in_italics():
    answer = Answer("q", "Text [1].", False, [Citation(1, "d", "T", "S", "2023-01-01", "", "q")], [],
                    note="LLM unavailable; quoting sources")
    assert render_answer(answer) == [
        "Text [1].\n\n*LLM unavailable; quoting sources*\n\n**Sources**\n[1] **T** — S, 2023-01-01"
    ]


def test_a_report_with_many_failures_is_split_and_names_every_failure():
    report = IndexReport(added=2, failures=[(f"seeds/bad_{i}.json", "no *text* field") for i in range(80)])
    parts = render_report(report, ["seeds"])
    assert parts[0].startswith(
        "Reindex of `seeds` finished: **2** added · **0** updated · **0** unchanged · **0** deleted · **80** failed"
    )
    assert all(len(p) <= MESSAGE_LIMIT for p in parts)
    failures = [line for p in parts for line in p.splitlines() if line.startswith("•")]
    assert failures[0] == "• seeds/bad\\_0.json: no \\*text\\* field" and len(failures) == 80


def test_thread_names_fit_discord():
    assert thread_name("  which   crossings\nclosed? ") == "which crossings closed?"
    assert thread_name("x" * 150) == "x" * 99 + "…"
    assert thread_name("") == "Question"


# ---------------------------------------------------------------------------------------- feedback store


def test_answers_and_votes_survive_reopening_and_make_the_stats(tmp_path):
    path = tmp_path / "data" / "feedback.sqlite3"
    store = FeedbackStore(path)
    first = store.record_answer(via="slash", user_id=1, question="Which crossings closed?", answer="…[1]",
                                abstained=False, citations=1, guild_id=9, channel_id=8)
    gaps = [store.record_answer(via="mention", user_id=u, question=q, answer="I could not find this.",
                                abstained=True, citations=0, abstained_because=why, thread_id=77)
            for u, q, why in [(1, "Who won?", "off-topic"), (2, "who  WON", "stale"),
                              (3, "Why is the sky blue?", "off-topic"), (2, "Who won!", "off-topic")]]
    assert (first, gaps) == (1, [2, 3, 4, 5])
    assert store.record_vote(first, 1, 1) is True
    assert store.record_vote(first, 2, -1) is True
    assert store.record_vote(first, 2, 1) is True  # a changed mind replaces the vote
    assert store.record_vote(999, 2, 1) is False  # unknown answers take no votes

    reopened = FeedbackStore(path)
    assert stored_votes(path, first) == {1: 1, 2: 1}
    assert reopened.thread_questions(77) == ["Who won?", "who  WON", "Why is the sky blue?", "Who won!"]
    assert reopened.thread_questions(78) == []
    assert reopened.stats() == Stats(questions=5, abstained=4, votes_up=2, votes_down=0,
                                     unanswered=[("Who won?", 3), ("Why is the sky blue?", 1)],
                                     reasons=[("off-topic", 3), ("stale", 1)])
    assert reopened.stats(top=1).unanswered == [("Who won?", 3)]
    assert reopened.stats().abstention_rate == pytest.approx(0.8)
    with pytest.raises(ValueError):
        reopened.record_vote(first, 1, 0)


def test_a_store_from_before_abstention_reasons_is_upgraded_in_place(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    with closing(sqlite3.connect(path)) as db, db:
        db.executescript(
            "CREATE TABLE answers (id INTEGER PRIMARY KEY AUTOINCREMENT, asked_at TEXT NOT NULL, via TEXT NOT NULL,"
            " guild_id INTEGER, channel_id INTEGER, thread_id INTEGER, user_id INTEGER NOT NULL,"
            " question TEXT NOT NULL, answer TEXT NOT NULL, abstained INTEGER NOT NULL, citations INTEGER NOT NULL);"
            "INSERT INTO answers (asked_at, via, user_id, question, answer, abstained, citations)"
            " VALUES ('2026-01-01T00:00:00+00:00', 'slash', 1, 'Old question?', 'No.', 1, 0);")
    store = FeedbackStore(path)
    store.record_answer(via="slash", user_id=2, question="New question?", answer="No.", abstained=True,
                        citations=0, abstained_because="stale")
    assert store.stats().reasons == [("", 1), ("stale", 1)]
    assert store.stats().unanswered == [("Old question?", 1), ("New question?", 1)]


def test_empty_stats():
    assert Stats(0, 0, 0, 0).abstention_rate == 0.0
    assert question_key("  Who   WON?! ") == "who won"


# ---------------------------------------------------------------------------------------- settings, checks, logs


def test_settings_read_comma_separated_ids_and_keep_the_token_secret(monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", "abc.def")
    monkeypatch.setenv("DISCORD_GUILD_IDS", "111, 222")
    monkeypatch.setenv("ADMIN_ROLE_IDS", "333")
    monkeypatch.setenv("ASK_CHANNEL_IDS", "")
    monkeypatch.setenv("REINDEX_FOLDERS", '["seeds", "/srv/news"]')
    settings = BotSettings(_env_file=None)
    assert (settings.discord_guild_ids, settings.admin_role_ids, settings.ask_channel_ids) == ([111, 222], [333], [])
    assert [str(p) for p in settings.reindex_folders] == ["seeds", "/srv/news"]
    assert settings.token == "abc.def"
    assert "abc.def" not in repr(settings)
    assert settings.discord_api_base == "https://discord.com/api/v10"
    assert settings.discord_gateway_url == "wss://gateway.discord.gg/"


def test_env_example_lists_every_bot_setting():
    from pathlib import Path

    example = (Path(__file__).resolve().parent.parent / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    assert sorted({name.upper() for name in BotSettings.model_fields} - listed) == []


def test_admins_have_manage_server_or_a_listed_role():
    import discord

    class Member:
        def __init__(self, *role_ids):
            self.roles = [discord.Object(r) for r in role_ids]

    plain = discord.Permissions(send_messages=True)
    assert is_admin(Member(), discord.Permissions(manage_guild=True), [])
    assert is_admin(Member(), discord.Permissions(administrator=True), [])
    assert is_admin(Member(5, 6), plain, [6])
    assert not is_admin(Member(5), plain, [6])
    assert not is_admin(Member(), plain, [])


def test_the_question_budget_is_per_user_and_refills():
    budget = QuestionBudget(rate=2, per=10.0)
    assert [budget.spend(1, now=100.0) is None, budget.spend(1, now=101.0) is None] == [True, True]
    refused = budget.spend(1, now=102.0)
    assert refused is not None and refused.get_retry_after(102.0) == pytest.approx(8.0)
    assert budget.spend(2, now=102.0) is None  # someone else
    assert budget.spend(1, now=111.0) is None  # the window has passed
    assert QuestionBudget(rate=1, per=0).spend(1) is None  # 0 s = no cooldown


def test_logs_never_show_the_token():
    logger = logging.getLogger("bot.test-redaction")
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    handler.addFilter(RedactToken("sekrit.token"))
    logger.addHandler(handler)
    try:
        logger.warning("token is %s", "sekrit.token")
        try:
            raise ValueError("bad token sekrit.token")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    assert [r.getMessage() for r in records] == ["token is [token]", "failed"]
    assert "sekrit.token" not in records[1].exc_text and "ValueError: bad token [token]" in records[1].exc_text


# ---------------------------------------------------------------------------------------- streaming

NEVER_AGAIN = 3600.0  # seconds: no second edit fits in a test


async def settle() -> None:
    """Let every task that can run, run (asyncio runs ready callbacks in order: deterministic)."""
    for _ in range(10):
        await asyncio.sleep(0)


class Screen:
    """A `show` that records what it was given; `hold` keeps the next edit in flight until released."""

    def __init__(self):
        self.shown: list[str] = []
        self.hold: asyncio.Event | None = None
        self.fail_with: Exception | None = None

    async def __call__(self, text: str) -> None:
        if self.hold is not None:
            await self.hold.wait()
        if self.fail_with is not None:
            raise self.fail_with
        self.shown.append(text)


async def test_the_throttle_shows_the_first_text_at_once_and_nothing_more_within_the_interval():
    screen = Screen()
    throttle = EditThrottle(screen, NEVER_AGAIN)
    throttle.offer("one")
    throttle.offer("one two")  # before the first edit even started: the first text is still shown as it was
    await settle()
    assert screen.shown == ["one"]
    throttle.offer("one two three")
    await settle()
    assert screen.shown == ["one"]
    await asyncio.wait_for(throttle.finish(), 5)  # does not wait out the hour
    assert screen.shown == throttle.shown == ["one"]
    throttle.offer("too late")
    await settle()
    assert screen.shown == ["one"]


async def test_after_the_interval_the_newest_text_is_shown_and_older_ones_are_skipped():
    screen = Screen()
    throttle = EditThrottle(screen, 0.01)
    throttle.offer("a")
    await settle()
    throttle.offer("a b")
    throttle.offer("a b c")
    await asyncio.wait_for(_until(lambda: len(screen.shown) == 2), 5)
    await throttle.finish()
    assert screen.shown == ["a", "a b c"]


async def _until(predicate) -> None:
    while not predicate():
        await asyncio.sleep(0.001)


async def test_finish_waits_for_an_edit_in_flight_so_the_final_edit_comes_after_it():
    screen = Screen()
    screen.hold = asyncio.Event()
    throttle = EditThrottle(screen, NEVER_AGAIN)
    throttle.offer("partial")
    await settle()
    finishing = asyncio.ensure_future(throttle.finish())
    await settle()
    assert not finishing.done() and screen.shown == []
    screen.hold.set()
    await asyncio.wait_for(finishing, 5)
    assert screen.shown == ["partial"]


async def test_texts_streamed_in_the_retrieval_thread_reach_the_loop():
    screen = Screen()
    throttle = EditThrottle(screen, NEVER_AGAIN)
    app = NewsdeskApp(FakeNewsdesk(streams=True))
    try:
        asked = await app.ask("Which crossings closed?", as_of=dt.date(2024, 1, 1), on_text=throttle.offer, via="chat")
    finally:
        app.close()
    await settle()
    await throttle.finish()
    # The first text the Newsdesk passed on, from its worker thread (the throttle shows no more).
    assert screen.shown == [asked.answer.text.split(" [1] ")[0] + " [1]"]


async def test_a_failed_edit_stops_the_edits_but_not_the_answer(caplog):
    screen = Screen()
    screen.fail_with = discord.HTTPException(SimpleNamespace(status=429, reason="Too Many Requests"), "slow down")
    throttle = EditThrottle(screen, 0.01)
    with caplog.at_level(logging.INFO, logger="bot.streaming"):
        throttle.offer("a")
        await settle()
        screen.fail_with = None
        throttle.offer("a b")
        await asyncio.sleep(0.05)  # long past the interval: "a b" would have been shown by now
        await throttle.finish()  # raises nothing
    assert screen.shown == []
    assert [r.getMessage() for r in caplog.records if r.name == "bot.streaming"] == [
        "Stopped streaming an answer: an edit failed (429 Too Many Requests (error code: 0): slow down)"
    ]


def test_the_interval_must_be_positive():
    async def make():
        EditThrottle(Screen(), 0)

    with pytest.raises(ValueError, match="the interval between edits must be positive, not 0"):
        asyncio.run(make())


def test_a_partial_answer_is_escaped_marked_as_unfinished_and_fits_one_message():
    assert render_partial("The *council* met. [1]") == "The \\*council\\* met. [1] …"
    long = " ".join(f"Sentence {i} is here. [1]" for i in range(200))
    shown = render_partial(long)
    assert len(shown) <= MESSAGE_LIMIT and shown.endswith("[1] …")
    assert long.startswith(shown.removesuffix(" …"))


@pytest.mark.parametrize("desk", [Newsdesk, FakeNewsdesk], ids=["Newsdesk", "FakeNewsdesk"])
def test_the_newsdesk_and_its_fake_speak_the_service_protocol(desk):
    """Every method the service calls takes the protocol's parameters, with the same kinds and
    defaults, and needs no others: the bot tests' fake cannot drift from the real Newsdesk."""
    drifted = []
    for name in [n for n in vars(Desk) if not n.startswith("_")]:
        wanted = inspect.signature(getattr(Desk, name)).parameters
        found = inspect.signature(getattr(desk, name)).parameters
        for p in wanted.values():
            q = found.get(p.name)
            if q is None or (q.kind, q.default) != (p.kind, p.default):
                drifted.append(f"{name}({p})")
        drifted += [f"{name}: extra {q}" for q in found.values()
                    if q.name not in wanted and q.default is q.empty and q.kind not in (q.VAR_KEYWORD, q.VAR_POSITIONAL)]
    assert drifted == []


def test_a_library_logging_at_debug_is_held_to_the_log_level(capsys):
    # bm25s sets its own logger to DEBUG on import; LOG_LEVEL=INFO must still keep its lines out.
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    try:
        setup_logging("INFO", None)
        noisy = logging.getLogger("test-noisy-library")
        noisy.setLevel(logging.DEBUG)
        noisy.debug("Building index from IDs")
        noisy.info("indexed 3 articles")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        root.setLevel(saved[0])
        for handler in saved[1]:
            root.addHandler(handler)
    err = capsys.readouterr().err
    assert "indexed 3 articles" in err and "Building index from IDs" not in err
