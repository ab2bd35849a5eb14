"""Answers that stream in (an LLM composer): the reply is edited as the verified text grows, no
more often than STREAM_EDIT_SECONDS, then replaced by the final answer.

Edits are counted, never timed. With an interval longer than any test (`NEVER_AGAIN`) exactly
one partial edit can happen, the first text, however many come and however fast; with a short
interval and a stream that waits for each edit to reach Discord before it goes on, every
partial text is shown once. Together: texts are shown, and never faster than the interval.

The fake Newsdesk streams like the LLM composer (its sentences so far, the last one only with
the final answer); the real one runs the real LLMComposer against the scripted OpenAI server
of tests/llm_server.py, over the index of the seed article.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from testing.discord_fake.server import EPHEMERAL, LOADING
from testing.llm_server import Reply, ScriptedLLM, user_text

from bot.formatting import MESSAGE_LIMIT

pytestmark = pytest.mark.asyncio(loop_scope="session")

NEVER_AGAIN = 3600.0  # seconds between edits: no second partial edit fits in a test
QUESTION = "Which crossings closed, and which reopened?"  # three sentences of the fake's border article
S1 = "CBP closed rail crossings in Eagle Pass and El Paso. [1]"
S2 = "Crossings at San Ysidro and Lukeville also closed. [1]"
S3 = "The Lukeville crossing reopened first, on January 4. [1]"
BORDER_SOURCE = "[1] **Border crossings close as migrants arrive** — USA TODAY, 2023-12-21 <https://example.com/border>"
FINAL = f"{S1} {S2} {S3}\n\n**Sources**\n{BORDER_SOURCE}"
APOLOGY = "Sorry, something went wrong on my side. The error has been logged; please try again."


def rest_calls(fake, ix) -> list[tuple[str, str]]:
    """The interaction's REST calls as (method, what): callback, @original, or followup."""
    def what(path: str) -> str:
        if path.endswith("/callback"):
            return "callback"
        return "@original" if path.endswith("/messages/@original") else "followup"

    return [(c.method, what(c.path)) for c in fake.calls_for(ix)]


def edits(fake, ix) -> list[str]:
    return [c.body["content"] for c in fake.calls_for(ix) if c.method == "PATCH"]


async def answered(fake, ix, timeout: float = 30.0) -> list[dict]:
    return await fake.wait_until(
        lambda: (msgs := fake.interaction_messages(ix)) and msgs[-1]["components"] and msgs, timeout=timeout
    )


def wait_for_discord(fake, loop: asyncio.AbstractEventLoop, predicate) -> None:
    """From the Newsdesk's worker thread: block until the fake Discord has seen `predicate`."""
    asyncio.run_coroutine_threadsafe(fake.wait_until(predicate), loop).result(timeout=30)


# ---------------------------------------------------------------------------------------- /ask


async def test_a_streamed_answer_edits_the_reply_once_within_the_interval_then_shows_the_final_answer(
    bot_factory, fake_newsdesk
):
    loop = asyncio.get_running_loop()
    run = await bot_factory(fake_newsdesk, stream_edit_seconds=NEVER_AGAIN)
    fake = run.fake
    fake_newsdesk.streams = True
    # the second text comes once Discord has the first edit: only the interval holds it back
    fake_newsdesk.after_text = lambda text: text == S1 and wait_for_discord(
        fake, loop, lambda: any(c.method == "PATCH" for c in fake.calls)
    )
    ix = await fake.slash("ask", user=fake.make_user("alice"), question=QUESTION)
    (message,) = await answered(fake, ix)

    # two partial texts came ([S1], [S1 S2]); the interval allowed one edit: the first
    assert rest_calls(fake, ix) == [("POST", "callback"), ("PATCH", "@original"), ("PATCH", "@original")]
    assert edits(fake, ix) == [f"{S1} …", FINAL]
    assert message["content"] == FINAL and message["id"] == str(ix.original_id)
    assert [c["custom_id"] for row in message["components"] for c in row["components"]] == [
        "newsdesk:vote:1:up", "newsdesk:vote:1:down"
    ]


async def test_with_time_between_them_every_partial_text_is_shown_once(bot_factory, fake_newsdesk):
    loop = asyncio.get_running_loop()
    run = await bot_factory(fake_newsdesk, stream_edit_seconds=0.01)
    fake = run.fake
    fake_newsdesk.streams = True
    # the stream goes on only once Discord has the edit showing its text so far
    fake_newsdesk.after_text = lambda text: wait_for_discord(
        fake, loop, lambda: any(c.method == "PATCH" and c.body.get("content") == f"{text} …" for c in fake.calls)
    )
    ix = await fake.slash("ask", user=fake.make_user("bob"), question=QUESTION)
    await answered(fake, ix)
    assert edits(fake, ix) == [f"{S1} …", f"{S1} {S2} …", FINAL]


async def test_a_long_streamed_answer_ends_exactly_as_it_would_without_streaming(bot_factory, fake_newsdesk):
    question = "Election turnout per district?"  # 120 cited sentences: 119 partial texts, 7.8k characters
    plain = await bot_factory(fake_newsdesk)
    fake = plain.fake
    unstreamed = [m["content"] for m in await answered(fake, await fake.slash("ask", user=fake.make_user("c"),
                                                                               question=question))]
    await plain.stop()

    fake_newsdesk.streams = True
    await bot_factory(fake_newsdesk, stream_edit_seconds=NEVER_AGAIN)
    ix = await fake.slash("ask", user=fake.make_user("carol"), question=question)
    messages = await answered(fake, ix)

    assert len(unstreamed) == 4
    assert [m["content"] for m in messages] == unstreamed
    assert [bool(m["components"]) for m in messages] == [False, False, False, True]
    assert edits(fake, ix) == [
        "Election sentence number 0 reports turnout in district 0. [1] …",  # the first text only
        unstreamed[0],  # the final answer's first message takes the reply's place…
    ]
    assert rest_calls(fake, ix)[3:] == [("POST", "followup")] * 3  # …and the others follow it
    assert all(len(m["content"]) <= MESSAGE_LIMIT for m in messages)


async def test_without_a_streaming_composer_or_with_streaming_off_there_is_one_final_message(
    bot_factory, fake_newsdesk
):
    fake_newsdesk.streams = True
    run = await bot_factory(fake_newsdesk, stream_edit_seconds=0)  # off: the Newsdesk gets no on_text
    fake = run.fake
    ix = await fake.slash("ask", user=fake.make_user("dan"), question=QUESTION)
    (message,) = await answered(fake, ix)
    assert rest_calls(fake, ix) == [("POST", "callback"), ("POST", "followup")]
    assert message["content"] == FINAL


async def test_a_failure_after_text_was_shown_removes_it_and_apologizes_privately(bot_factory, fake_newsdesk, caplog):
    def fail(text: str) -> None:
        raise RuntimeError("the LLM caught fire")

    fake_newsdesk.streams, fake_newsdesk.after_text = True, fail
    run = await bot_factory(fake_newsdesk, stream_edit_seconds=NEVER_AGAIN)
    fake = run.fake
    ix = await fake.slash("ask", user=fake.make_user("eve"), question=QUESTION)
    (apology,) = await fake.wait_until(
        lambda: (m := fake.interaction_messages(ix)) and m[0]["flags"] & EPHEMERAL and m
    )
    assert (apology["content"], apology["flags"]) == (APOLOGY, EPHEMERAL)
    assert rest_calls(fake, ix) == [("POST", "callback"), ("PATCH", "@original"), ("DELETE", "@original"),
                                    ("POST", "followup")]
    assert edits(fake, ix) == [f"{S1} …"] and ix.deleted_original
    assert any(r.exc_info and isinstance(r.exc_info[1], RuntimeError) for r in caplog.records)


# ---------------------------------------------------------------------------------------- mentions


async def test_a_streamed_mention_answer_is_posted_in_the_thread_then_edited_into_the_final_answer(
    bot_factory, fake_newsdesk
):
    fake_newsdesk.streams = True
    run = await bot_factory(fake_newsdesk, stream_edit_seconds=NEVER_AGAIN)
    fake = run.fake
    alice = fake.make_user("alice")
    question = await fake.post(f"<@{fake.bot_id}> {QUESTION}", user=alice)
    thread_id = int(question["id"])
    (answer,) = await fake.wait_until(lambda: [m for m in fake.channel_messages(thread_id) if m["components"]])
    assert answer["content"] == FINAL
    answer_path = f"/channels/{thread_id}/messages"
    assert [(c.method, c.path, c.body["content"]) for c in fake.calls if c.path.startswith(answer_path)] == [
        ("POST", answer_path, f"{S1} …"),
        ("PATCH", f"{answer_path}/{answer['id']}", FINAL),
    ]

    # a follow-up in the thread: the reply points at it from its first (partial) version on
    follow_up = await fake.post(f"<@{fake.bot_id}> and where did it reopen?", user=alice, channel_id=thread_id)
    first, second = await fake.wait_until(
        lambda: len(m := [m for m in fake.channel_messages(thread_id) if m["components"]]) == 2 and m
    )
    assert int(second["message_reference"]["message_id"]) == int(follow_up["id"])
    assert second["content"] == f"{S1} {S2} {S3}\n\n**Sources**\n{BORDER_SOURCE}"
    assert [c.body["content"] for c in fake.calls if c.path.startswith(answer_path)][2:] == [f"{S1} …", FINAL]
    assert len(fake.channel_messages(thread_id)) == 2 and fake.channel_messages(fake.channel_id) == []


async def test_a_mention_that_fails_mid_stream_puts_the_apology_in_place_of_the_partial_answer(
    bot_factory, fake_newsdesk
):
    def fail(text: str) -> None:
        raise RuntimeError("the LLM caught fire")

    fake_newsdesk.streams, fake_newsdesk.after_text = True, fail
    run = await bot_factory(fake_newsdesk, stream_edit_seconds=NEVER_AGAIN)
    fake = run.fake
    question = await fake.post(f"<@{fake.bot_id}> {QUESTION}", user=fake.make_user("tom"))
    thread_id = int(question["id"])
    (apology,) = await fake.wait_until(
        lambda: (m := fake.channel_messages(thread_id)) and m[0]["content"] == APOLOGY and m
    )
    assert [(c.method, c.body["content"]) for c in fake.calls if c.path.startswith(f"/channels/{thread_id}/messages")] == [
        ("POST", f"{S1} …"), ("PATCH", APOLOGY)
    ]


# ---------------------------------------------------------------------------------------- the real LLM composer

ASKED_ON = dt.datetime(2024, 1, 15, 9, 30, tzinfo=dt.UTC)
SEED_SOURCE = "[1] **Biden, Mexico president agree border crisis needs urgent enforcement** — USA TODAY, 2023-12-21"
RAIL = "Border officials shut the rail crossings at Eagle Pass and El Paso on Dec. 18"
MIGRANTS = "Large numbers of migrants crossing in Texas led to the closures"
OTHERS = "CBP also closed a pedestrian crossing at San Ysidro and vehicle crossings in Lukeville"
OFFLINE = (
    "CBP also closed a busy pedestrian crossing at San Ysidro and vehicle crossings in Lukeville, Ariz., and Eagle "
    "Pass. [1] Tens of thousands of migrants have crossed the border in Texas in recent days, prompting U.S. Customs "
    "and Border Protection to shut down international rail crossings in Eagle Pass and El Paso on Dec. 18. [1]"
)


@pytest.fixture
def llm_server():
    with ScriptedLLM() as scripted:
        yield scripted


@pytest.fixture
def llm_desk(seeded, model, llm_server):
    """The seed article's index with an LLM configured, built as `python -m bot` builds it."""
    from retrieval.config import RetrievalSettings
    from retrieval.service import build_newsdesk

    settings = RetrievalSettings(
        _env_file=None, newsdesk_data_dir=seeded.data_dir, chroma_host=None, llm_provider="openai",
        llm_model="scripted-model", llm_base_url=llm_server.openai_url, llm_timeout_s=20,
    )
    return build_newsdesk(settings, embeddings=model)


async def test_the_real_llm_composer_streams_into_the_reply_and_ends_with_the_verified_answer(
    bot_factory, llm_desk, llm_server
):
    llm_server.reply(Reply(f"{RAIL} [1]. {MIGRANTS} [1]. {OTHERS} [1].", piece_chars=12))
    run = await bot_factory(llm_desk, stream_edit_seconds=NEVER_AGAIN)
    fake = run.fake
    ix = await fake.slash("ask", user=fake.make_user("alice"), question="Which crossings closed?", at=ASKED_ON)
    (message,) = await answered(fake, ix, timeout=60)

    final = f"{RAIL}. [1] {MIGRANTS}. [1] {OTHERS}. [1]\n\n**Sources**\n{SEED_SOURCE}"
    assert edits(fake, ix) == [f"{RAIL}. [1] …", final]
    assert message["content"] == final and message["flags"] & LOADING == 0
    (request,) = llm_server.requests
    assert request["body"]["stream"] is True
    assert user_text(request["body"]).startswith("Question (asked on 2024-01-15): Which crossings closed?\n\n")


async def test_an_llm_answer_that_fails_verification_after_streaming_ends_as_the_quoted_answer_with_its_note(
    bot_factory, llm_desk, llm_server
):
    llm_server.reply(Reply(f"{RAIL} [1]. The crossings were closed because a hurricane flooded the tracks [1]. "
                           "The mayor resigned over it [2]. Nobody knows why.", piece_chars=12))
    run = await bot_factory(llm_desk, stream_edit_seconds=NEVER_AGAIN)
    fake = run.fake
    ix = await fake.slash("ask", user=fake.make_user("bob"), question="Which crossings closed?", at=ASKED_ON)
    (message,) = await answered(fake, ix, timeout=60)

    final = (f"{OFFLINE}\n\n*LLM answer could not be checked against the articles, showing quoted passages*"
             f"\n\n**Sources**\n{SEED_SOURCE}")
    assert edits(fake, ix) == [f"{RAIL}. [1] …", final]  # the verified first sentence, then the fallback
    assert message["content"] == final


async def test_an_unavailable_llm_gives_one_message_the_quoted_answer_with_its_note(bot_factory, llm_desk, llm_server):
    llm_server.reply(Reply(status=500, text="model crashed"))
    run = await bot_factory(llm_desk, stream_edit_seconds=NEVER_AGAIN)
    fake = run.fake
    ix = await fake.slash("ask", user=fake.make_user("carl"), question="Which crossings closed?", at=ASKED_ON)
    (message,) = await answered(fake, ix, timeout=60)
    assert rest_calls(fake, ix) == [("POST", "callback"), ("POST", "followup")]
    assert message["content"] == (
        f"{OFFLINE}\n\n*LLM unavailable, showing quoted passages*\n\n**Sources**\n{SEED_SOURCE}"
    )
