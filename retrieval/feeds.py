"""Following feeds: read RSS, Atom and JSON Feed, turn entries into articles, index them.

A poll fetches every due feed (conditional GET: a 304 costs nothing), compares each entry
with what the feed said last time (an unchanged entry is neither fetched nor embedded),
builds an `Article` from each new or changed entry (its full content when the feed carries
it, else its linked page, extracted with trafilatura) and hands them all to the one indexing
path, `Newsdesk.index_articles`. Entries that leave a feed stay in the archive. A feed that
fails is reported and retried later with back-off; the other feeds go on.
"""

from __future__ import annotations

import asyncio
import calendar
import datetime as dt
import hashlib
import html
import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Protocol
from urllib.parse import urlsplit

from .errors import ArticleError, FeedError, IndexBusyError, NewsdeskError
from .feedstore import FeedInfo, FeedStore
from .fetch import Fetcher, FetchOptions, Response
from .ingest import clean
from .models import Article, IndexReport

log = logging.getLogger(__name__)

FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
               "application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5")
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9"
HTML_TYPES = ("text/html", "application/xhtml+xml")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class FeedOptions:
    fetch: FetchOptions = field(default_factory=FetchOptions)
    every_s: float = 1800.0  # a new feed's interval unless one is given
    max_backoff_s: float = 6 * 3600.0  # a failing feed is retried after every·2^failures, at most this
    busy_retry_s: float = 60.0  # when the index is busy (a /reindex), try again this much later


class ArticleIndex(Protocol):
    """What the poller needs of the Newsdesk: its one indexing path."""

    def index_articles(self, items: Iterable[Article | ArticleError], *, wait: bool = True) -> IndexReport: ...


# -- reading feeds ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One feed entry, whatever the format."""

    id: str
    link: str
    title: str
    content: str  # the full content, as text ("" when the feed carries only a summary)
    summary: str
    published: dt.datetime | None
    updated: dt.datetime | None
    author: str

    def digest(self) -> str:
        fields = [self.id, self.link, self.title, self.content, self.summary, str(self.published or ""),
                  str(self.updated or ""), self.author]
        return hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    link: str
    entries: list[Entry]
    problem: str = ""  # the feed was read despite it (e.g. not well-formed XML)


class _Text(HTMLParser):
    """HTML to plain text: block elements become paragraphs, scripts and styles vanish."""

    BLOCKS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "section", "article",
              "pre", "ul", "ol", "table", "figure", "figcaption", "hr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_text(markup: str) -> str:
    """The text of an HTML fragment, paragraphs separated by blank lines."""
    parser = _Text()
    parser.feed(markup)
    parser.close()
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", "".join(parser.parts))]
    return clean("\n\n".join(p for p in paragraphs if p))


def _content_text(value: str, content_type: str) -> str:
    return html_text(value) if "html" in (content_type or "html") else clean(value.strip())


def _struct_time(value) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(calendar.timegm(value), dt.UTC) if value else None


def _iso_datetime(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _http(link: object) -> str:
    """An entry's link when it is a web address (feedparser takes an RSS guid for one)."""
    text = str(link or "").strip()
    return text if urlsplit(text).scheme in ("http", "https") else ""


def _is_json(body: bytes, content_type: str) -> bool:
    return "json" in content_type.lower() or body.lstrip()[:1] == b"{"


def parse_json_feed(body: bytes) -> ParsedFeed:
    """A JSON Feed (https://jsonfeed.org, 1.0 and 1.1)."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FeedError(f"malformed JSON feed: {exc}") from None
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith("https://jsonfeed.org/version/"):
        raise FeedError("not a JSON Feed (no https://jsonfeed.org/version/ in its version)")
    entries = []
    for item in data.get("items") or []:
        if not isinstance(item, dict):
            continue
        authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
        if item.get("content_html"):
            content = html_text(str(item["content_html"]))
        else:
            content = clean(str(item.get("content_text") or "").strip())
        entries.append(Entry(
            id=str(item.get("id") or item.get("url") or ""), link=_http(item.get("url")),
            title=clean(str(item.get("title") or "").strip()), content=content,
            summary=clean(str(item.get("summary") or "").strip()),
            published=_iso_datetime(item.get("date_published")), updated=_iso_datetime(item.get("date_modified")),
            author=", ".join(str(a.get("name")) for a in authors if isinstance(a, dict) and a.get("name")),
        ))
    return ParsedFeed(clean(str(data.get("title") or "")), str(data.get("home_page_url") or ""), entries)


def parse_feed(body: bytes, content_type: str = "") -> ParsedFeed:
    """RSS 0.9x/1.0/2.0 and Atom (with feedparser), or JSON Feed; FeedError when it is none."""
    if _is_json(body, content_type):
        return parse_json_feed(body)
    import feedparser  # imported lazily: only polls need it

    parsed = feedparser.parse(body)
    problem = ""
    if parsed.get("bozo"):
        reason = parsed.get("bozo_exception")
        # A SAX error's own message, without feedparser's "<unknown>:line:column" (which
        # counts lines of its own preamble).
        reason = reason.getMessage() if hasattr(reason, "getMessage") else reason
        what = f"not well-formed XML ({reason})" if reason else "not well-formed"
        if not parsed.entries:
            raise FeedError(f"malformed feed: {what}")
        problem = f"the feed is {what}"
    if not parsed.get("version") and not parsed.entries:
        raise FeedError("not an RSS, Atom or JSON feed")
    entries = []
    for e in parsed.entries:
        content = ""
        for part in e.get("content") or []:
            content = _content_text(part.get("value", ""), part.get("type", ""))
            if content:
                break
        summary = _content_text(e.get("summary", ""), (e.get("summary_detail") or {}).get("type", "text/html"))
        entries.append(Entry(
            id=str(e.get("id") or e.get("link") or ""), link=_http(e.get("link")),
            title=clean(html.unescape(str(e.get("title") or "")).strip()), content=content, summary=summary,
            published=_struct_time(e.get("published_parsed")), updated=_struct_time(e.get("updated_parsed")),
            author=clean(str(e.get("author") or "")),
        ))
    feed = parsed.get("feed", {})
    return ParsedFeed(clean(str(feed.get("title") or "")), str(feed.get("link") or ""), entries, problem)


def site_name(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def feed_origin(feed_url: str, entry_id: str) -> str:
    """An article's origin when it came from a feed: never a file, so never pruned."""
    return f"{feed_url}#entry={entry_id}"


def entry_article(entry: Entry, *, feed_url: str, feed_title: str, text: str, page_title: str = "",
                  fetched: dt.date) -> Article:
    date = (entry.published or entry.updated)
    return Article(
        id=entry.id or entry.link,
        text=text,
        title=entry.title or page_title,
        source=feed_title or site_name(entry.link or feed_url),
        date=date.date() if date else fetched,
        url=entry.link,
        origin=feed_origin(feed_url, entry.id or entry.link),
        extra={k: v for k, v in (("author", entry.author), ("feed", feed_url),
                                 ("published", date.isoformat() if date else "")) if v},
    )


def page_article_text(response: Response) -> tuple[str, str]:
    """(text, title) of a fetched article page; FeedError when it is not an HTML article."""
    kind = response.content_type.split(";")[0].strip().lower()
    if kind and kind not in HTML_TYPES:
        raise FeedError(f"{response.url} is {kind}, not an HTML page")
    import trafilatura  # imported lazily: only pages need it

    extracted = trafilatura.bare_extraction(response.body.decode("utf-8", errors="replace"), with_metadata=True,
                                            include_comments=False, url=response.url)
    if extracted is None or not (extracted.text or "").strip():
        raise FeedError(f"no article text found in {response.url}")
    return clean(extracted.text.strip()), extracted.title or ""


# -- polling -----------------------------------------------------------------------------------

@dataclass
class FeedResult:
    """What one poll did for one feed."""

    url: str
    title: str = ""
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    not_modified: bool = False  # the server answered 304
    error: str = ""  # why the feed, or some of its entries, failed
    busy: bool = False  # the index was busy: nothing recorded, tried again soon

    def to_dict(self) -> dict:
        return {"url": self.url, "title": self.title, "added": self.added, "updated": self.updated,
                "unchanged": self.unchanged, "failed": self.failed, "not_modified": self.not_modified,
                "error": self.error}


@dataclass
class PollReport:
    feeds: list[FeedResult] = field(default_factory=list)
    chunks_embedded: int = 0

    def total(self, key: str) -> int:
        return sum(getattr(f, key) for f in self.feeds)

    @property
    def changed(self) -> bool:
        return bool(self.total("added") or self.total("updated"))

    def to_dict(self) -> dict:
        return {"feeds": [f.to_dict() for f in self.feeds],
                "total": {k: self.total(k) for k in ("added", "updated", "unchanged", "failed")},
                "chunks_embedded": self.chunks_embedded}


@dataclass
class _Fetched:
    """One feed's fetch: the articles to index (with their entry ids and hashes) or an error."""

    info: FeedInfo
    result: FeedResult
    response: Response | None = None
    title: str = ""
    articles: list[tuple[str, str, Article]] = field(default_factory=list)  # (entry id, hash, article)
    entry_errors: list[str] = field(default_factory=list)
    problem: str = ""
    failed: bool = False


class Poller:
    """Polls the feeds of a FeedStore into the archive. `clock` gives "now" (UTC, aware)."""

    def __init__(self, feeds: FeedStore, index: ArticleIndex, options: FeedOptions | None = None,
                 clock: Callable[[], dt.datetime] = utcnow):
        self.feeds = feeds
        self.index = index
        self.options = options or FeedOptions()
        self.clock = clock

    def poll(self, *, due_only: bool = False) -> PollReport:
        """Poll every feed (or only those due) once; blocks until done (run it off an event loop)."""
        now = self.clock()
        infos = self.feeds.due(now.timestamp()) if due_only else self.feeds.list()
        if not infos:
            return PollReport()
        fetched = asyncio.run(self._fetch_all(infos, now))
        return self._index(fetched, now)

    async def _fetch_all(self, infos: list[FeedInfo], now: dt.datetime) -> list[_Fetched]:
        async with Fetcher(self.options.fetch) as fetcher:
            return list(await asyncio.gather(*(self._fetch(fetcher, info, now) for info in infos)))

    async def _fetch(self, fetcher: Fetcher, info: FeedInfo, now: dt.datetime) -> _Fetched:
        out = _Fetched(info, FeedResult(info.url, info.title))
        try:
            response = await fetcher.get(info.url, etag=info.etag, last_modified=info.last_modified,
                                         accept=FEED_ACCEPT)
            out.response = response
            if response.status == 304:
                out.result.not_modified = True
                out.result.unchanged = info.items
                return out
            parsed = parse_feed(response.body, response.content_type)
        except FeedError as exc:
            out.failed, out.result.error = True, str(exc)
            return out
        out.title = out.result.title = parsed.title or info.title
        out.problem = parsed.problem
        if not parsed.entries:
            out.failed, out.result.error = True, "the feed has no entries"
            return out
        known = self.feeds.entry_hashes(info.url)
        seen: set[str] = set()
        for entry in parsed.entries:
            key = entry.id or entry.link
            if not key:
                out.entry_errors.append(f"an entry titled {entry.title!r} has neither an id nor a link")
                continue
            if key in seen:
                continue
            seen.add(key)
            digest = entry.digest()
            if known.get(key) == digest:
                out.result.unchanged += 1
                continue
            try:
                article = await self._article(fetcher, entry, info.url, out.title, now)
            except FeedError as exc:
                out.entry_errors.append(f"entry {key}: {exc}")
                continue
            out.articles.append((key, digest, article))
            if key in known:
                out.result.updated += 1
            else:
                out.result.added += 1
        return out

    async def _article(self, fetcher: Fetcher, entry: Entry, feed_url: str, feed_title: str,
                       now: dt.datetime) -> Article:
        if entry.content:
            text, page_title = entry.content, ""
        elif entry.link:
            page = await fetcher.get(entry.link, accept=PAGE_ACCEPT)
            text, page_title = page_article_text(page)
        else:
            raise FeedError("no content and no link to fetch it from")
        return entry_article(entry, feed_url=feed_url, feed_title=feed_title, text=text, page_title=page_title,
                             fetched=now.date())

    def _index(self, fetched: list[_Fetched], now: dt.datetime) -> PollReport:
        report = PollReport([f.result for f in fetched])
        items = [article for f in fetched for _, _, article in f.articles]
        failures: dict[str, str] = {}
        if items:
            try:
                indexed = self.index.index_articles(items, wait=True)
            except IndexBusyError:
                for f in fetched:
                    if f.articles:
                        f.result.busy = True
                        f.result.error = "the index is busy (a reindex is running); will try again"
                        self.feeds.postpone(f.info.url, now.timestamp() + self.options.busy_retry_s)
                        f.result.added = f.result.updated = 0
                items = []
            except NewsdeskError as exc:  # the store is down: every feed with news fails this time
                for f in fetched:
                    if f.articles:
                        f.failed, f.result.error = True, f"could not index: {exc}"
                        f.result.added = f.result.updated = 0
                        f.articles = []
            else:
                report.chunks_embedded = indexed.chunks_embedded
                failures = dict(indexed.failures)
        for f in fetched:
            if f.result.busy:
                continue
            self._record(f, failures, now)
        return report

    def _record(self, f: _Fetched, failures: dict[str, str], now: dt.datetime) -> None:
        stamp = now.timestamp()
        info, result = f.info, f.result
        if f.failed:
            result.failed, result.unchanged = 1, 0
            # Back-off: the normal interval after one failure, then twice as long each time.
            delay = min(info.every_s * 2 ** info.failures, max(self.options.max_backoff_s, info.every_s))
            self.feeds.record_poll(info.url, now=stamp, next_poll=stamp + delay, error=result.error, success=False)
            return
        entries = {}
        errors = list(f.entry_errors)
        for key, digest, article in f.articles:
            reason = failures.get(article.origin)
            if reason is None:
                entries[key] = (article.id, digest)
                continue
            errors.append(f"entry {key}: {reason}")
            if key in self.feeds.entry_hashes(info.url):
                result.updated -= 1
            else:
                result.added -= 1
        result.failed = len(errors)
        # With entries left to retry, forget the validators: a 304 next time would hide them.
        response = f.response if not errors else None
        etag = response.etag if response else None
        last_modified = response.last_modified if response else None
        result.error = "; ".join([f.problem, *errors] if f.problem else errors)
        self.feeds.record_poll(info.url, now=stamp, next_poll=stamp + info.every_s, title=f.title or None,
                               etag=etag, last_modified=last_modified, error=result.error, entries=entries)
