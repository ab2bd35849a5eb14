"""Syndicated copies: recognised at ingest, folded in search, named in the citation."""

from __future__ import annotations

import datetime as dt

from retrieval.dedup import CopyIndex, jaccard
from retrieval.models import Article

WIRE = ("Flooding closed the coastal highway near Port Alder on Monday after two days of heavy rain, "
        "stranding hundreds of drivers overnight. State crews said they expect to reopen the road by Thursday "
        "once the water recedes and engineers have inspected two bridges. About 300 homes lost power, and the "
        "county opened an emergency shelter at the high school gym. Forecasters warned that more rain was "
        "likely later in the week.")
TRAILER = " Alder Daily reporter Sam Ruiz contributed to this report from the county seat."


def article(doc_id: str, text: str, date: str, source: str, title: str = "Floods close coastal highway") -> Article:
    return Article(doc_id, text, title=title, source=source, date=dt.date.fromisoformat(date),
                   url=f"http://127.0.0.1/{doc_id}")


def test_copies_with_a_dateline_a_byline_and_a_trailing_paragraph_join_the_earliest_publication(tmp_path):
    index = CopyIndex.in_dir(tmp_path)
    copy = article("alder-7", "PORT ALDER (AP) — " + WIRE + TRAILER, "2024-01-09", "Alder Daily", "Highway shut")
    later = article("coast-3", "By Jane Doe, Associated Press\n\n" + WIRE, "2024-01-10", "Coast Times")
    other = article("tram-1", "The city council voted on Tuesday to expand the tram line to the airport, a plan "
                    "that has been debated for a decade. Construction will start in the spring and take three "
                    "years, and opponents said the cost had doubled since the plan was first proposed.",
                    "2024-01-08", "Harbour News")
    assert jaccard(copy.text, WIRE) > 0.7
    assert index.update([copy, later, other]) == 3
    assert index.copies() == {"coast-3": "alder-7"}
    # The wire original arrives last but was published first: it becomes the story's original.
    index.update([article("ap-1", WIRE, "2024-01-08", "Wire Service")])
    assert index.copies() == {"alder-7": "ap-1", "coast-3": "ap-1"}
    assert index.copies_of("ap-1") == [("alder-7", "Alder Daily"), ("coast-3", "Coast Times")]
    # Unchanged articles are not compared again; a deleted original hands over to its first copy.
    assert index.update([copy, other]) == 0
    index.forget(["ap-1"])
    assert index.copies() == {"coast-3": "alder-7"}


def test_search_returns_a_story_once_and_the_answer_cites_the_original_with_its_copies(hash_desk):
    hash_desk.index_articles([
        article("alder-7", "PORT ALDER (AP) — " + WIRE + TRAILER, "2024-01-09", "Alder Daily", "Highway shut"),
        article("ap-1", WIRE, "2024-01-08", "Wire Service"),
        article("coast-3", "By Jane Doe, Associated Press\n\n" + WIRE, "2024-01-10", "Coast Times"),
    ])
    assert hash_desk.copies() == {"alder-7": "ap-1", "coast-3": "ap-1"}
    found = hash_desk.search("When will the coastal highway reopen after the flooding?", k=5)
    assert {p.doc_id for p in found} == {"ap-1"}
    answer = hash_desk.ask("When will the coastal highway reopen after the flooding?")
    assert [(c.doc_id, c.also_in) for c in answer.citations] == [("ap-1", ("Alder Daily", "Coast Times"))]
    assert answer.citations[0].to_dict()["also_in"] == ["Alder Daily", "Coast Times"]


def test_the_sources_line_names_the_copies_in_discord_and_the_terminal():
    from bot.formatting import citation_line
    from retrieval.cli import _sources_text
    from retrieval.models import Citation

    c = Citation(1, "ap-1", "Floods close coastal highway", "Wire Service", "2024-01-08", "http://127.0.0.1/ap-1",
                 "Flooding closed the coastal highway.", also_in=("Alder Daily", "Coast *Times*"))
    assert citation_line(c) == ("[1] **Floods close coastal highway** — Wire Service, 2024-01-08 "
                                "<http://127.0.0.1/ap-1> · also in: Alder Daily, Coast \\*Times\\*")
    assert _sources_text([c]) == ("[1] Floods close coastal highway — Wire Service, 2024-01-08 "
                                  "<http://127.0.0.1/ap-1> · also in: Alder Daily, Coast *Times*")
    assert "also_in" not in Citation(2, "x", "", "", "", "", "q").to_dict()
