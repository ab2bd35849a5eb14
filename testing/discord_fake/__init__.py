"""A loopback Discord for driving the real discord.py client in tests."""

from . import payloads
from .server import Call, FakeDiscord, Interaction

__all__ = ["Call", "FakeDiscord", "Interaction", "payloads"]
