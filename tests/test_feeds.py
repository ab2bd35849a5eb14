"""Following feeds against a web server on 127.0.0.1: RSS, Atom and JSON Feed, conditional
GET, changed and new entries, and every kind of failure reported per feed."""

from __future__ import annotations

import datetime as dt

import pytest

from testing.feed_server import FeedServer, Item, Page, article_page, atom, json_feed, rss
from retrieval.errors import FeedError, NotFoundError
from retrieval.feeds import FeedOptions, Poller, html_text, parse_feed
from retrieval.feedstore import FeedStore, format_every, parse_every
from retrieval.fetch import FetchOptions

NOW = dt.datetime(2024, 1, 3, 12, 0, tzinfo=dt.UTC)
LONG = ("The city council voted on Tuesday to expand the tram line to the airport. "
        "Construction will start in the spring and take three years.\n\n"
        "Opponents said the cost had doubled since the plan was first proposed.")


class Clock:
    def __init__(self, now: dt.datetime = NOW):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def server():
    srv = FeedServer().start()
    yield srv
    srv.stop()


def options(**fetch) -> FeedOptions:
    values = {"timeout_s": 1.0, "host_interval_s": 0.0, "max_bytes": 50_000} | fetch
    return FeedOptions(fetch=FetchOptions(**values))


@pytest.fixture
def feeds(hash_desk):
    return FeedStore.in_dir(hash_desk.data_dir)


def poller(feeds, desk, clock=None, **fetch) -> Poller:
    return Poller(feeds, desk, options(**fetch), clock or Clock())


def counts(report) -> dict:
    """name -> (added, updated, unchanged, failed), in the order the feeds were added"""
    return {r.url.rsplit("/", 1)[-1]: (r.added, r.updated, r.unchanged, r.failed) for r in report.feeds}


def three_feeds(server: FeedServer) -> None:
    server.pages["/rss.xml"] = Page(rss("River Post", [
        Item("rp-1", "Tram line approved", LONG, link=server.url("/rp/1"), author="Ann Lee"),
        Item("rp-2", "Library reopens", "The central library reopened on Monday after a two-year renovation.",
             link=server.url("/rp/2"), date="2024-01-01T09:00:00Z"),
    ]), "application/rss+xml", etag='"rss-v1"')
    server.pages["/atom.xml"] = Page(atom("Hill Gazette", [
        Item("urn:hg:1", "Snow closes schools", "Heavy snow closed every school in the county on Wednesday.",
             link=server.url("/hg/1")),
    ]), "application/atom+xml", etag='"atom-v1"')
    server.pages["/feed.json"] = Page(json_feed("Lake Journal", [
        Item("lj-1", "Bridge repairs finished", link=server.url("/lj/1"),
             summary="The bridge is open again."),
    ]), "application/feed+json", last_modified="Tue, 02 Jan 2024 10:00:00 GMT")
    # The JSON feed carries only a summary: its article comes from the linked page.
    server.pages["/lj/1"] = Page(article_page(
        "Bridge repairs finished",
        "Repairs to the old stone bridge over the river finished on Friday, two weeks ahead of schedule.\n\n"
        "The bridge carries about twelve thousand cars a day and had been closed since October."))


def test_parse_every_and_format():
    assert [parse_every(t) for t in ("30m", "2h", "1d", "90s", "120")] == [1800, 7200, 86400, 90, 120]
    assert [format_every(s) for s in (1800, 7200, 86400, 90)] == ["30m", "2h", "1d", "90s"]
    with pytest.raises(FeedError, match="at most once a minute"):
        parse_every("10s")
    with pytest.raises(FeedError, match="not an interval"):
        parse_every("often")


def test_html_text_keeps_paragraphs_and_drops_scripts():
    assert html_text("<p>One &amp; two.</p><script>x()</script><p>Three\n four.</p>") == "One & two.\n\nThree four."


def test_first_poll_indexes_every_entry_then_304_embeds_nothing(server, feeds, hash_desk):
    three_feeds(server)
    for path in ("/rss.xml", "/atom.xml", "/feed.json"):
        feeds.add(server.url(path), 1800, NOW.timestamp())
    first = poller(feeds, hash_desk).poll()
    assert counts(first) == {"rss.xml": (2, 0, 0, 0), "atom.xml": (1, 0, 0, 0), "feed.json": (1, 0, 0, 0)}
    assert [r.error for r in first.feeds] == ["", "", ""]
    docs = {s.doc_id: s for s in hash_desk.sources()}
    assert sorted(docs) == ["lj-1", "rp-1", "rp-2", "urn:hg:1"]
    assert (docs["rp-1"].title, docs["rp-1"].source, docs["rp-1"].date, docs["rp-1"].url) == (
        "Tram line approved", "River Post", "2024-01-02", server.url("/rp/1"))
    assert (docs["rp-2"].date, docs["urn:hg:1"].source, docs["lj-1"].source) == (
        "2024-01-01", "Hill Gazette", "Lake Journal")
    chunks = hash_desk.store.chunks_of("rp-1")
    assert "".join(c.text for c in chunks[:1]).startswith("The city council voted")
    assert chunks[0].metadata["author"] == "Ann Lee"
    assert chunks[0].metadata["feed"] == server.url("/rss.xml")
    page_text = hash_desk.store.chunks_of("lj-1")[0].text
    assert page_text == ("Bridge repairs finished\nRepairs to the old stone bridge over the river finished on "
                         "Friday, two weeks ahead of schedule.\nThe bridge carries about twelve thousand cars a day "
                         "and had been closed since October.")  # trafilatura's extract: no navigation, no footer
    assert server.requested("/rss.xml")[0].headers["user-agent"].startswith("Newsdesk/")

    second = poller(feeds, hash_desk).poll()
    assert counts(second) == {"rss.xml": (0, 0, 2, 0), "atom.xml": (0, 0, 1, 0), "feed.json": (0, 0, 1, 0)}
    assert [r.not_modified for r in second.feeds] == [True, True, True]
    assert second.chunks_embedded == 0
    assert server.requested("/rss.xml")[1].headers["if-none-match"] == '"rss-v1"'
    assert server.requested("/feed.json")[1].headers["if-modified-since"] == "Tue, 02 Jan 2024 10:00:00 GMT"
    assert len(server.requested("/lj/1")) == 1  # an unchanged entry's page is not fetched again
    listed = {f.url.rsplit("/", 1)[-1]: (f.title, f.items, f.last_error) for f in feeds.list()}
    assert listed == {"rss.xml": ("River Post", 2, ""), "atom.xml": ("Hill Gazette", 1, ""),
                      "feed.json": ("Lake Journal", 1, "")}


def test_changed_entry_is_updated_and_new_entry_added(server, feeds, hash_desk):
    three_feeds(server)
    feeds.add(server.url("/rss.xml"), 1800, NOW.timestamp())
    poller(feeds, hash_desk).poll()
    server.pages["/rss.xml"] = Page(rss("River Post", [
        Item("rp-1", "Tram line approved", LONG + "\n\nThe mayor welcomed the vote.", link=server.url("/rp/1")),
        Item("rp-2", "Library reopens", "The central library reopened on Monday after a two-year renovation.",
             link=server.url("/rp/2"), date="2024-01-01T09:00:00Z"),
        Item("rp-3", "Market moves", "The Saturday market moves to the harbour square next month.",
             link=server.url("/rp/3")),
    ]), "application/rss+xml", etag='"rss-v2"')
    report = poller(feeds, hash_desk).poll()
    assert counts(report) == {"rss.xml": (1, 1, 1, 0)}
    assert "The mayor welcomed the vote." in hash_desk.store.chunks_of("rp-1")[-1].text
    assert sorted(s.doc_id for s in hash_desk.sources()) == ["rp-1", "rp-2", "rp-3"]
    # An entry that leaves the feed stays in the archive.
    server.pages["/rss.xml"] = Page(rss("River Post", [
        Item("rp-3", "Market moves", "The Saturday market moves to the harbour square next month.",
             link=server.url("/rp/3"))]), "application/rss+xml", etag='"rss-v3"')
    assert counts(poller(feeds, hash_desk).poll()) == {"rss.xml": (0, 0, 1, 0)}
    assert sorted(s.doc_id for s in hash_desk.sources()) == ["rp-1", "rp-2", "rp-3"]


def test_every_failure_is_reported_per_feed_and_the_others_keep_working(server, feeds, hash_desk):
    three_feeds(server)
    good = "Heavy snow closed every school in the county on Wednesday."
    server.pages["/broken.xml"] = Page("<rss version='2.0'><channel><title>Broken", "application/rss+xml")
    server.pages["/html.xml"] = Page("<html><body><p>No feed here</p></body></html>", "text/html")
    server.pages["/gone.xml"] = Page("gone", "text/plain", status=404)
    server.pages["/error.xml"] = Page("oops", "text/plain", status=500)
    server.pages["/slow.xml"] = Page(atom("Slow", [Item("s1", "S", good)]), "application/atom+xml", delay=2.5)
    server.pages["/loop.xml"] = Page(location="/loop.xml")
    server.pages["/empty.xml"] = Page(rss("Empty Times", []), "application/rss+xml")
    server.pages["/big.xml"] = Page(rss("Big", [Item("b1", "B", "word " * 20_000)]), "application/rss+xml")
    server.pages["/links.xml"] = Page(rss("Links", [
        Item("pdf", "A report", link=server.url("/report.pdf"), summary="See the PDF."),
        Item("huge", "A huge page", link=server.url("/huge.html"), summary="Long."),
        Item("ok", "Fine", good),
    ]), "application/rss+xml", etag='"links-v1"')
    server.pages["/report.pdf"] = Page(b"%PDF-1.4 ...", "application/pdf")
    server.pages["/huge.html"] = Page(article_page("Huge", "Long text. " * 6000))
    paths = ["/rss.xml", "/broken.xml", "/html.xml", "/gone.xml", "/error.xml", "/slow.xml", "/loop.xml",
             "/empty.xml", "/big.xml", "/links.xml"]
    for path in paths:
        feeds.add(server.url(path), 1800, NOW.timestamp())
    report = poller(feeds, hash_desk).poll()
    assert counts(report) == {
        "rss.xml": (2, 0, 0, 0), "broken.xml": (0, 0, 0, 1), "html.xml": (0, 0, 0, 1), "gone.xml": (0, 0, 0, 1),
        "error.xml": (0, 0, 0, 1), "slow.xml": (0, 0, 0, 1), "loop.xml": (0, 0, 0, 1), "empty.xml": (0, 0, 0, 1),
        "big.xml": (0, 0, 0, 1), "links.xml": (1, 0, 0, 2)}
    u = server.url
    errors = {f.url.rsplit("/", 1)[-1]: f.last_error for f in feeds.list()}
    assert errors == {
        "rss.xml": "",
        "broken.xml": "malformed feed: not well-formed XML (no element found)",
        "html.xml": "not an RSS, Atom or JSON feed",
        "gone.xml": f"HTTP 404 Not Found from {u('/gone.xml')}",
        "error.xml": f"HTTP 500 Internal Server Error from {u('/error.xml')}",
        "slow.xml": f"no complete answer from {u('/slow.xml')} within 1 s",
        "loop.xml": f"too many redirects (a loop?) from {u('/loop.xml')}",
        "empty.xml": "the feed has no entries",
        "big.xml": f"{u('/big.xml')} is {len(server.pages['/big.xml'].data):,} bytes, over the size cap of 50,000",
        "links.xml": f"entry pdf: {u('/report.pdf')} is application/pdf, not an HTML page; "
                     f"entry huge: {u('/huge.html')} is {len(article_page('Huge', 'Long text. ' * 6000).encode()):,} "
                     "bytes, over the size cap of 50,000",
    }
    assert sorted(s.doc_id for s in hash_desk.sources()) == ["ok", "rp-1", "rp-2"]
    # A failed feed backs off: due again after its interval, then after twice that.
    state = {f.url.rsplit("/", 1)[-1]: f for f in feeds.list()}
    assert state["gone.xml"].next_poll - NOW.timestamp() == 1800
    assert state["gone.xml"].failures == 1 and state["rss.xml"].failures == 0
    later = Clock(NOW + dt.timedelta(hours=1))
    poller(feeds, hash_desk, later).poll(due_only=True)
    state = {f.url.rsplit("/", 1)[-1]: f for f in feeds.list()}
    assert state["gone.xml"].next_poll - later.now.timestamp() == 3600
    assert state["rss.xml"].next_poll - later.now.timestamp() == 1800
    # The entries that failed are tried again (no 304 for that feed), the good one is not re-read.
    assert "if-none-match" not in server.requested("/links.xml")[-1].headers


def test_a_feed_added_twice_changes_its_schedule_and_remove_forgets_it(feeds):
    feeds.add("http://127.0.0.1:9/a.xml", 1800, 100.0)
    feeds.add("http://127.0.0.1:9/a.xml", 3600, 200.0)
    assert [(f.url, f.every_s, f.next_poll) for f in feeds.list()] == [("http://127.0.0.1:9/a.xml", 3600, 100.0)]
    feeds.remove("http://127.0.0.1:9/a.xml")
    assert feeds.list() == []
    with pytest.raises(NotFoundError):
        feeds.remove("http://127.0.0.1:9/a.xml")


def test_parse_feed_formats():
    items = [Item("1", "One", "Body one."), Item("2", "Two", link="http://example.invalid/2", summary="Sum.")]
    for body in (rss("T", items), atom("T", items), json_feed("T", items)):
        parsed = parse_feed(body.encode())
        assert parsed.title == "T"
        assert [(e.id, e.title, e.content, e.link) for e in parsed.entries] == [
            ("1", "One", "Body one.", ""), ("2", "Two", "", "http://example.invalid/2")]
        assert parsed.entries[1].summary == "Sum."
        assert parsed.entries[0].published == dt.datetime(2024, 1, 2, 10, 0, tzinfo=dt.UTC)


def test_pruning_files_keeps_articles_read_from_feeds(server, feeds, hash_desk, seed_copy):
    three_feeds(server)
    feeds.add(server.url("/atom.xml"), 1800, NOW.timestamp())
    poller(feeds, hash_desk).poll()
    report = hash_desk.index([seed_copy], prune=True)
    assert (report.added, report.deleted) == (1, 0)
    assert sorted(s.doc_id for s in hash_desk.sources()) == ["000_71643a21d7a48199.txt", "urn:hg:1"]


def test_env_example_lists_every_retrieval_setting():
    import re
    from pathlib import Path

    from retrieval.config import RetrievalSettings

    example = (Path(__file__).resolve().parent.parent / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    assert sorted({name.upper() for name in RetrievalSettings.model_fields} - listed) == []


def test_a_syndicated_copy_in_another_feed_is_folded_into_the_original(server, feeds, hash_desk):
    wire = ("Flooding closed the coastal highway near Port Alder on Monday after two days of heavy rain, "
            "stranding hundreds of drivers overnight. State crews said they expect to reopen the road by Thursday "
            "once the water recedes and engineers have inspected two bridges. About 300 homes lost power.")
    server.pages["/wire.xml"] = Page(rss("Wire Service", [Item("w-1", "Floods close highway", wire,
                                                               date="2024-01-08T08:00:00Z")]), "application/rss+xml")
    server.pages["/local.xml"] = Page(rss("Alder Daily", [
        Item("a-1", "Highway shut by floods", "PORT ALDER (AP) — " + wire, date="2024-01-08T11:00:00Z"),
        Item("a-2", "Market moves", "The Saturday market moves to the harbour square next month.")]),
        "application/rss+xml")
    feeds.add(server.url("/local.xml"), 1800, NOW.timestamp())
    feeds.add(server.url("/wire.xml"), 1800, NOW.timestamp() + 1)
    assert counts(poller(feeds, hash_desk).poll()) == {"local.xml": (2, 0, 0, 0), "wire.xml": (1, 0, 0, 0)}
    assert hash_desk.copies() == {"a-1": "w-1"}
    answer = hash_desk.ask("When will the coastal highway near Port Alder reopen?")
    assert [(c.doc_id, c.source, c.also_in) for c in answer.citations] == [("w-1", "Wire Service", ("Alder Daily",))]
