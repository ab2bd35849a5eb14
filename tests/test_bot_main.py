"""`python -m bot` as a user runs it: four Discord variables and NEWSDESK_DATA_DIR, nothing else."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys

import pytest

pytestmark = pytest.mark.asyncio(loop_scope="session")

TOKEN = "MTIz.main-test.token-value"


async def test_python_m_bot_logs_in_syncs_to_the_guild_and_answers(fake_discord, seeded, tmp_path):
    fake = fake_discord
    data_dir = tmp_path / "data"
    shutil.copytree(seeded.data_dir, data_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "NEWSDESK_", "ADMIN_", "ASK_"))}
    env |= {
        "DISCORD_TOKEN": TOKEN,
        "DISCORD_API_BASE": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "DISCORD_GUILD_IDS": str(fake.guild_id),
        "NEWSDESK_DATA_DIR": str(data_dir),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    lines: list[str] = []

    async def read() -> None:
        async for line in proc.stdout:
            lines.append(line.decode())

    output = asyncio.create_task(read())
    try:
        ready = asyncio.create_task(fake.wait_until(lambda: fake.gateway.identify and fake.commands, timeout=180))
        exited = asyncio.create_task(proc.wait())
        done, _ = await asyncio.wait({ready, exited}, return_when=asyncio.FIRST_COMPLETED)
        assert ready in done, f"python -m bot exited with {proc.returncode}:\n{''.join(lines)}"
        exited.cancel()

        assert list(fake.commands) == [fake.guild_id]
        assert fake.gateway.identify["token"] == TOKEN
        ix = await fake.slash("ask", user=fake.make_user("alice"), question="Which crossings closed?")
        (answer,) = await fake.wait_until(
            lambda: (m := fake.interaction_messages(ix)) and m[-1]["components"] and m, timeout=60
        )
        assert ix.acked_at - ix.sent_at < 3.0
        assert all(c in answer["content"] for c in ["Eagle Pass", "El Paso", "San Ysidro", "Lukeville"])
        assert "— USA TODAY, 2023-12-21" in answer["content"]
        await asyncio.wait_for(_until(lambda: any("Logged in as Newsdesk" in line for line in lines)), 30)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(proc.wait(), 30)
    await output
    log = "".join(lines)
    assert code == 0, log
    assert f"Synced 8 commands to guild {fake.guild_id}" in log  # 6, /feeds and /digest
    assert "INFO     bot.client: Logged in as Newsdesk" in log  # plain lines when not on a terminal
    assert TOKEN not in log
    assert (data_dir / "feedback.sqlite3").exists()


async def test_python_m_bot_without_a_token_says_how_to_set_one(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISCORD_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env | {"NEWSDESK_DATA_DIR": str(tmp_path / "data")},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 2
    assert "DISCORD_TOKEN is not set" in out.decode()


async def _until(predicate) -> None:
    while not predicate():
        await asyncio.sleep(0.05)


async def test_make_run_without_a_token_explains_the_setup_and_starts_the_terminal_chat(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISCORD_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.launch", cwd=tmp_path, env=env | {"NEWSDESK_DATA_DIR": str(tmp_path / "data")},
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(b""), 120)  # an empty chat: ends at once
    assert proc.returncode == 0, err.decode()
    assert err.decode().startswith("No DISCORD_TOKEN is configured, so Newsdesk starts in the terminal (`newsdesk chat`).")
    assert "scope=bot+applications.commands&permissions=309237713920" in err.decode()
