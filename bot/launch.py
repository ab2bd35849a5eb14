"""`make run`: the Discord bot when DISCORD_TOKEN is configured, else a chat in the terminal."""

from __future__ import annotations

import sys

from .config import BotSettings

# View Channels, Send Messages, Read Message History, Create Public Threads, Send Messages in Threads
BOT_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 16) | (1 << 35) | (1 << 38)

SETUP = f"""\
No DISCORD_TOKEN is configured, so Newsdesk starts in the terminal (`newsdesk chat`).
To run it as a Discord bot:
  1. https://discord.com/developers/applications → New Application → Bot → Reset Token.
  2. Put the token in .env: DISCORD_TOKEN=...  (and DISCORD_GUILD_IDS=<your server id> for
     commands that appear at once). .env.example lists every setting.
  3. Invite the bot (replace APP_ID with the application id from General Information):
     https://discord.com/oauth2/authorize?client_id=APP_ID&scope=bot+applications.commands&permissions={BOT_PERMISSIONS}
  4. make run
"""


def main() -> None:
    if BotSettings().token:
        from .__main__ import run

        run()
        return
    print(SETUP, file=sys.stderr)
    from retrieval.cli import app

    app(args=["chat"], prog_name="newsdesk")


if __name__ == "__main__":
    main()
