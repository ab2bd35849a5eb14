"""Read articles from files and folders: seed text, JSON Lines (.gz too), Markdown/text, HTML.

Loaders are plain functions. A file that cannot be read yields an `ArticleError` naming the
file (and line) and the reason; the good articles around it are still returned.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import frontmatter

from .errors import ArticleError
from .models import Article

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
HTML_SUFFIXES = {".html", ".htm"}
JSONL_SUFFIXES = {".jsonl", ".jsonl.gz", ".ndjson"}
SUPPORTED = "text (.txt, .md), HTML (.html) or JSON lines (.jsonl, .jsonl.gz)"

# C0 controls but tab, newline and carriage return; DEL; C1 controls. A NUL or an escape
# sequence in an article would be printed raw in answers (and can garble a terminal).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SEED_DATE = re.compile(r"^\s*date (\S+)\s*")
_SEED_FOOTER = re.compile(r"\n*This article originally appeared on ([^:\n]+): ([^\n]+?)\s*$")


def parse_date(value: object) -> dt.date | None:
    """An ISO date (``YYYY-MM-DD``, a datetime prefix is accepted); None for empty values."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"unparseable date {text!r} (expected YYYY-MM-DD)") from None


def clean(text: str) -> str:
    """`text` without control characters (tabs and line breaks are kept)."""
    return _CONTROL.sub("", text)


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".jsonl.gz" if name.endswith(".jsonl.gz") else path.suffix.lower()


def is_article_file(path: Path) -> bool:
    return _suffix(path) in TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise ArticleError(str(path), "binary file, not text")
    try:
        return clean(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ArticleError(str(path), f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def _require_text(text: str, origin: str, line: int | None = None) -> str:
    if not text.strip():
        raise ArticleError(origin, "article has no text", line)
    return text


def parse_seed(raw: str, *, doc_id: str, origin: str) -> Article:
    """The seed format: ``date YYYY-MM-DD`` then the first paragraph, optional source footer."""
    match = _SEED_DATE.match(raw)
    if match is None:
        raise ArticleError(origin, "seed article must start with 'date YYYY-MM-DD'")
    try:
        date = parse_date(match.group(1))
    except ValueError as exc:
        raise ArticleError(origin, str(exc)) from exc
    body = raw[match.end():]
    source = title = ""
    footer = _SEED_FOOTER.search(body)
    if footer:
        source, title = footer.group(1).strip(), footer.group(2).strip()
        body = body[: footer.start()]
    text = _require_text(body.strip(), origin)
    return Article(id=doc_id, text=text, title=title, source=source, date=date, origin=origin)


def parse_markdown(raw: str, *, doc_id: str, origin: str) -> Article:
    """Markdown or plain text with optional YAML front matter (title, date, source, url, id)."""
    try:
        post = frontmatter.loads(raw)
    except Exception as exc:  # yaml raises several unrelated types
        raise ArticleError(origin, f"invalid front matter: {exc}") from exc
    meta = dict(post.metadata)
    text = _require_text(post.content.strip(), origin)
    try:
        date = parse_date(meta.pop("date", None))
    except ValueError as exc:
        raise ArticleError(origin, str(exc)) from exc
    url = str(meta.pop("url", "") or "")
    given_id = meta.pop("id", None)
    title = str(meta.pop("title", "") or "")
    if not title:
        first = text.splitlines()[0].strip()
        if first.startswith("#"):
            title = first.lstrip("#").strip()
    return Article(
        id=str(given_id or url or doc_id),
        text=text,
        title=title,
        source=str(meta.pop("source", "") or ""),
        date=date,
        url=url,
        origin=origin,
        extra={k: v for k, v in meta.items() if isinstance(v, str | int | float | bool)},
    )


def parse_html(raw: str, *, doc_id: str, origin: str) -> Article:
    """Main text and metadata of an HTML page, extracted with trafilatura."""
    import trafilatura  # imported lazily: it is only needed for HTML files

    extracted = trafilatura.bare_extraction(raw, with_metadata=True, include_comments=False)
    if extracted is None or not (extracted.text or "").strip():
        raise ArticleError(origin, "no article text found in the HTML")
    try:
        date = parse_date(extracted.date)
    except ValueError:
        date = None  # trafilatura's date guess is a hint, not a user's claim
    url = extracted.url or ""
    return Article(
        id=url or doc_id,
        text=extracted.text.strip(),
        title=extracted.title or "",
        source=extracted.sitename or extracted.hostname or "",
        date=date,
        url=url,
        origin=origin,
    )


def parse_json_article(record: object, *, origin: str, line: int, fallback_id: str) -> Article:
    """One JSON Lines record: only ``text`` is required; other fields are kept as metadata."""
    if not isinstance(record, dict):
        raise ArticleError(origin, "expected a JSON object", line)
    record = {k: clean(v) if isinstance(v, str) else v for k, v in record.items()}
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ArticleError(origin, "article has no text", line)
    try:
        date = parse_date(record.get("date"))
    except ValueError as exc:
        raise ArticleError(origin, str(exc), line) from exc
    url = str(record.get("url") or "")
    known = {"id", "title", "date", "source", "url", "text"}
    extra = {k: v for k, v in record.items() if k not in known and v is not None}
    return Article(
        id=str(record.get("id") or url or fallback_id),
        text=text.strip(),
        title=str(record.get("title") or ""),
        source=str(record.get("source") or ""),
        date=date,
        url=url,
        origin=f"{origin}:{line}",
        extra=extra,
    )


def read_jsonl(path: Path, *, rel: str) -> Iterator[Article | ArticleError]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    records = 0
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                records += 1
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield ArticleError(str(path), f"malformed JSON: {exc.msg}", line_no)
                    continue
                try:
                    yield parse_json_article(record, origin=str(path), line=line_no, fallback_id=f"{rel}:{line_no}")
                except ArticleError as exc:
                    yield exc
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        yield ArticleError(str(path), f"cannot read: {exc}")
        return
    if records == 0:
        yield ArticleError(str(path), "file has no articles (it is empty)")


def read_file(path: Path, *, rel: str) -> Iterator[Article | ArticleError]:
    """Every article in one file, or the errors that stopped them."""
    suffix = _suffix(path)
    if suffix in JSONL_SUFFIXES:
        yield from read_jsonl(path, rel=rel)
        return
    try:
        raw = _read_text(path)
        _require_text(raw, str(path))
        if suffix in HTML_SUFFIXES:
            yield parse_html(raw, doc_id=rel, origin=str(path))
        elif _SEED_DATE.match(raw) and suffix == ".txt":
            yield parse_seed(raw, doc_id=rel, origin=str(path))
        else:
            yield parse_markdown(raw, doc_id=rel, origin=str(path))
    except ArticleError as exc:
        yield exc
    except OSError as exc:
        yield ArticleError(str(path), f"cannot read: {exc.strerror or exc}")


def iter_articles(paths: list[Path]) -> Iterator[Article | ArticleError]:
    """Articles from files and folders (recursively, sorted); a file of another type in a
    folder (a PDF, an image) is reported, not read; hidden files are skipped.

    An article's fallback id is its path relative to the folder being indexed (for a file
    given directly: its name), so ids survive moving the whole folder.
    """
    for root in paths:
        if not root.exists():
            yield ArticleError(str(root), "no such file or folder")
            continue
        if root.is_file():
            yield from read_file(root, rel=root.name)
            continue
        for path in _walk(root, root, {os.path.realpath(root)}):
            if isinstance(path, ArticleError):
                yield path
            elif is_article_file(path):
                yield from read_file(path, rel=path.relative_to(root).as_posix())
            else:
                yield ArticleError(str(path), f"not an article file type ({_suffix(path) or 'no extension'}); "
                                              f"use {SUPPORTED}")


def _walk(root: Path, folder: Path, seen: set[str]) -> Iterator[Path | ArticleError]:
    """The files under `folder`, sorted, hidden ones skipped. A linked folder is followed once:
    a link back to a folder already read (a loop, or a second way in) is reported, never
    followed again; a broken link is reported."""
    try:
        # Real entries before links, so that a folder is read under its own name when it can be.
        entries = sorted(folder.iterdir(), key=lambda p: (p.is_symlink(), p))
    except OSError as exc:
        yield ArticleError(str(folder), f"cannot read the folder: {exc.strerror or exc}")
        return
    for path in entries:
        if path.name.startswith("."):
            continue  # hidden files and folders (.git, editor swap files)
        if path.is_symlink() and not path.exists():
            yield ArticleError(str(path), "broken or looping symbolic link")
        elif path.is_dir():
            real = os.path.realpath(path)
            if real in seen:
                yield ArticleError(str(path), "symbolic link to a folder already read (a loop?); not followed")
                continue
            seen.add(real)
            yield from _walk(root, path, seen)
        elif path.is_file():
            yield path
