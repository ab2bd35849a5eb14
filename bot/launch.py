"""`make run`'s last step: the Discord bot when a token is configured, else the terminal chat."""

from __future__ import annotations

import os
import sys


def main() -> int:
    from bot.config import BotSettings

    if BotSettings().discord_token:
        os.execv(sys.executable, [sys.executable, "-m", "bot"])
    print(
        "No DISCORD_TOKEN is configured, so Newsdesk starts in the terminal instead.\n"
        "To run it in Discord, see the README's 'Running the Discord bot' section, put the token\n"
        "in .env (copy .env.example) and run `make run` again.\n",
        file=sys.stderr,
    )
    os.execv(os.path.join(os.path.dirname(sys.executable), "newsdesk"), ["newsdesk", "chat"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
