"""The bot end to end: the real discord.py client against the loopback Discord, with the
deterministic FakeNewsdesk behind it (tests/fake_newsdesk.py explains its answers).

Every test also checks, at teardown (the `fake_discord` fixture), that each message the bot
sent or edited has `allowed_mentions` that ping nobody and that it used no unknown route.
"""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from bot_fixtures import start_bot, stored_votes
from testing.discord_fake.server import EPHEMERAL, LOADING
from fake_newsdesk import ABSTAIN

from bot.commands import HELP
from bot.formatting import MESSAGE_LIMIT

pytestmark = pytest.mark.asyncio(loop_scope="session")

ACK_WINDOW = 3.0  # seconds Discord gives an interaction to be acknowledged

BORDER_ANSWER = (
    "CBP closed rail crossings in Eagle Pass and El Paso. [1] Crossings at San Ysidro and Lukeville also closed. [1]"
    "\n\n**Sources**\n"
    "[1] **Border crossings close as migrants arrive** — USA TODAY, 2023-12-21 <https://example.com/border>"
)
GUILDS, GUILD_MESSAGES, DIRECT_MESSAGES, MESSAGE_CONTENT = 1 << 0, 1 << 9, 1 << 12, 1 << 15


def buttons(message: dict) -> list[str]:
    return [c["custom_id"] for row in message["components"] for c in row["components"]]


async def answered(fake, ix) -> list[dict]:
    """The messages of an answered /ask (the last one carries the vote buttons)."""
    return await fake.wait_until(
        lambda: (msgs := fake.interaction_messages(ix)) and msgs[-1]["components"] and msgs
    )


async def replied(fake, ix) -> list[dict]:
    """The messages of an interaction once it has a reply that is not the thinking state."""
    return await fake.wait_until(
        lambda: (msgs := [m for m in fake.interaction_messages(ix) if not m["flags"] & LOADING]) and msgs
    )


async def thread_answers(fake, thread_id: int, count: int) -> list[dict]:
    """The bot's answers (messages with vote buttons) in a thread, once there are `count`."""
    return await fake.wait_until(
        lambda: len(msgs := [m for m in fake.channel_messages(thread_id) if m["components"]]) >= count and msgs
    )


# ---------------------------------------------------------------------------------------- start


async def test_logs_in_syncs_commands_to_the_guild_and_identifies_with_minimal_intents(fake_bot):
    fake = fake_bot.fake
    assert [(c.method, c.path) for c in fake.calls[:3]] == [
        ("GET", "/users/@me"),
        ("GET", "/oauth2/applications/@me"),
        ("PUT", f"/applications/{fake.app_id}/guilds/{fake.guild_id}/commands"),
    ]
    assert set(fake.commands) == {fake.guild_id}  # guild sync only, no global one
    synced = {c["name"]: c for c in fake.commands[fake.guild_id]}
    assert sorted(synced) == ["ask", "help", "reindex", "sources", "stats", "summary"]
    assert synced["ask"]["description"] == "Ask a question about the news archive; the answer cites its sources."
    assert [o["name"] for o in synced["summary"]["options"]] == ["article", "topic", "since", "until"]
    assert synced["summary"]["options"][0]["autocomplete"] is True
    # Discord refuses descriptions over 100 characters; discord.py would cut ours with "…"
    descriptions = [c["description"] for c in synced.values()] + [
        o["description"] for c in synced.values() for o in c.get("options", [])
    ]
    assert max(len(d) for d in descriptions) <= 100 and not any(d.endswith("…") for d in descriptions)
    # hiding admin commands from others is a courtesy (the check runs anyway, see below)
    assert synced["reindex"]["default_member_permissions"] == 1 << 5  # Manage Server
    assert synced["stats"]["default_member_permissions"] == 1 << 5
    assert synced["ask"]["default_member_permissions"] is None
    assert fake.gateway.identify["intents"] == GUILDS | GUILD_MESSAGES | DIRECT_MESSAGES
    assert fake.gateway.identify["token"] == "test-token.not-a-secret"


# ---------------------------------------------------------------------------------------- /ask


async def test_ask_defers_at_once_then_answers_with_numbered_sources_and_vote_buttons(fake_bot, fake_newsdesk):
    fake = fake_bot.fake
    ix = await fake.slash("ask", user=fake.make_user("alice"), question="Which crossings closed?")
    messages = await answered(fake, ix)

    assert ix.callback_type == 5 and not ix.ephemeral_defer  # "thinking", public
    assert ix.acked_at - ix.sent_at < ACK_WINDOW
    assert [m["content"] for m in messages] == [BORDER_ANSWER]
    assert messages[0]["id"] == str(ix.original_id)  # the answer took the thinking message's place
    # one final message, no edits (answers stream only from an LLM composer: test_bot_streaming.py)
    assert [c.method for c in fake.calls_for(ix)] == ["POST", "POST"]
    assert buttons(messages[0]) == ["newsdesk:vote:1:up", "newsdesk:vote:1:down"]
    assert fake_newsdesk.asked() == [("ask", "Which crossings closed?", None)]


async def test_a_rate_limited_answer_is_sent_again_after_the_wait_discord_asks_for(fake_bot):
    fake = fake_bot.fake
    fake.rate_limit("POST", rf"/webhooks/{fake.app_id}/[^/]+", retry_after=0.3)  # the follow-up with the answer
    ix = await fake.slash("ask", user=fake.make_user("alice"), question="Which crossings closed?")
    messages = await answered(fake, ix)
    assert [m["content"] for m in messages] == [BORDER_ANSWER]
    [limited] = fake.rate_limited
    retried = [c for c in fake.calls_for(ix) if c.method == "POST" and c.path == limited.path]
    # Sent again only after the wait Discord asked for (less asyncio's clock tolerance).
    assert len(retried) == 2 and retried[1].at - retried[0].at >= 0.29


async def test_an_abstention_lists_no_sources(fake_bot):
    fake = fake_bot.fake
    ix = await fake.slash("ask", user=fake.make_user("bob"), question="What erupted in Iceland?")
    messages = await answered(fake, ix)
    assert [m["content"] for m in messages] == [ABSTAIN]


async def test_an_empty_question_gets_a_private_hint_without_calling_retrieval(fake_bot, fake_newsdesk):
    fake = fake_bot.fake
    ix = await fake.slash("ask", user=fake.make_user("carol"), question="   ")
    messages = await replied(fake, ix)
    assert ix.callback_type == 4
    assert [(m["content"], m["flags"]) for m in messages] == [
        ("Please ask a question, e.g. “which border crossings closed?”", EPHEMERAL)
    ]
    assert fake_newsdesk.asked() == []


async def test_an_overlong_question_gets_a_private_hint(fake_bot, fake_newsdesk):
    fake = fake_bot.fake
    ix = await fake.slash("ask", user=fake.make_user("carol"), question="why " * 200)
    messages = await replied(fake, ix)
    assert [(m["content"], m["flags"]) for m in messages] == [
        ("That question is 799 characters long; please keep it under 500.", EPHEMERAL)
    ]
    assert fake_newsdesk.asked() == []


async def test_an_unexpected_error_gets_a_private_apology_a_logged_traceback_and_the_bot_carries_on(
    fake_bot, fake_newsdesk, caplog
):
    fake = fake_bot.fake
    user = fake.make_user("dave")
    fake_newsdesk.fail_with = RuntimeError("the index caught fire")
    ix = await fake.slash("ask", user=user, question="Which crossings closed?")
    messages = await replied(fake, ix)

    assert ix.deleted_original  # the public "thinking" message is removed…
    assert [(m["content"], m["flags"]) for m in messages] == [  # …and the apology is private
        ("Sorry, something went wrong on my side. The error has been logged; please try again.", EPHEMERAL)
    ]
    failures = [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], RuntimeError)]
    assert [r.getMessage() for r in failures] == ["Command /ask failed"]

    fake_newsdesk.fail_with = None
    again = await fake.slash("ask", user=user, question="Which crossings closed?")
    assert [m["content"] for m in await answered(fake, again)] == [BORDER_ANSWER]


async def test_the_per_user_cooldown_answers_kindly_and_spares_other_users(bot_factory, fake_newsdesk):
    run = await bot_factory(fake_newsdesk, ask_cooldown_rate=1, ask_cooldown_seconds=60)
    fake = run.fake
    alice, bob = fake.make_user("alice"), fake.make_user("bob")
    first = await fake.slash("ask", user=alice, question="Which crossings closed?")
    await answered(fake, first)
    second = await fake.slash("ask", user=alice, question="Which crossings closed?")
    (refusal,) = await replied(fake, second)
    assert refusal["flags"] == EPHEMERAL
    assert re.fullmatch(r"Easy there, you're asking faster than I can read\. Try again in (59|60) s\.",
                        refusal["content"])
    other = await fake.slash("ask", user=bob, question="Which crossings closed?")
    await answered(fake, other)
    assert len(fake_newsdesk.asked()) == 2


async def test_a_long_answer_is_split_into_messages_of_at_most_2000_characters(fake_bot):
    fake = fake_bot.fake
    ix = await fake.slash("ask", user=fake.make_user("erin"), question="Election turnout per district?")
    messages = await answered(fake, ix)

    texts = [m["content"] for m in messages]
    assert len(texts) == 4  # 7.8k characters: four messages, each as full as sentence ends allow
    assert all(len(t) <= MESSAGE_LIMIT for t in texts)
    # cut only between sentences: each message ends with a sentence's citation, none starts mid-sentence
    assert all(t.endswith("[1]") for t in texts[:-1])
    assert all(t.startswith("Election sentence number") for t in texts)
    body = " ".join(texts[:-1] + [texts[-1].split("\n\n**Sources**")[0]])
    assert body == " ".join(f"Election sentence number {i} reports turnout in district {i}. [1]" for i in range(120))
    assert texts[-1].endswith(
        "**Sources**\n[1] **A very long election story** — Herald, 2023-10-01 <https://example.com/election>"
    )
    assert [bool(m["components"]) for m in messages] == [False, False, False, True]


async def test_article_text_can_neither_ping_nor_format(fake_bot):
    fake = fake_bot.fake
    ix = await fake.slash("ask", user=fake.make_user("frank"), question="What did the council decide on the budget?")
    (message,) = await answered(fake, ix)
    zwsp = "\u200b"
    assert message["content"] == (
        f"@{zwsp}everyone the council approved the \\*\\*budget\\*\\* <{zwsp}@123456789012345678> and "
        f"<{zwsp}@&987654321098765432> cheered. [1] "
        "The council's \\`code\\` of \\_\\_conduct\\_\\_ was \\~\\~struck\\~\\~ as \\|\\|secret\\|\\|. [1] "
        "\\[Council minutes\\](https://evil.example) are online. [1]"
        "\n\n**Sources**\n"
        f"[1] **Council \\*votes\\* on the @{zwsp}everyone budget** — Gazette, 2023-11-02 <https://example.com/council_(budget)>"
    )
    (call,) = [c for c in fake.calls_for(ix) if c.message]
    assert call.message["allowed_mentions"] == {"parse": []}


# ---------------------------------------------------------------------------------------- mentions


async def test_a_mention_is_answered_in_a_new_thread_and_a_follow_up_there_uses_the_earlier_question(
    fake_bot, fake_newsdesk
):
    fake = fake_bot.fake
    alice = fake.make_user("alice")
    question = await fake.post(f"<@{fake.bot_id}> which crossings closed?", user=alice)
    thread_id = int(question["id"])  # a thread started on a message shares its id
    (answer,) = await thread_answers(fake, thread_id, 1)

    assert fake.threads[thread_id]["name"] == "which crossings closed?"
    assert fake.threads[thread_id]["parent_id"] == str(fake.channel_id)
    assert answer["content"] == BORDER_ANSWER
    assert fake.channel_messages(fake.channel_id) == []  # nothing posted in the channel itself

    follow_up = await fake.post(f"<@{fake.bot_id}> and which one reopened first?", user=alice, channel_id=thread_id)
    first, second = await thread_answers(fake, thread_id, 2)
    # the fake matches on the words of the earlier question too, so the first two sentences come back
    assert second["content"] == (
        "CBP closed rail crossings in Eagle Pass and El Paso. [1] Crossings at San Ysidro and Lukeville also closed. [1] "
        "The Lukeville crossing reopened first, on January 4. [1]\n\n**Sources**\n"
        "[1] **Border crossings close as migrants arrive** — USA TODAY, 2023-12-21 <https://example.com/border>"
    )
    assert fake_newsdesk.asked() == [
        ("ask", "which crossings closed?", None),
        ("ask", "and which one reopened first?", ["which crossings closed?"]),
    ]
    assert len(fake.threads) == 1
    typing = [c.path for c in fake.calls if c.path.endswith("/typing")]
    assert typing == [f"/channels/{thread_id}/typing"] * 2
    # the follow-up's answer replies to the follow-up; the first one opens the thread instead
    assert "message_reference" not in first
    assert int(second["message_reference"]["message_id"]) == int(follow_up["id"])


async def test_a_mention_that_fails_gets_an_apology_in_its_thread_and_the_bot_carries_on(
    fake_bot, fake_newsdesk, caplog
):
    fake = fake_bot.fake
    user = fake.make_user("tom")
    fake_newsdesk.fail_with = RuntimeError("the index caught fire")
    question = await fake.post(f"<@{fake.bot_id}> which crossings closed?", user=user)
    thread_id = int(question["id"])
    (apology,) = await fake.wait_until(lambda: fake.channel_messages(thread_id))
    assert apology["content"] == "Sorry, something went wrong on my side. The error has been logged; please try again."
    assert any(r.exc_info and isinstance(r.exc_info[1], RuntimeError) for r in caplog.records)

    fake_newsdesk.fail_with = None
    await fake.post(f"<@{fake.bot_id}> which crossings closed?", user=user, channel_id=thread_id)
    (answer,) = await thread_answers(fake, thread_id, 1)
    assert answer["content"] == BORDER_ANSWER


async def test_messages_not_meant_for_the_bot_are_ignored(fake_bot, fake_newsdesk):
    fake = fake_bot.fake
    user = fake.make_user("gina")
    await fake.post("@everyone which crossings closed?", user=user)
    await fake.post("which crossings closed?", user=user)
    # a mention after them shows the bot read them all (events are handled in order)
    mention = await fake.post(f"<@{fake.bot_id}> which crossings closed?", user=user)
    await thread_answers(fake, int(mention["id"]), 1)
    assert fake_newsdesk.asked() == [("ask", "which crossings closed?", None)]
    assert len(fake.threads) == 1


async def test_a_direct_message_needs_no_mention_and_is_answered_in_place(fake_bot, fake_newsdesk):
    fake = fake_bot.fake
    sam = fake.make_user("sam")
    question = await fake.post("which crossings closed?", user=sam, dm=True)
    dm = fake.dm_channel(sam)
    (answer,) = await thread_answers(fake, dm, 1)
    assert answer["content"] == BORDER_ANSWER
    assert int(answer["message_reference"]["message_id"]) == int(question["id"])
    assert "guild_id" not in answer and fake.threads == {}
    assert fake_newsdesk.asked() == [("ask", "which crossings closed?", None)]


async def test_a_bare_mention_gets_a_hint(fake_bot, fake_newsdesk):
    fake = fake_bot.fake
    question = await fake.post(f"<@{fake.bot_id}>", user=fake.make_user("hal"))
    (hint,) = await fake.wait_until(lambda: fake.channel_messages(fake.channel_id))
    assert hint["content"] == "Ask me a question after the mention, e.g. “@Newsdesk which border crossings closed?”"
    assert int(hint["message_reference"]["message_id"]) == int(question["id"])
    assert fake_newsdesk.asked() == []


async def test_with_the_message_content_intent_follow_ups_and_ask_channels_need_no_mention(
    bot_factory, fake_discord, fake_newsdesk
):
    fake = fake_discord
    await bot_factory(fake_newsdesk, message_content_intent=True, ask_channel_ids=[fake.other_channel_id])
    assert fake.gateway.identify["intents"] == GUILDS | GUILD_MESSAGES | DIRECT_MESSAGES | MESSAGE_CONTENT
    ivy = fake.make_user("ivy")

    question = await fake.post(f"<@{fake.bot_id}> which crossings closed?", user=ivy)
    thread_id = int(question["id"])
    await thread_answers(fake, thread_id, 1)
    await fake.post("and which one reopened first?", user=ivy, channel_id=thread_id)
    await thread_answers(fake, thread_id, 2)

    await fake.post("which crossings closed?", user=ivy)  # plain message in #news: not for the bot
    plain = await fake.post("what did the council approve?", user=ivy, channel_id=fake.other_channel_id)
    await thread_answers(fake, int(plain["id"]), 1)

    assert fake_newsdesk.asked() == [
        ("ask", "which crossings closed?", None),
        ("ask", "and which one reopened first?", ["which crossings closed?"]),
        ("ask", "what did the council approve?", None),
    ]


# ---------------------------------------------------------------------------------------- the news date of a question


async def test_a_question_is_asked_as_of_the_utc_day_its_interaction_was_created(fake_bot, fake_newsdesk):
    fake = fake_bot.fake
    user = fake.make_user("uma")
    for second_around_midnight in (dt.datetime(2023, 12, 20, 23, 59, 59, tzinfo=dt.UTC),
                                   dt.datetime(2023, 12, 21, 0, 0, 1, tzinfo=dt.UTC)):
        await answered(fake, await fake.slash("ask", user=user, question="Which crossings closed?",
                                              at=second_around_midnight))
    assert fake_newsdesk.dates == [
        ("ask", "Which crossings closed?", dt.date(2023, 12, 20)),
        ("ask", "Which crossings closed?", dt.date(2023, 12, 21)),
    ]


async def test_a_mention_and_its_follow_up_are_asked_as_of_their_messages_days(fake_bot, fake_newsdesk):
    fake = fake_bot.fake
    vic = fake.make_user("vic")
    question = await fake.post(f"<@{fake.bot_id}> which crossings closed?", user=vic,
                               at=dt.datetime(2023, 12, 19, 8, 0, tzinfo=dt.UTC))
    thread_id = int(question["id"])
    await thread_answers(fake, thread_id, 1)
    await fake.post(f"<@{fake.bot_id}> and which one reopened first?", user=vic, channel_id=thread_id,
                    at=dt.datetime(2024, 1, 5, 17, 30, tzinfo=dt.UTC))
    await thread_answers(fake, thread_id, 2)
    assert fake_newsdesk.dates == [
        ("ask", "which crossings closed?", dt.date(2023, 12, 19)),
        ("ask", "and which one reopened first?", dt.date(2024, 1, 5)),
    ]


async def test_a_topic_summary_is_as_of_its_interaction_day(fake_bot, fake_newsdesk):
    fake = fake_bot.fake
    ix = await fake.slash("summary", user=fake.make_user("wes"), topic="budget",
                          at=dt.datetime(2023, 11, 3, 12, 0, tzinfo=dt.UTC))
    await replied(fake, ix)
    assert fake_newsdesk.dates == [("summarize_topic", "budget", dt.date(2023, 11, 3))]


async def test_a_period_summary_without_an_end_runs_to_its_interaction_day(fake_bot, fake_newsdesk):
    fake = fake_bot.fake
    ix = await fake.slash("summary", user=fake.make_user("wes"), since="2023-10-01",
                          at=dt.datetime(2023, 11, 3, 12, 0, tzinfo=dt.UTC))
    (message,) = await replied(fake, ix)
    assert fake_newsdesk.dates == [("summarize_dates", "2023-10-01", dt.date(2023, 11, 3))]
    assert message["content"].startswith("**News from 2023-10-01 to 2023-11-03**")


# ---------------------------------------------------------------------------------------- /summary, /sources, /help


async def test_summary_of_an_article_chosen_by_autocomplete(fake_bot, fake_newsdesk):
    fake = fake_bot.fake
    user = fake.make_user("jo")
    choices = await fake.autocomplete("summary", "article", "BORDER", user=user)
    assert choices == [{"name": "Border crossings close as migrants arrive", "value": "border-1"}]
    ix = await fake.slash("summary", user=user, article="border-1")
    (message,) = await replied(fake, ix)
    assert message["content"] == (
        "**Summary of Border crossings close as migrants arrive**\n\n"
        "CBP closed rail crossings in Eagle Pass and El Paso. [1]\n\n**Sources**\n"
        "[1] **Border crossings close as migrants arrive** — USA TODAY, 2023-12-21 <https://example.com/border>"
    )
    assert fake_newsdesk.calls[-1] == ("summarize_article", "border-1")


async def test_summary_of_a_topic(fake_bot):
    fake = fake_bot.fake
    ix = await fake.slash("summary", user=fake.make_user("jo"), topic="budget")
    (message,) = await replied(fake, ix)
    assert message["content"].startswith("**Summary on budget**\n\n@\u200beveryone the council approved the")
    assert message["content"].endswith(
        "[1] **Council \\*votes\\* on the @\u200beveryone budget** — Gazette, 2023-11-02 "
        "<https://example.com/council_(budget)>"
    )


async def test_summary_of_a_period(fake_bot, fake_newsdesk):
    fake = fake_bot.fake
    ix = await fake.slash("summary", user=fake.make_user("jo"), since="2023-10-01", until="2023-11-30")
    (message,) = await replied(fake, ix)
    assert message["content"] == (
        "**News from 2023-10-01 to 2023-11-30**\n\n"
        "@\u200beveryone the council approved the \\*\\*budget\\*\\* <\u200b@123456789012345678> and "
        "<\u200b@&987654321098765432> cheered. [1] "
        "Election sentence number 0 reports turnout in district 0. [2]\n\n**Sources**\n"
        "[1] **Council \\*votes\\* on the @\u200beveryone budget** — Gazette, 2023-11-02 <https://example.com/council_(budget)>\n"
        "[2] **A very long election story** — Herald, 2023-10-01 <https://example.com/election>"
    )
    assert fake_newsdesk.calls[-1] == ("summarize_dates", dt.date(2023, 10, 1), dt.date(2023, 11, 30))


@pytest.mark.parametrize(
    ("options", "reply"),
    [
        ({}, "Give exactly one of `article:`, `topic:`, or `since:` (with an optional `until:`)."),
        ({"topic": "budget", "since": "2023-01-01"},
         "Give exactly one of `article:`, `topic:`, or `since:` (with an optional `until:`)."),
        ({"until": "2023-01-01"}, "`until:` needs a `since:` date too."),
        ({"since": "last tuesday"}, "“last tuesday” is not a date I understand for since. Use dates like 2023-12-21."),
        ({"article": "nothing-like-it"}, "No article with id “nothing-like-it”. `/sources` lists what is indexed."),
    ],
)
async def test_summary_misuse_gets_a_private_explanation(fake_bot, options, reply):
    fake = fake_bot.fake
    ix = await fake.slash("summary", user=fake.make_user("kim"), **options)
    messages = await replied(fake, ix)
    assert [(m["content"], m["flags"]) for m in messages] == [(reply, EPHEMERAL)]


async def test_sources_lists_counts_dates_and_pages_of_titles(bot_factory, fake_newsdesk):
    run = await bot_factory(fake_newsdesk, sources_page_size=2)
    fake = run.fake
    first = await fake.slash("sources", user=fake.make_user("lee"))
    second = await fake.slash("sources", user=fake.make_user("lee"), page=2)
    ((page1,), (page2,)) = [await replied(fake, first), await replied(fake, second)]
    assert page1["content"] == (
        "**3 articles indexed** · newest 2023-12-21 · oldest 2023-10-01\n\n"
        "1. Border crossings close as migrants arrive — USA TODAY, 2023-12-21\n"
        "2. Council \\*votes\\* on the @\u200beveryone budget — Gazette, 2023-11-02\n\n"
        "Page 1/2 · `/sources page:2` for more"
    )
    assert page2["content"] == (
        "**3 articles indexed** · newest 2023-12-21 · oldest 2023-10-01\n\n"
        "3. A very long election story — Herald, 2023-10-01\n\n"
        "Page 2/2 · `/sources page:1` for more"
    )


async def test_help_explains_the_commands_privately(fake_bot):
    fake = fake_bot.fake
    ix = await fake.slash("help", user=fake.make_user("max"))
    assert [(m["content"], m["flags"]) for m in await replied(fake, ix)] == [(HELP, EPHEMERAL)]


# ---------------------------------------------------------------------------------------- /reindex


async def test_reindex_by_a_non_admin_is_refused_and_the_index_untouched(fake_bot, fake_newsdesk):
    fake = fake_bot.fake
    ix = await fake.slash("reindex", user=fake.make_user("nina"))
    messages = await replied(fake, ix)
    assert [(m["content"], m["flags"]) for m in messages] == [
        ("Only server admins (Manage Server, or an admin role) can do that.", EPHEMERAL)
    ]
    assert [c for c in fake_newsdesk.calls if c[0] == "index"] == []


async def test_reindex_runs_in_the_background_reports_progress_and_counts_and_questions_still_get_answers(
    fake_bot, fake_newsdesk
):
    fake = fake_bot.fake
    admin = fake.make_user("olga")
    fake_newsdesk.index_gate = gate = threading.Event()
    ix = await fake.slash("reindex", user=admin, admin=True)
    await fake.wait_until(lambda: fake_newsdesk.index_started.is_set())
    (reply,) = await fake.wait_until(
        lambda: (m := fake.interaction_messages(ix)) and m[0]["content"].endswith("0/2 chunks embedded.") and m
    )
    assert reply["content"] == "Reindexing `seeds`… 0/2 chunks embedded."

    # while it runs: questions are answered, and a second /reindex is told to wait
    question = await fake.slash("ask", user=fake.make_user("pat"), question="Which crossings closed?")
    assert [m["content"] for m in await answered(fake, question)] == [BORDER_ANSWER]
    again = await fake.slash("reindex", user=admin, admin=True)
    assert [(m["content"], m["flags"]) for m in await replied(fake, again)] == [(
        "A reindex is already running (0/2 chunks embedded, "
        f"started by <@{admin['id']}>); "
        "its reply will show the counts when it ends.",
        EPHEMERAL,
    )]

    gate.set()
    (final,) = await fake.wait_until(
        lambda: (m := fake.interaction_messages(ix)) and "finished" in m[0]["content"] and m
    )
    assert final["content"] == (
        "Reindex of `seeds` finished: **1** added · **2** updated · **3** unchanged · **0** deleted · **1** failed"
        "\n\n**Failures**\n• seeds/bad.json:3: no text"
    )
    edits = [c.body["content"] for c in fake.calls_for(ix) if c.method == "PATCH"]
    assert edits[0] == "Reindexing `seeds`… 0/2 chunks embedded." and edits[-1] == final["content"]
    assert set(edits[1:-1]) <= {"Reindexing `seeds`… 2/2 chunks embedded."}  # if it looked in just before the end
    assert [c for c in fake_newsdesk.calls if c[0] == "index"] == [("index", ["seeds"], True)]


async def test_a_reindex_outliving_its_interaction_token_reports_in_the_channel(fake_bot, fake_newsdesk):
    fake = fake_bot.fake
    fake_newsdesk.index_gate = gate = threading.Event()
    ix = await fake.slash("reindex", user=fake.make_user("olga"), admin=True)
    await fake.wait_until(lambda: (m := fake.interaction_messages(ix)) and m[0]["content"].endswith("0/2 chunks embedded."))
    fake.expired_tokens.add(ix.token)  # 15 minutes later…
    gate.set()
    (report,) = await fake.wait_until(lambda: fake.channel_messages(fake.channel_id))
    assert report["content"].startswith("Reindex of `seeds` finished: **1** added")
    assert fake.interaction_messages(ix)[0]["content"] == "Reindexing `seeds`… 0/2 chunks embedded."


async def test_a_failing_reindex_says_why(fake_bot, fake_newsdesk):
    from retrieval.errors import StoreUnavailableError

    fake = fake_bot.fake
    fake_newsdesk.index_error = StoreUnavailableError("chroma at localhost:8000 does not answer")
    ix = await fake.slash("reindex", user=fake.make_user("olga"), admin=True)
    (final,) = await fake.wait_until(
        lambda: (m := fake.interaction_messages(ix)) and m[0]["content"].startswith("Reindex failed") and m
    )
    assert final["content"] == (
        "Reindex failed: The archive is not reachable right now. Please try again in a moment."
    )
    # and the next one may start
    fake_newsdesk.index_error = None
    again = await fake.slash("reindex", user=fake.make_user("olga"), admin=True)
    await fake.wait_until(lambda: (m := fake.interaction_messages(again)) and "finished" in m[0]["content"])


async def test_a_role_listed_in_admin_role_ids_may_reindex(bot_factory, fake_discord, fake_newsdesk):
    fake = fake_discord
    await bot_factory(fake_newsdesk, admin_role_ids=[fake.admin_role_id])
    ix = await fake.slash("reindex", user=fake.make_user("quinn"), roles=[fake.admin_role_id])
    (final,) = await fake.wait_until(
        lambda: (m := fake.interaction_messages(ix)) and "finished" in m[0]["content"] and m
    )
    assert final["content"].startswith("Reindex of `seeds` finished: **1** added")
    assert [c[0] for c in fake_newsdesk.calls].count("index") == 1


# ---------------------------------------------------------------------------------------- feedback, /stats


async def test_votes_are_stored_survive_a_restart_and_show_in_stats(bot_factory, fake_newsdesk, tmp_path):
    run = await bot_factory(fake_newsdesk)
    fake = run.fake
    alice, bob, admin = fake.make_user("alice"), fake.make_user("bob"), fake.make_user("admin")
    asked = await fake.slash("ask", user=alice, question="Which crossings closed?")
    (answer,) = await answered(fake, asked)
    for who, question in [(alice, "What erupted in Iceland?"), (bob, "what erupted in iceland"),
                          (bob, "Who won the chess final?")]:
        await answered(fake, await fake.slash("ask", user=who, question=question))

    click = await fake.click(answer, "newsdesk:vote:1:up", user=alice)
    assert [(m["content"], m["flags"]) for m in await replied(fake, click)] == [("Thanks for the feedback!", EPHEMERAL)]
    await replied(fake, await fake.click(answer, "newsdesk:vote:1:down", user=bob))
    assert stored_votes(run.feedback.path, 1) == {int(alice["id"]): 1, int(bob["id"]): -1}

    # a restart: a new bot over the same data directory still takes votes on the old message
    await run.stop()
    run = await bot_factory(fake_newsdesk)
    await replied(fake, await fake.click(answer, "newsdesk:vote:1:up", user=bob))  # bob changes his mind
    assert stored_votes(run.feedback.path, 1) == {int(alice["id"]): 1, int(bob["id"]): 1}

    stats = await fake.slash("stats", user=admin, admin=True)
    (message,) = await replied(fake, stats)
    assert (message["content"], message["flags"]) == (
        "**Questions asked:** 4\n"
        "**Unanswered (abstained):** 3 (75%)\n"
        "- no passage is close to the question: 3\n"
        "**Feedback:** 👍 2 · 👎 0\n\n"
        "**Most frequent unanswered questions**\n"
        "2× What erupted in Iceland?\n"
        "1× Who won the chess final?",
        EPHEMERAL,
    )
    refused = await fake.slash("stats", user=alice)
    assert [m["content"] for m in await replied(fake, refused)] == [
        "Only server admins (Manage Server, or an admin role) can do that."
    ]


# ---------------------------------------------------------------------------------------- the gateway


async def test_after_a_gateway_reconnect_op_7_the_bot_resumes_and_keeps_answering(fake_bot):
    fake = fake_bot.fake
    session, seq = fake.gateway.session_id, fake.gateway.seq
    await fake.reconnect()
    assert fake.gateway.resumes == [{"seq": seq, "session_id": session, "token": "test-token.not-a-secret"}]
    assert fake.gateway.connections == 2
    ix = await fake.slash("ask", user=fake.make_user("ruth"), question="Which crossings closed?")
    assert [m["content"] for m in await answered(fake, ix)] == [BORDER_ANSWER]
    assert ix.acked_at - ix.sent_at < ACK_WINDOW


@pytest.mark.parametrize("resumable", [False, True])
async def test_after_an_invalid_session_op_9_the_bot_carries_on_without_setting_up_again(fake_bot, resumable):
    """Not resumable: a fresh IDENTIFY and a new session (READY again); resumable: a RESUME of
    the same session. Either way the bot answers, and commands are not synced a second time."""
    fake = fake_bot.fake
    session, syncs = fake.gateway.session_id, len([c for c in fake.calls if c.path.endswith("/commands")])
    await fake.invalidate_session(resumable=resumable)
    assert fake.gateway.connections == 2
    if resumable:
        assert (fake.gateway.identifies, fake.gateway.session_id) == (1, session)
        assert [r["session_id"] for r in fake.gateway.resumes] == [session]
    else:
        assert (fake.gateway.identifies, fake.gateway.resumes) == (2, [])
        assert fake.gateway.session_id != session
    ix = await fake.slash("ask", user=fake.make_user("ruth"), question="Which crossings closed?")
    assert [m["content"] for m in await answered(fake, ix)] == [BORDER_ANSWER]
    assert len([c for c in fake.calls if c.path.endswith("/commands")]) == syncs == 1


async def test_a_failing_start_surfaces_its_error(fake_discord, fake_newsdesk, tmp_path):
    """The harness itself: a malformed dispatch must fail the test, not hang it."""
    fake_discord.channels[fake_discord.channel_id].pop("name")  # discord.py needs a channel's name
    with pytest.raises(KeyError, match="name"):
        await start_bot(fake_discord, fake_newsdesk, tmp_path)
    fake_discord.channels[fake_discord.channel_id]["name"] = "news"
