"""`newsdesk feeds add/list/remove/poll` and `watch --once` against a web server on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from testing.feed_server import FeedServer, Item, Page, rss
from retrieval.cli import app

runner = CliRunner()
ENV = {"FEED_HOST_INTERVAL_S": "0", "FEED_TIMEOUT_S": "2", "CHROMA_HOST": ""}


@pytest.fixture
def server():
    srv = FeedServer().start()
    srv.pages["/news.xml"] = Page(rss("Harbour News", [
        Item("hn-1", "Ferry timetable changes", "The winter ferry timetable starts on Monday with two fewer crossings."),
    ]), "application/rss+xml", etag='"v1"')
    srv.pages["/gone.xml"] = Page("gone", "text/plain", status=404)
    yield srv
    srv.stop()


def cli(data_dir, *args):
    return runner.invoke(app, ["--data-dir", str(data_dir), *args], env=ENV)


def test_feeds_add_list_poll_remove(tmp_path, server, model):
    data = tmp_path / "data"
    news, gone = server.url("/news.xml"), server.url("/gone.xml")
    added = cli(data, "feeds", "add", news, "--every", "2h")
    assert (added.exit_code, added.stdout) == (0, f"Following {news}, polled every 2h.\n")
    assert cli(data, "feeds", "add", gone).exit_code == 0
    bad = cli(data, "feeds", "add", "ftp://example.invalid/feed", "--json")
    assert (bad.exit_code, json.loads(bad.stdout)) == (
        1, {"error": "'ftp://example.invalid/feed' is not an http(s) URL", "kind": "feed"})
    too_often = cli(data, "feeds", "add", news, "--every", "5s")
    assert (too_often.exit_code, too_often.stderr) == (
        1, "error: '5s' is too often: poll a feed at most once a minute\n")

    polled = cli(data, "feeds", "poll", "--json")
    assert polled.exit_code == 1  # one feed failed
    assert json.loads(polled.stdout) == {
        "feeds": [
            {"url": news, "title": "Harbour News", "added": 1, "updated": 0, "unchanged": 0, "failed": 0,
             "not_modified": False, "error": ""},
            {"url": gone, "title": "", "added": 0, "updated": 0, "unchanged": 0, "failed": 1, "not_modified": False,
             "error": f"HTTP 404 Not Found from {gone}"}],
        "total": {"added": 1, "updated": 0, "unchanged": 0, "failed": 1},
        "chunks_embedded": 1,
    }
    again = cli(data, "feeds", "poll")
    assert again.stdout == ("Harbour News: added 0, updated 0, unchanged 1, failed 0 (not modified)\n"
                            f"{gone}: added 0, updated 0, unchanged 0, failed 1\n"
                            "total: added 0, updated 0, unchanged 1, failed 1\n")
    assert again.stderr == f"  HTTP 404 Not Found from {gone}\n"

    listed = json.loads(cli(data, "feeds", "list", "--json").stdout)
    assert [(f["title"], f["items"], f["every_s"], f["last_error"], f["failures"]) for f in listed] == [
        ("Harbour News", 1, 7200, "", 0), ("", 0, 1800, f"HTTP 404 Not Found from {gone}", 2)]
    text = cli(data, "feeds", "list").stdout.splitlines()
    assert text[0] == f"Harbour News {news}"
    assert text[1].startswith("  every 2h · 1 item · last success 20")
    assert text[3].startswith("  every 30m · 0 items · last success never · next poll 20")
    assert text[4] == f"  last error: HTTP 404 Not Found from {gone}"

    removed = cli(data, "feeds", "remove", gone)
    assert (removed.exit_code, removed.stdout) == (0, f"No longer following {gone}; its articles stay indexed.\n")
    missing = cli(data, "feeds", "remove", gone, "--json")
    assert (missing.exit_code, json.loads(missing.stdout)["kind"]) == (1, "not_found")
    # Nothing is due any more (polled a moment ago): watch --once polls nothing.
    watched = cli(data, "watch", "--once")
    assert (watched.exit_code, watched.stdout) == (0, "")
    sources = json.loads(cli(data, "sources", "--json").stdout)
    assert [(s["doc_id"], s["title"], s["source"]) for s in sources] == [
        ("hn-1", "Ferry timetable changes", "Harbour News")]


def test_digest_since_a_day(tmp_path, server, model):
    data = tmp_path / "data"
    cli(data, "feeds", "add", server.url("/news.xml"))
    cli(data, "feeds", "poll")
    result = cli(data, "digest", "--since", "2024-01-01")
    assert (result.exit_code, result.stdout) == (0, (
        "What's new since 2024-01-01\n\n"
        "Ferry timetable changes\n"
        "“The winter ferry timetable starts on Monday with two fewer crossings.” [1]\n"
        "[1] Harbour News, 2024-01-02\n"))
    payload = json.loads(cli(data, "digest", "--since", "2024-01-03", "--json").stdout)
    assert payload == {"since": "2024-01-03", "until": None, "topic": None, "stories": []}
    bad = cli(data, "digest", "--since", "yesterday")
    assert (bad.exit_code, bad.stderr) == (2, "error: --since must be a date like 2023-12-21, not 'yesterday'\n")
