"""`newsdesk`: index articles and ask the archive questions from a terminal.

The command line is a contract other tools rely on: `--json` output keeps its keys, and
batch modes answer one JSON object per input line, in input order.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import sys
import time
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from .config import ASK_PASSAGES, RetrievalSettings
from .errors import (
    ArticleError,
    DateError,
    FeedError,
    IndexBusyError,
    LLMUnavailableError,
    ModelMismatchError,
    NewsdeskError,
    NotFoundError,
    QuestionError,
    StoreUnavailableError,
)
from .models import RELATED_CAVEAT, RELATED_TITLE, Answer, Citation, Summary

app = typer.Typer(help="Newsdesk: cited answers from a news archive, offline.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DataDir = Annotated[Optional[Path], typer.Option("--data-dir", envvar="NEWSDESK_DATA_DIR",
                                                  help="Where the index lives (default ./data).")]
AsOf = Annotated[Optional[str], typer.Option("--as-of", help="Answer as of this date (YYYY-MM-DD): later articles are not used.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
K = Annotated[int, typer.Option("--k", min=1, max=50, help="How many passages to retrieve.")]
Batch = Annotated[Optional[Path], typer.Option("--batch", exists=True, dir_okay=False,
                                                help="A file of questions: one a line, or JSON lines with 'question' and optional 'as_of'.")]


# Exit codes: 1 a failure (the message says which), 2 a usage error, 3 another index run is
# writing and --no-wait was given.
EXIT_FAILED, EXIT_USAGE, EXIT_BUSY = 1, 2, 3
_KINDS = [(StoreUnavailableError, "store_unavailable"), (QuestionError, "question"), (NotFoundError, "not_found"),
          (DateError, "date"), (IndexBusyError, "busy"), (ModelMismatchError, "model_mismatch"),
          (ArticleError, "article"), (LLMUnavailableError, "llm_unavailable"),
          (FeedError, "feed")]


def error_kind(exc: NewsdeskError) -> str:
    """The `kind` of an error in --json output: a stable word for scripts to branch on."""
    return next((kind for cls, kind in _KINDS if isinstance(exc, cls)), "error")


class State:
    """Settings read once for the whole command; the Newsdesk is built on first use."""

    def __init__(self, settings: RetrievalSettings, debug: bool = False):
        self.settings = settings
        self.debug = debug
        self._desk = None

    @property
    def desk(self):
        if self._desk is None:
            from .service import build_newsdesk  # heavy imports only for commands that need them

            self._desk = build_newsdesk(self.settings)
        return self._desk

    @property
    def feeds(self):
        from .feedstore import FeedStore

        return FeedStore.in_dir(self.settings.data_dir)

    def poller(self, clock=None):
        from .feeds import Poller, utcnow

        return Poller(self.feeds, self.desk, self.settings.feed_options(), clock or utcnow)


def _state(ctx: typer.Context) -> State:
    return ctx.obj


def _fail(message: str, code: int = EXIT_FAILED, *, as_json: bool = False, kind: str = "error") -> None:
    """One line on stderr (or, with --json, one JSON object on stdout) and a non-zero exit."""
    if as_json:
        print(json.dumps({"error": message, "kind": kind}, ensure_ascii=False), flush=True)
    else:
        err.print(f"[red]error:[/] {escape(message)}")
    raise typer.Exit(code)


@contextmanager
def reported(ctx: typer.Context, as_json: bool = False):
    """Expected failures (the store down, a bad question, a busy index) end the command with
    their one-line message; the traceback only with --debug or LOG_LEVEL=DEBUG."""
    try:
        yield
    except NewsdeskError as exc:
        if ctx.obj is not None and ctx.obj.debug:
            traceback.print_exc()
        _fail(str(exc), EXIT_BUSY if isinstance(exc, IndexBusyError) else EXIT_FAILED,
              as_json=as_json, kind=error_kind(exc))


def _date(value: str | None, name: str = "--as-of") -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise DateError(f"{name} must be a date like 2023-12-21, not {value!r}") from None


@app.callback()
def main(ctx: typer.Context, data_dir: DataDir = None,
         debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False) -> None:
    overrides = {"newsdesk_data_dir": data_dir} if data_dir else {}
    settings = RetrievalSettings(**overrides)
    debug = debug or settings.log_level.upper() == "DEBUG"
    # Libraries' own warnings (chromadb's, httpx's) would repeat the one line we print. The
    # handler filters too: bm25s sets its own logger to DEBUG when imported. (When the process
    # has handlers already, as under pytest, basicConfig leaves them alone.)
    level = logging.DEBUG if debug else logging.CRITICAL
    handler = logging.StreamHandler()
    handler.setLevel(level)
    logging.basicConfig(level=level, handlers=[handler])
    ctx.obj = State(settings, debug)


def _sources_text(citations: list[Citation], numbered: bool = True) -> str:
    lines = []
    for c in citations:
        meta = ", ".join(x for x in (c.source, c.date) if x)
        marker = f"[{c.n}]" if numbered else "-"  # a refusal's closest articles: nothing cites them
        lines.append(f"{marker} {c.title or c.doc_id}" + (f" — {meta}" if meta else "")
                     + (f" <{c.url}>" if c.url else "") + (f" · also in: {', '.join(c.also_in)}" if c.also_in else ""))
    return "\n".join(lines)


def print_answer(answer: Answer) -> None:
    out.print(escape(answer.text))
    if answer.note:
        out.print(f"[dim]{escape(answer.note)}[/]")
    if answer.citations:
        out.print("\n[bold]Sources[/]")
        out.print(escape(_sources_text(answer.citations)))
    if answer.abstained and answer.related:
        out.print(f"\n[bold]{RELATED_TITLE}[/] ({RELATED_CAVEAT})")
        out.print(escape(_sources_text(answer.related, numbered=False)))


def print_summary(summary: Summary) -> None:
    out.print(f"[bold]{escape(summary.subject)}[/]")
    out.print(escape(summary.text) if summary.text else "Nothing indexed for that.")
    if summary.citations:
        out.print("\n[bold]Sources[/]")
        out.print(escape(_sources_text(summary.citations)))


def _batch_items(path: Path):
    """(line number, question, as_of text) for each non-empty line of a batch file."""
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                record = json.loads(line)
                yield line_no, str(record.get("question") or record.get("query") or ""), record.get("as_of")
            except (json.JSONDecodeError, AttributeError) as exc:
                yield line_no, None, f"malformed JSON: {exc}"
        else:
            yield line_no, line.strip(), None


def _run_batch(path: Path, run) -> None:
    """One JSON object out per question in; a bad line gets an `error` object, not an abort."""
    for line_no, question, as_of in _batch_items(path):
        try:
            if question is None:
                raise NewsdeskError(as_of)
            date = dt.date.fromisoformat(as_of) if as_of else None
            result = run(question, date)
        except (NewsdeskError, ValueError) as exc:
            result = {"line": line_no, "question": question, "error": str(exc)}
        print(json.dumps(result, ensure_ascii=False), flush=True)


def _one_or_batch(text: str | None, as_of: str | None, batch: Path | None, what: str, run, to_json,
                  as_json: bool = False):
    """`run(text, as_of)` once, or for every line of `batch` (printing JSON lines); None after a batch."""
    if batch:
        _run_batch(batch, lambda q, d: to_json(run(q, d)))
        return None
    if text is None:
        _fail(f"give {what}, or --batch FILE", EXIT_USAGE, as_json=as_json, kind="usage")
    try:
        date = _date(as_of)
    except DateError as exc:
        _fail(str(exc), EXIT_USAGE, as_json=as_json, kind="usage")
    return run(text, date)


@app.command()
def index(ctx: typer.Context,
          paths: Annotated[list[Path], typer.Argument(help="Article files or folders (.txt, .md, .html, .jsonl, .jsonl.gz).")],
          prune: Annotated[bool, typer.Option("--prune", help="Delete indexed articles whose files are gone.")] = False,
          no_wait: Annotated[bool, typer.Option("--no-wait", help="If another index run is writing, exit (status 3) "
                                                "instead of waiting for it.")] = False,
          as_json: Json = False) -> None:
    """Index articles incrementally: only new or changed articles are embedded.

    A run that was interrupted (even by kill -9) is repaired by the next one: an article is
    always wholly its old or its new version."""
    with reported(ctx, as_json):
        desk = _state(ctx).desk
        with Progress(TextColumn("Embedding"), BarColumn(), MofNCompleteColumn(), TextColumn("chunks"),
                      TimeRemainingColumn(), console=err, transient=True, disable=as_json) as bar:
            task = bar.add_task("embed", total=None)
            report = desk.index(paths, prune=prune, wait=not no_wait, on_wait=_say_waiting,
                                progress=lambda done, total: bar.update(task, completed=done, total=total))
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        for where, reason in report.failures:
            err.print(f"[yellow]skipped[/] {escape(where)}: {escape(reason)}")
        if report.repaired:
            err.print(f"repaired {report.repaired} article{'' if report.repaired == 1 else 's'} "
                      "left half-written by an interrupted run")
        summary = (f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
                   f"deleted {report.deleted}, failed {report.failed}")
        out.print(summary if report.changed or report.failed else f"Nothing changed ({summary}).")
    if report.failed:
        raise typer.Exit(1)


def _say_waiting() -> None:
    err.print("another index run is writing; waiting…")


@app.command()
def check(ctx: typer.Context, as_json: Json = False) -> None:
    """Verify the index against its article records and repair what interrupted runs left."""
    with reported(ctx, as_json):
        report = _state(ctx).desk.check(wait=True, on_wait=_say_waiting)
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    discarded = sum(report.discarded.values())
    out.print(f"{report.articles} articles, {report.chunks} chunks; discarded {discarded} chunks of "
              f"{len(report.discarded)} unfinished versions; {report.tombstones} unfinished deletions finished")
    for doc_id in report.broken:
        err.print(f"[yellow]removed[/] {escape(doc_id)}: chunks were missing; index its file again")
    for doc_id in report.mixed:
        err.print(f"[yellow]mixed[/] {escape(doc_id)}: old and new chunks from an interrupted run; index its file again")


@app.command()
def ask(ctx: typer.Context, question: Annotated[Optional[str], typer.Argument(help="Your question.")] = None,
        k: K = ASK_PASSAGES, as_of: AsOf = None, batch: Batch = None, as_json: Json = False) -> None:
    """Answer a question with quotes from the indexed articles, each cited."""
    with reported(ctx, as_json):
        desk = _state(ctx).desk
        answer = _one_or_batch(question, as_of, batch, "a question", lambda q, d: desk.ask(q, k=k, as_of=d),
                               lambda a: a.to_dict(), as_json)
    if answer is None:
        return
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False))
    else:
        print_answer(answer)


def _search_result(query: str, passages) -> dict:
    return {"query": query, "results": [
        {"rank": rank, "doc_id": p.doc_id, "chunk_id": p.chunk_id, "score": p.score, "title": p.title,
         "date": p.date, "source": p.source, "url": p.url, "text": p.text}
        for rank, p in enumerate(passages, start=1)]}


@app.command()
def search(ctx: typer.Context, query: Annotated[Optional[str], typer.Argument(help="What to look for.")] = None,
           k: K = 10, as_of: AsOf = None, batch: Batch = None, as_json: Json = False) -> None:
    """Show the passages that best match a query, best first."""
    with reported(ctx, as_json):
        desk = _state(ctx).desk
        found = _one_or_batch(query, as_of, batch, "a query", lambda q, d: (q, desk.search(q, k=k, as_of=d)),
                              lambda result: _search_result(*result), as_json)
    if found is None:
        return
    passages = found[1]
    if as_json:
        print(json.dumps(_search_result(query, passages), ensure_ascii=False))
        return
    if not passages:
        out.print("No matching passages.")
    for rank, p in enumerate(passages, start=1):
        out.print(f"[bold]{rank}. {escape(p.title or p.doc_id)}[/] [dim]{escape(p.source)} {p.date} score {p.score:.4f}[/]")
        out.print(escape(p.text) + "\n")


@app.command()
def summary(ctx: typer.Context,
            article: Annotated[Optional[str], typer.Option("--article", help="An article id or title.")] = None,
            topic: Annotated[Optional[str], typer.Option("--topic", help="A topic to summarise across articles.")] = None,
            since: Annotated[Optional[str], typer.Option("--since", help="Start of a period (YYYY-MM-DD).")] = None,
            until: Annotated[Optional[str], typer.Option("--until", help="End of the period (default today).")] = None,
            as_json: Json = False) -> None:
    """Summarise an article, a topic, or what happened between two dates, with citations."""
    chosen = [name for name, value in (("--article", article), ("--topic", topic), ("--since", since)) if value]
    if len(chosen) != 1:
        _fail("give exactly one of --article, --topic or --since", EXIT_USAGE, as_json=as_json, kind="usage")
    if until and not since:
        _fail("--until goes with --since", EXIT_USAGE, as_json=as_json, kind="usage")
    try:
        period = (_date(since, "--since"), _date(until, "--until")) if since else None
    except DateError as exc:
        _fail(str(exc), EXIT_USAGE, as_json=as_json, kind="usage")
    with reported(ctx, as_json):
        desk = _state(ctx).desk
        if article:
            result = desk.summarize_article(article)
        elif topic:
            result = desk.summarize_topic(topic)
        else:
            result = desk.summarize_dates(*period)
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        print_summary(result)


@app.command()
def sources(ctx: typer.Context, as_json: Json = False) -> None:
    """List the indexed articles, newest first."""
    with reported(ctx, as_json):
        found = _state(ctx).desk.sources()
    if as_json:
        print(json.dumps([s.to_dict() for s in found], ensure_ascii=False))
        return
    print_sources(found)


def print_sources(found) -> None:
    if not found:
        out.print("Nothing is indexed yet: run `newsdesk index seeds/`.")
    for s in found:
        out.print(f"{s.date or 'undated':10}  {escape(s.title or s.doc_id)}  [dim]{escape(s.source)} · {escape(s.doc_id)} · {s.chunks} chunks[/]")
    out.print(f"[dim]{len(found)} article{'' if len(found) == 1 else 's'}[/]")


CHAT_HELP = """\
Ask anything about the indexed news: the answer quotes the articles and cites them.
The commands are Discord's, typed as lines:
  /summary article: TITLE-OR-ID                    summarize an article
  /summary topic: TOPIC                            summarize a topic across articles
  /summary since: 2023-12-01 [until: 2023-12-21]   the news between two dates (until: today)
  /sources                                         what is indexed
  /new                                             a new conversation: later questions are
                                                   no longer read as follow-ups of earlier ones
  /help (or help)                                  this text
  quit                                             leave"""

_OPTION = re.compile(r"\b(article|topic|since|until|page|question):", re.IGNORECASE)
_BARE_COMMAND = re.compile(r"^(?:help|sources|summary|new)$|^summary\s+(?:article|topic|since|until):", re.IGNORECASE)


def chat_command(line: str) -> tuple[str, dict[str, str], str] | None:
    """A typed command as (name, options, the rest of the line), or None for a question.

    Commands start with "/" as in Discord ("/summary topic: floods"); "help", "sources" and
    "summary topic: …" are commands without it too. Options are "name: value" pairs."""
    if not line.startswith("/") and not _BARE_COMMAND.match(line):
        return None
    name, _, rest = line.lstrip("/").partition(" ")
    parts = _OPTION.split(rest)
    options = {key.lower(): value.strip() for key, value in zip(parts[1::2], parts[2::2])}
    return name.lower(), options, parts[0].strip()


def _chat_line(line: str, desk_app, k: int, _run, history: list[str]) -> None:
    """Answer one typed line: a command, else a question (as of today, as a Discord message is
    as of its day). `_run(coroutine)` runs a call of the application service to its end.

    The chat is one conversation, as a Discord thread is: `history` holds its earlier questions,
    so that a follow-up ("and when did they reopen?") is read with them; /new empties it."""
    from .app import parse_day, summary_kind

    today = dt.date.today()
    command = chat_command(line)
    if command is None or command[0] == "ask":
        question = line if command is None else command[1].get("question", command[2])
        print_answer(_run(desk_app.ask(question, as_of=today, history=list(history), k=k, via="chat")).answer)
        history.append(question)
        return
    name, options, rest = command
    if name == "new":
        history.clear()
        out.print("A new conversation: the next question is read on its own.")
    elif name == "help":
        out.print(escape(CHAT_HELP))
    elif name == "sources":
        print_sources(_run(desk_app.sources()))
    elif name == "summary":
        article, topic, since, until = (options.get(key) for key in ("article", "topic", "since", "until"))
        kind = summary_kind(article, topic, since, until)
        if kind == "article":
            result = _run(desk_app.summarize_article(article))
        elif kind == "topic":
            result = _run(desk_app.summarize_topic(topic, as_of=today))
        else:
            end = parse_day(until, "until") if until else None
            result = _run(desk_app.summarize_dates(parse_day(since, "since"), end, as_of=today))
        print_summary(result)
    else:
        err.print(f"[yellow]/{escape(name)} is not a command here; type /help for the list.[/]")


@app.command()
def chat(ctx: typer.Context, k: K = ASK_PASSAGES) -> None:
    """Ask questions one after another, or use Discord's commands (/summary, /sources, /help);
    type 'quit' to leave. Reads lines when piped."""
    from .app import NewsdeskApp

    with reported(ctx):
        desk_app = NewsdeskApp(_state(ctx).desk)
    interactive = sys.stdin.isatty()
    if interactive:
        out.print("Newsdesk — ask about the indexed news. Type /help for the commands, 'quit' to leave.")
    history: list[str] = []  # the conversation's questions so far
    with asyncio.Runner() as runner:  # one event loop for the whole chat
        try:
            while True:
                try:
                    line = out.input("[bold]? [/]") if interactive else sys.stdin.readline()
                except (EOFError, KeyboardInterrupt):
                    break
                if not interactive and line == "":
                    break
                line = line.strip()
                if line.lower() in {"quit", "exit", ":q"}:
                    break
                if not line:
                    continue
                if not interactive:
                    out.print(f"[bold]? {escape(line)}[/]")
                try:
                    _chat_line(line, desk_app, k, runner.run, history)
                except NewsdeskError as exc:
                    err.print(f"[yellow]{escape(str(exc))}[/]")
                out.print()
        finally:
            desk_app.close()


# -- feeds ----------------------------------------------------------------------------------
feeds_app = typer.Typer(help="Follow RSS, Atom and JSON feeds: their entries become articles.",
                        no_args_is_help=True)
app.add_typer(feeds_app, name="feeds")


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "never"
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


@feeds_app.command("add")
def feeds_add(ctx: typer.Context, url: Annotated[str, typer.Argument(help="The feed's URL (http or https).")],
              every: Annotated[Optional[str], typer.Option("--every", help="How often to poll it: 30m, 2h, 1d "
                                                           "(default FEED_EVERY, 30m).")] = None,
              as_json: Json = False) -> None:
    """Follow a feed; its entries are indexed at the next poll (`feeds poll`, `watch`, the bot)."""
    from .feedstore import format_every, parse_every

    with reported(ctx, as_json):
        settings = _state(ctx).settings
        url = url.strip()
        if not url.lower().startswith(("http://", "https://")):
            raise FeedError(f"{url!r} is not an http(s) URL")
        seconds = parse_every(every or settings.feed_every)
        info = _state(ctx).feeds.add(url, seconds, time.time())
    if as_json:
        print(json.dumps(info.to_dict(), ensure_ascii=False))
    else:
        out.print(f"Following {escape(url)}, polled every {format_every(info.every_s)}.")


@feeds_app.command("remove")
def feeds_remove(ctx: typer.Context, url: Annotated[str, typer.Argument(help="The feed's URL, as listed.")],
                 as_json: Json = False) -> None:
    """Stop following a feed; the articles read from it stay in the archive."""
    with reported(ctx, as_json):
        _state(ctx).feeds.remove(url.strip())
    if as_json:
        print(json.dumps({"removed": url.strip()}, ensure_ascii=False))
    else:
        out.print(f"No longer following {escape(url.strip())}; its articles stay indexed.")


@feeds_app.command("list")
def feeds_list(ctx: typer.Context, as_json: Json = False) -> None:
    """The followed feeds: title, items read, last success, last error and next poll."""
    with reported(ctx, as_json):
        found = _state(ctx).feeds.list()
    if as_json:
        print(json.dumps([f.to_dict() for f in found], ensure_ascii=False))
        return
    if not found:
        out.print("No feeds are followed: `newsdesk feeds add URL`.")
    for f in found:
        out.print(f"[bold]{escape(f.title or '(not read yet)')}[/] {escape(f.url)}")
        out.print(f"  {f.status(_when)}")
        if f.last_error:
            out.print(f"  [red]last error:[/] {escape(f.last_error)}")


def print_poll(report) -> None:
    for r in report.feeds:
        name = r.title or r.url
        line = (f"{escape(name)}: added {r.added}, updated {r.updated}, unchanged {r.unchanged}, failed {r.failed}"
                + (" (not modified)" if r.not_modified else ""))
        out.print(line)
        if r.error:
            err.print(f"  [yellow]{escape(r.error)}[/]")
    totals = report.to_dict()["total"]
    out.print(f"total: added {totals['added']}, updated {totals['updated']}, unchanged {totals['unchanged']}, "
              f"failed {totals['failed']}")


@feeds_app.command("poll")
def feeds_poll(ctx: typer.Context, as_json: Json = False) -> None:
    """Poll every feed once now and exit (for cron); exits with status 1 if any failed."""
    with reported(ctx, as_json):
        report = _state(ctx).poller().poll()
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        print_poll(report)
    if report.total("failed"):
        raise typer.Exit(1)


@app.command()
def watch(ctx: typer.Context,
          once: Annotated[bool, typer.Option("--once", help="Poll the feeds that are due, then exit.")] = False) -> None:
    """Keep the archive current: poll each feed on its schedule until stopped (Ctrl-C)."""
    state = _state(ctx)
    with reported(ctx):
        poller = state.poller()
    if not once:
        out.print("Watching the feeds; Ctrl-C to stop.")
    try:
        while True:
            try:
                report = poller.poll(due_only=True)
            except NewsdeskError as exc:  # the store is down for a moment: say so, go on watching
                err.print(f"[yellow]poll failed:[/] {escape(str(exc))}")
            else:
                if report.feeds:
                    print_poll(report)
            if once:
                return
            next_due = state.feeds.next_due()
            pause = 60.0 if next_due is None else min(max(next_due - time.time(), 1.0), 60.0)
            time.sleep(pause)
    except KeyboardInterrupt:
        out.print("Stopped.")


# -- digests --------------------------------------------------------------------------------
def print_digest(result) -> None:
    about = f" on {result.topic!r}" if result.topic else ""
    out.print(f"[bold]What's new{escape(about)} since {result.since.isoformat()}[/]")
    if not result.stories:
        out.print("Nothing new in the archive.")
    for story in result.stories:
        c = story.citation
        out.print(f"\n[bold]{escape(c.title or c.doc_id)}[/]")
        if c.quote:
            out.print(f"“{escape(c.quote)}” [{c.n}]")
        meta = ", ".join(x for x in (c.source, c.date) if x)
        line = f"[{c.n}] {meta}" + (f" <{c.url}>" if c.url else "")
        if story.also_in:
            line += " · also in: " + ", ".join(sorted({o.source or o.title or o.doc_id for o in story.also_in}))
        out.print(escape(line))


@app.command()
def digest(ctx: typer.Context,
           since: Annotated[str, typer.Option("--since", help="Articles dated from this day (YYYY-MM-DD).")],
           until: Annotated[Optional[str], typer.Option("--until", help="…up to this day (default: all).")] = None,
           topic: Annotated[Optional[str], typer.Option("--topic", help="Only stories on this topic.")] = None,
           as_json: Json = False) -> None:
    """What is new since a day, as cited stories.

    Similar articles are grouped into one story, newest story first; each quotes the lead
    sentences of its earliest article and cites it, naming the others ("also in")."""
    try:
        start, end = _date(since, "--since"), _date(until, "--until")
    except DateError as exc:
        _fail(str(exc), EXIT_USAGE, as_json=as_json, kind="usage")
    from .digest import make_digest

    with reported(ctx, as_json):
        result = make_digest(_state(ctx).desk, start, end, topic=topic.strip() if topic else None)
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        print_digest(result)
