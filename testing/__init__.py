"""Fakes of the outside world that the tests and the benchmarks share: a loopback Discord
(`testing.discord_fake`), a feed and article web server (`testing.feed_server`) and a
scripted LLM provider (`testing.llm_server`). A package of its own so that `bench/` can
drive the real bot without `tests/` on the import path."""
