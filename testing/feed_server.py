"""A small web server on 127.0.0.1 serving feeds and article pages for the feed tests.

Each path serves a `Page`: a body with its content type and status, an ETag (answered with
304 when the client sends it back), a delay (for timeouts) or a redirect. Every request is
kept, with its headers, so tests can assert what the poller sent.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape


@dataclass
class Page:
    body: bytes | str = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0
    location: str | None = None  # a redirect

    @property
    def data(self) -> bytes:
        return self.body.encode() if isinstance(self.body, str) else self.body


@dataclass
class Request:
    path: str
    headers: dict[str, str]


@dataclass
class FeedServer:
    pages: dict[str, Page] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    port: int = 0

    def start(self) -> FeedServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                server.requests.append(Request(self.path, {k.lower(): v for k, v in self.headers.items()}))
                page = server.pages.get(self.path)
                if page is None:
                    page = Page("not found", "text/plain", status=404)
                if page.delay:
                    time.sleep(page.delay)
                if page.location:
                    self.send_response(page.status if page.status in (301, 302, 307, 308) else 302)
                    self.send_header("Location", page.location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if ((page.etag and self.headers.get("If-None-Match") == page.etag)
                        or (page.last_modified and self.headers.get("If-Modified-Since") == page.last_modified)):
                    self.send_response(304)
                    if page.etag:
                        self.send_header("ETag", page.etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = page.data
                self.send_response(page.status)
                self.send_header("Content-Type", page.content_type)
                self.send_header("Content-Length", str(len(data)))
                if page.etag:
                    self.send_header("ETag", page.etag)
                if page.last_modified:
                    self.send_header("Last-Modified", page.last_modified)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="feed-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def requested(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]


def http_date(timestamp: float) -> str:
    return formatdate(timestamp, usegmt=True)


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    text: str = ""  # the full content; "" = only a summary, the page has to be fetched
    link: str = ""
    date: str = "2024-01-02T10:00:00Z"  # ISO, UTC
    summary: str = ""
    author: str = ""


def _rfc822(iso: str) -> str:
    import datetime as dt

    return formatdate(dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp(), usegmt=True)


def rss(title: str, items: list[Item], link: str = "http://example.invalid/") -> str:
    parts = [f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
             f'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
             f"<title>{escape(title)}</title><link>{escape(link)}</link><description>d</description>"]
    for i in items:
        parts.append("<item>")
        parts.append(f"<title>{escape(i.title)}</title><guid isPermaLink=\"false\">{escape(i.id)}</guid>")
        if i.link:
            parts.append(f"<link>{escape(i.link)}</link>")
        parts.append(f"<pubDate>{_rfc822(i.date)}</pubDate>")
        if i.author:
            parts.append(f"<author>{escape(i.author)}</author>")
        if i.summary:
            parts.append(f"<description>{escape(i.summary)}</description>")
        if i.text:
            paragraphs = "".join(f"<p>{escape(p)}</p>" for p in i.text.split("\n\n"))
            parts.append(f"<content:encoded><![CDATA[{paragraphs}]]></content:encoded>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts)


def atom(title: str, items: list[Item]) -> str:
    parts = ['<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">',
             f"<title>{escape(title)}</title><id>urn:feed:{escape(title)}</id><updated>2024-01-02T10:00:00Z</updated>"]
    for i in items:
        parts.append(f"<entry><title>{escape(i.title)}</title><id>{escape(i.id)}</id>"
                     f"<updated>{i.date}</updated><published>{i.date}</published>")
        if i.link:
            parts.append(f'<link rel="alternate" href="{escape(i.link)}"/>')
        if i.author:
            parts.append(f"<author><name>{escape(i.author)}</name></author>")
        if i.summary:
            parts.append(f"<summary>{escape(i.summary)}</summary>")
        if i.text:
            parts.append(f'<content type="text">{escape(i.text)}</content>')
        parts.append("</entry>")
    parts.append("</feed>")
    return "".join(parts)


def json_feed(title: str, items: list[Item]) -> str:
    import json

    return json.dumps({
        "version": "https://jsonfeed.org/version/1.1", "title": title, "home_page_url": "http://example.invalid/",
        "items": [{"id": i.id, "title": i.title, "date_published": i.date,
                   **({"url": i.link} if i.link else {}),
                   **({"content_text": i.text} if i.text else {}),
                   **({"summary": i.summary} if i.summary else {}),
                   **({"authors": [{"name": i.author}]} if i.author else {})} for i in items],
    })


def article_page(title: str, text: str) -> str:
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in text.split("\n\n"))
    return (f"<!DOCTYPE html><html><head><title>{escape(title)}</title></head><body>"
            f"<nav><a href='/'>Home</a></nav><article><h1>{escape(title)}</h1>{paragraphs}</article>"
            f"<footer>Copyright</footer></body></html>")
