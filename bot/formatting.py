"""Turning answers, summaries and listings into Discord messages.

Everything quoted from an article is escaped (Markdown and mentions) so article text cannot
format or ping; every message is at most 2,000 characters, split at paragraph, line, then
sentence boundaries, never inside a citation marker or a `<link>`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import discord

from retrieval.models import RELATED_CAVEAT, RELATED_TITLE, Answer, Citation, IndexReport, SourceInfo, Summary

MESSAGE_LIMIT = 2000
NOTHING = "I have nothing to show for that."  # never leave a "thinking" message without a reply
WRITING = " …"  # after the text of an answer that is still streaming in

# Sentence ends: punctuation, closing quotes/brackets, then any [n] markers that cite it.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?:\s*\[\d+\])*(?=\s)")


_URL = r"https?://[^\s<]+[^<.,:;\"'\]\s]"
# One inline Markdown character; Discord also reads a backslash as an escape.
_INLINE = re.compile(rf"(?P<url>{_URL})|(?P<md>[\\*_~`|\[\]])")
# Line starts that Discord formats: quotes, headings, subtext, lists.
_LINE_START = re.compile(r"^(\s*)(?:(?P<mark>>|#|-|\+)|(?P<number>\d+)\.(?=\s))", re.MULTILINE)
# Things Discord renders from angle brackets: <@user>, <@&role>, <#channel>, <t:…>, </cmd:id>, <:emoji:id>.
_ANGLE = re.compile(r"<(?=[@#:/]|a:|t:)")
_EVERYONE = re.compile(r"@(everyone|here)\b")
_MARKER = re.compile(r"(\[\d+\])")


def escape(text: str) -> str:
    """Article text made inert: no Markdown, no mentions (bare links stay clickable).

    Each special character is escaped on its own; discord.utils.escape_markdown treats
    `[...](...)` as one match and leaves everything inside it unescaped.
    """
    text = _INLINE.sub(lambda m: m["url"] or "\\" + m["md"], text)
    text = _LINE_START.sub(lambda m: m[1] + ("\\" + m["mark"] if m["mark"] else m["number"] + "\\."), text)
    text = _ANGLE.sub("<\u200b", text)
    return _EVERYONE.sub("@\u200b\\1", text)


def escape_cited(text: str) -> str:
    """Like `escape`, but the [n] citation markers stay as they are."""
    return "".join(part if _MARKER.fullmatch(part) else escape(part) for part in _MARKER.split(text))


def code(text: str) -> str:
    """Inline code: nothing inside is formatted (and escapes would show), only backticks matter."""
    return "`" + text.replace("`", "ˋ") + "`"


def link(url: str) -> str:
    """A link Discord shows without a preview."""
    url = url.strip().replace(">", "%3E").replace(" ", "%20")
    return f"<{url}>" if url else ""


def citation_line(c: Citation, marker: str | None = None) -> str:
    """A source's line: "[n]" by default; a refusal's closest article takes "-" (nothing cites it)."""
    title = escape(c.title or c.doc_id)
    meta = ", ".join(escape(part) for part in (c.source, c.date) if part)
    line = f"{marker or f'[{c.n}]'} **{title}**"
    if meta:
        line += f" — {meta}"
    if c.url:
        line += f" {link(c.url)}"
    if c.also_in:
        line += " · also in: " + ", ".join(escape(source) for source in c.also_in)
    return line


def _with_sources(body: str, citations: Sequence[Citation], note: str = "") -> str:
    parts = [escape_cited(body.strip())]
    if note:
        parts.append(f"*{escape(note.strip())}*")
    if citations:
        parts.append("**Sources**\n" + "\n".join(citation_line(c) for c in citations))
    return "\n\n".join(parts)


RELATED_HEADING = f"**{RELATED_TITLE}** ({RELATED_CAVEAT})"


def render_answer(answer: Answer) -> list[str]:
    """The messages for one answer: the text with [n] markers, then its numbered sources (a
    refusal: the closest articles, when the archive covers the topic)."""
    citations = [] if answer.abstained else answer.citations
    text = _with_sources(answer.text, citations, answer.note)
    if answer.abstained and answer.related:
        text += f"\n\n{RELATED_HEADING}\n" + "\n".join(citation_line(c, "-") for c in answer.related)
    return split_message(text) or [NOTHING]


def render_partial(text: str) -> str:
    """An answer still being written: its verified sentences so far, with a mark that more is
    coming, in one message (while it outgrows one, the first message's worth stays shown)."""
    parts = split_message(escape_cited(text), MESSAGE_LIMIT - len(WRITING))
    return parts[0] + WRITING if parts else WRITING.strip()


def render_summary(summary: Summary) -> list[str]:
    heading = {"article": "Summary of", "topic": "Summary on", "dates": "News from"}.get(summary.kind, "Summary:")
    body = _with_sources(summary.text, summary.citations) if summary.text.strip() else NOTHING
    return split_message(f"**{heading} {escape(summary.subject)}**\n\n{body}")


def render_sources(sources: Sequence[SourceInfo], *, page: int, page_size: int) -> str:
    """One page of the indexed titles, newest first, with the totals on top."""
    if not sources:
        return "Nothing is indexed yet. An admin can run `/reindex`."
    ordered = sorted(sources, key=lambda s: (s.date or "", s.title), reverse=True)
    dates = sorted(s.date for s in sources if s.date)
    pages = (len(ordered) + page_size - 1) // page_size
    page = min(max(page, 1), pages)
    head = f"**{len(ordered)} article{'s' if len(ordered) != 1 else ''} indexed**"
    if dates:
        head += f" · newest {dates[-1]} · oldest {dates[0]}"
    lines = [head, ""]
    first = (page - 1) * page_size
    for i, s in enumerate(ordered[first:first + page_size], start=first + 1):
        title = escape(shorten(s.title or s.doc_id, 90))
        meta = ", ".join(escape(p) for p in (s.source, s.date) if p)
        lines.append(f"{i}. {title}" + (f" — {meta}" if meta else ""))
    if pages > 1:
        lines += ["", f"Page {page}/{pages} · `/sources page:{page % pages + 1}` for more"]
    return shorten("\n".join(lines), MESSAGE_LIMIT)


def render_report(report: IndexReport, folders: Iterable[str]) -> list[str]:
    where = ", ".join(code(f) for f in folders)
    text = (
        f"Reindex of {where} finished: **{report.added}** added · **{report.updated}** updated · "
        f"**{report.unchanged}** unchanged · **{report.deleted}** deleted · **{report.failed}** failed"
    )
    if report.failures:
        text += "\n\n**Failures**\n" + "\n".join(
            f"• {escape(where)}: {escape(reason)}" for where, reason in report.failures
        )
    return split_message(text)


def render_progress(done: int, total: int, folders: Iterable[str]) -> str:
    where = ", ".join(code(f) for f in folders)
    if total <= 0:
        return f"Reindexing {where}… reading the articles."
    return f"Reindexing {where}… {done}/{total} chunks embedded."


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split `text` into messages of at most `limit` characters.

    Cuts at paragraph breaks first, then line breaks, then sentence ends, then spaces
    (a single word longer than `limit` is the only thing ever cut mid-way). Markers like
    `[3]` stay with the sentence they cite, and `<links>` contain no spaces, so neither is cut.
    """
    text = text.strip()
    if not text:
        return []
    pieces = _split(text, limit, level=0)
    return [p for p in pieces if p]


def _atoms(text: str, level: int) -> tuple[list[str], str]:
    """Split into atoms at one level; returns (atoms, the separator to rejoin them)."""
    if level == 0:
        return re.split(r"\n\s*\n", text), "\n\n"
    if level == 1:
        return text.split("\n"), "\n"
    if level == 2:
        atoms, start = [], 0
        for m in _SENTENCE_END.finditer(text):
            atoms.append(text[start:m.end()])
            start = m.end()
        atoms.append(text[start:])
        return [a.strip() for a in atoms], " "
    return text.split(), " "


def _split(text: str, limit: int, level: int) -> list[str]:
    if len(text) <= limit:
        return [text]
    if level > 3:  # one "word" longer than a message: nothing better than a hard cut
        return [text[i:i + limit] for i in range(0, len(text), limit)]
    atoms, sep = _atoms(text, level)
    out: list[str] = []
    current = ""
    for atom in atoms:
        atom = atom.strip() if level >= 2 else atom.rstrip()
        if not atom.strip():
            continue
        candidate = f"{current}{sep}{atom}" if current else atom
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            out.append(current)
            current = ""
        if len(atom) <= limit:
            current = atom
        else:
            sub = _split(atom, limit, level + 1)
            out.extend(sub[:-1])
            current = sub[-1]
    if current:
        out.append(current)
    return out
