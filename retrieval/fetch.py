"""Polite HTTP for feeds and their pages: conditional GET, one request at a time per host,
a minimum interval between requests to a host, a deadline, a size cap and few redirects.

All network access of the feed reader goes through `Fetcher.get`, so its rules hold for
every request; tests point it at a server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from .config import USER_AGENT
from .errors import FeedError


@dataclass(frozen=True)
class FetchOptions:
    user_agent: str = USER_AGENT
    timeout_s: float = 20.0  # the whole request: connect, headers and body
    max_bytes: int = 5_000_000  # a feed or a page larger than this is refused
    host_interval_s: float = 1.0  # the least time between two requests to one host
    max_redirects: int = 5


@dataclass(frozen=True)
class Response:
    status: int  # 200, or 304 (not modified)
    url: str  # after redirects
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or ''}:{parts.port or ''}"


class Fetcher:
    """GETs with the rules above; one per poll (it holds the per-host state of that poll's
    event loop). Errors are FeedError with a one-line reason."""

    def __init__(self, options: FetchOptions | None = None):
        self.options = options or FetchOptions()
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: dict[str, float] = {}
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Fetcher:
        self._session = aiohttp.ClientSession(headers={"User-Agent": self.options.user_agent})
        return self

    async def __aexit__(self, *exc) -> None:
        if self._session is not None:
            await self._session.close()

    async def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
                  accept: str = "*/*") -> Response:
        if urlsplit(url).scheme not in ("http", "https"):
            raise FeedError(f"not an http(s) URL: {url}")
        host = host_of(url)
        lock = self._locks.setdefault(host, asyncio.Lock())
        async with lock:  # one request at a time per host
            wait = self._last.get(host, -1e9) + self.options.host_interval_s - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                return await self._get(url, etag, last_modified, accept)
            finally:
                self._last[host] = time.monotonic()

    async def _get(self, url: str, etag: str | None, last_modified: str | None, accept: str) -> Response:
        opts = self.options
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        assert self._session is not None, "use the Fetcher in `async with`"
        try:
            async with asyncio.timeout(opts.timeout_s):
                async with self._session.get(url, headers=headers, max_redirects=opts.max_redirects,
                                             timeout=aiohttp.ClientTimeout(total=opts.timeout_s)) as resp:
                    if resp.status == 304:
                        return Response(304, str(resp.url), etag=resp.headers.get("ETag", etag),
                                        last_modified=resp.headers.get("Last-Modified", last_modified))
                    if resp.status != 200:
                        raise FeedError(f"HTTP {resp.status} {resp.reason or ''}".strip() + f" from {resp.url}")
                    length = resp.content_length
                    if length is not None and length > opts.max_bytes:
                        raise FeedError(f"{resp.url} is {length:,} bytes, over the size cap of {opts.max_bytes:,}")
                    body = bytearray()
                    async for piece in resp.content.iter_chunked(65536):
                        body += piece
                        if len(body) > opts.max_bytes:
                            raise FeedError(f"{resp.url} is over the size cap of {opts.max_bytes:,} bytes")
                    return Response(200, str(resp.url), bytes(body), resp.headers.get("Content-Type", ""),
                                    resp.headers.get("ETag"), resp.headers.get("Last-Modified"))
        except TimeoutError:
            raise FeedError(f"no complete answer from {url} within {opts.timeout_s:g} s") from None
        except aiohttp.TooManyRedirects:
            raise FeedError(f"too many redirects (a loop?) from {url}") from None
        except aiohttp.ClientError as exc:
            reason = str(exc).strip() or type(exc).__name__
            raise FeedError(f"cannot fetch {url}: {reason}") from None
