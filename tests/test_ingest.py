import datetime as dt
import gzip
import json
from pathlib import Path

from retrieval.errors import ArticleError
from retrieval.ingest import iter_articles, read_file

from conftest import SEED_ID, SEEDS


def read_all(paths):
    items = list(iter_articles([Path(p) for p in paths]))
    return [i for i in items if not isinstance(i, ArticleError)], [i for i in items if isinstance(i, ArticleError)]


def test_every_shipped_seed_article_parses():
    articles, errors = read_all([SEEDS])
    problems = [str(e) for e in errors] + [f"{a.origin}: missing {f}" for a in articles
                                           for f in ("title", "source", "date") if not getattr(a, f)]
    assert problems == []
    assert len(articles) == len(list(SEEDS.glob("*.txt")))


def test_seed_format_metadata_and_text():
    [article] = read_file(SEEDS / SEED_ID, rel=SEED_ID)
    assert article.id == SEED_ID
    assert article.date == dt.date(2023, 12, 21)
    assert article.source == "USA TODAY"
    assert article.title == "Biden, Mexico president agree border crisis needs urgent enforcement"
    assert article.text.startswith("President Joe Biden spoke with Mexico's president")
    assert article.text.endswith("This story will be updated.")
    assert "date 2023" not in article.text and "originally appeared" not in article.text


def test_jsonl_plain_and_gzipped(tmp_path):
    records = [
        {"id": "a1", "title": "Rail crossings shut", "date": "2023-12-18", "source": "example.com",
         "url": "https://example.com/a1", "text": "Rail crossings closed.", "authors": ["A. Writer"]},
        {"url": "https://example.com/b2", "text": "Only a URL for an id."},
        {"text": "Neither id nor URL."},
    ]
    lines = "\n".join(json.dumps(r) for r in records) + "\n"
    (tmp_path / "feed.jsonl").write_text(lines)
    with gzip.open(tmp_path / "feed2.jsonl.gz", "wt") as handle:
        handle.write(lines.replace("a1", "a9").replace("b2", "b9").replace("Neither", "Still neither"))
    articles, errors = read_all([tmp_path])
    assert errors == []
    assert [a.id for a in articles] == ["a1", "https://example.com/b2", "feed.jsonl:3",
                                        "a9", "https://example.com/b9", "feed2.jsonl.gz:3"]
    first = articles[0]
    assert (first.title, first.date, first.source, first.url) == (
        "Rail crossings shut", dt.date(2023, 12, 18), "example.com", "https://example.com/a1")
    assert first.extra == {"authors": ["A. Writer"]}


def test_markdown_front_matter_and_plain_text(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "story.md").write_text(
        "---\ntitle: Port reopens\ndate: 2023-12-22\nsource: Gazette\nurl: https://gazette.test/port\n---\n"
        "# Port reopens\n\nThe port reopened on Friday.\n")
    (tmp_path / "note.txt").write_text("Just a plain note about the harbour.\n")
    articles, errors = read_all([tmp_path])
    assert errors == []
    md, txt = sorted(articles, key=lambda a: a.origin.endswith("note.txt"))
    assert (md.id, md.title, md.date, md.source) == ("https://gazette.test/port", "Port reopens", dt.date(2023, 12, 22), "Gazette")
    assert md.text == "# Port reopens\n\nThe port reopened on Friday."
    assert (txt.id, txt.title, txt.date, txt.text) == ("note.txt", "", None, "Just a plain note about the harbour.")


def test_html_article_text_is_extracted(tmp_path):
    body = " ".join(["The city council voted on Tuesday to close the old bridge for repairs."] * 4)
    (tmp_path / "page.html").write_text(
        "<html><head><title>Bridge closes - City News</title></head><body>"
        "<nav>Home | Sports | Weather</nav>"
        f"<article><h1>Bridge closes</h1><p>{body}</p><p>Repairs will take six months, officials said.</p></article>"
        "<footer>Copyright City News</footer></body></html>")
    [article], errors = read_all([tmp_path])
    assert errors == []
    assert article.id == "page.html"
    assert "close the old bridge" in article.text and "Repairs will take six months" in article.text
    assert "Weather" not in article.text and "Copyright" not in article.text


def test_bad_files_are_named_with_reasons_and_good_ones_kept(tmp_path):
    (tmp_path / "good.md").write_text("A good article about the ferry.")
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (tmp_path / "bad-date.md").write_text("---\ndate: yesterday-ish\n---\nText.")
    (tmp_path / "feed.jsonl").write_text('{"id": "j1", "text": "Fine."}\n{"id": "j2", "text": \n{"id": "j3", "text": ""}\n')
    articles, errors = read_all([tmp_path])
    assert sorted(a.id for a in articles) == ["good.md", "j1"]
    assert sorted((Path(e.origin).name, e.line, e.reason) for e in errors) == [
        ("bad-date.md", None, "unparseable date 'yesterday-ish' (expected YYYY-MM-DD)"),
        ("binary.txt", None, "binary file, not text"),
        ("empty.txt", None, "article has no text"),
        ("feed.jsonl", 2, "malformed JSON: Expecting value"),
        ("feed.jsonl", 3, "article has no text"),
    ]


def test_missing_path_is_reported(tmp_path):
    _, errors = read_all([tmp_path / "nope"])
    assert [(Path(e.origin).name, e.reason) for e in errors] == [("nope", "no such file or folder")]


def test_empty_json_lines_files_are_reported(tmp_path):
    (tmp_path / "empty.jsonl").write_bytes(b"")
    (tmp_path / "empty.jsonl.gz").write_bytes(b"")
    with gzip.open(tmp_path / "blank.jsonl.gz", "wt") as handle:
        handle.write("\n\n")
    articles, errors = read_all([tmp_path])
    assert articles == []
    assert sorted((Path(e.origin).name, e.reason) for e in errors) == [
        ("blank.jsonl.gz", "file has no articles (it is empty)"),
        ("empty.jsonl", "file has no articles (it is empty)"),
        ("empty.jsonl.gz", "file has no articles (it is empty)"),
    ]


def test_symlinked_folders_are_followed_once_and_loops_reported(tmp_path):
    root, elsewhere = tmp_path / "root", tmp_path / "elsewhere"
    (root / "sub").mkdir(parents=True)
    elsewhere.mkdir()
    (root / "sub" / "a.md").write_text("Story a about the ferry.")
    (elsewhere / "b.md").write_text("Story b about the ferry.")
    (root / "linked").symlink_to(elsewhere)  # a folder outside: followed
    (root / "sub" / "loop").symlink_to(root)  # back up: a loop
    (root / "again").symlink_to(root / "sub")  # a second way into a folder already read
    (root / "broken.md").symlink_to(tmp_path / "missing.md")
    articles, errors = read_all([root])
    assert sorted(a.id for a in articles) == ["linked/b.md", "sub/a.md"]
    assert sorted((e.origin, e.reason) for e in errors) == [
        (str(root / "again"), "symbolic link to a folder already read (a loop?); not followed"),
        (str(root / "broken.md"), "broken or looping symbolic link"),
        (str(root / "sub" / "loop"), "symbolic link to a folder already read (a loop?); not followed"),
    ]
    # Given the link itself: its folder is read, and the loop's way up once (sub is not read twice).
    assert [a.id for a in read_all([root / "again"])[0]] == ["a.md", "loop/linked/b.md"]


def test_control_characters_are_removed(tmp_path):
    (tmp_path / "late-nul.md").write_text("x" * 9000 + "\nThe ferry\x00 sailed\x1b[31m at dawn.\tOn time.")
    (tmp_path / "feed.jsonl").write_text(json.dumps({"id": "j", "title": "Bell\u0007", "text": "Ferry\u0000 sails."}) + "\n")
    articles, errors = read_all([tmp_path])
    assert errors == []
    by_id = {a.id: a for a in articles}
    assert by_id["late-nul.md"].text.endswith("\nThe ferry sailed[31m at dawn.\tOn time.")
    assert (by_id["j"].title, by_id["j"].text) == ("Bell", "Ferry sails.")
