"""Sentence spans with offsets, for quoting article text verbatim.

A small rule-based splitter: news prose is regular enough, and the offsets must be exact,
which rules out splitters that normalise whitespace.
"""

from __future__ import annotations

import calendar
import re

# Abbreviations that end in a period without ending a sentence ("Dec. 18", "U.S. border", "Ariz., and").
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gov", "gen", "col", "lt", "sgt", "st", "jr", "sr",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "ala", "ariz", "ark", "calif", "colo", "conn", "del", "fla", "ga", "ill", "ind", "kan", "ky", "la",
    "md", "mass", "mich", "minn", "miss", "mo", "mont", "neb", "nev", "okla", "ore", "pa", "tenn", "tex",
    "va", "vt", "wash", "wis", "wyo", "no", "vs", "etc", "inc", "corp", "co", "ltd", "mt", "ft", "approx",
}
_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+)|\n+")


def _ends_sentence(text: str, end: int, match_text: str) -> bool:
    if "\n" in match_text:
        return True
    if not match_text.startswith("."):
        return True
    word = re.search(r"(\S+)\.$", text[:end].rstrip("\"'”’)]"))
    if word is None:
        return True
    token = word.group(1)
    if token.lower().strip("(\"'“‘") in _ABBREVIATIONS:
        return False
    if re.fullmatch(r"(?:[A-Za-z]\.)*[A-Za-z]", token):  # initials and U.S.-style acronyms
        nxt = text[end:].lstrip()[:1]
        return bool(nxt) and nxt.isupper() and len(token) > 3  # "U.S. Customs" stays together
    return True


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """(start, end) of each sentence in `text`, shifted by `offset`; whitespace excluded."""
    spans = []
    start = 0
    for match in _END.finditer(text):
        end = match.end() if "\n" not in match.group() else match.start()
        if not _ends_sentence(text, match.end(), match.group()):
            continue
        piece = text[start:end]
        stripped_start = start + (len(piece) - len(piece.lstrip()))
        stripped_end = start + len(piece.rstrip())
        if stripped_end > stripped_start:
            spans.append((stripped_start + offset, stripped_end + offset))
        start = match.end()
    piece = text[start:]
    if piece.strip():
        stripped_start = start + (len(piece) - len(piece.lstrip()))
        spans.append((stripped_start + offset, start + len(piece.rstrip()) + offset))
    return spans


# What a news site's page prints around the story and scraped article text keeps: gallery
# captions ("Hide Caption 18 of 29 Photos: …", "Photos: Russia invades Ukraine Smoke rises above
# Mariupol on April 18.", 694 dev sentences), video players ("JUST WATCHED … Replay More
# Videos", "MUST WATCH … 03:26", "Video Ad Feedback 03:01 - Source: HLN Actress Anne Heche
# critically injured…", in 48 dev articles), links and newsletter calls ("Read more here.",
# "Sign up for …"). In the RealTimeQA dev articles, 4,236 of 246,789 sentences (1 in 58) are;
# 4,289 with the photo captions below.
_FURNITURE = re.compile(r"\bHide Caption \d+ of \d+|\bJUST WATCHED\b|\bMUST WATCH\b|\bReplay More Videos\b"
                        r"|\bVideo Ad Feedback\b|^(?:Read more|READ MORE|Click here|Sign up)\b|^Photos:")


# A photo caption kept in the text: who does what, in the present tense, on a date given in
# full ("President Joe Biden arrives at White House in Washington, DC, on December 19, 2023,
# as he returns from Wilmington, Delaware.", the seed's, which answered "when do lawmakers
# return?" beside the sentence that does). The story tells what happened in the past tense and
# dates it by weekday; a caption's verb is one a photo shows. 47 distinct dev-archive sentences
# match, all captions (a pronoun is no caption's subject: "They shout “freedom,” while
# authorities fear chaos…" is a story's).
_CAPTION_VERBS = ("arrive|attend|speak|talk|walk|look on|look|leave|visit|testif(?:y|ie)|participate|answer|address"
                  "|react|listen|wave|gesture|pose|stand|sit|greet|celebrate|depart|board|shake hands|meet|hold"
                  "|deliver|remove|gather|march(?:e)?|protest|wait|watch(?:e)?|cheer|pray|mourn|embrace|hug|kneel"
                  "|salute|wear|carr(?:y|ie)|display|ride|smile|shout|detain|distribute|welcome|help|take part"
                  "|inspect|tee off")
_CAPTION_MONTHS = "|".join(calendar.month_name[1:]) + r"|Jan\.|Feb\.|Aug\.|Sept\.|Oct\.|Nov\.|Dec\."
_CAPTION = re.compile(r"^(?!(?:He|She|It|They|We|You|I)\b)"
                      r"(?:(?:[A-Z][\w.'’&-]*|of|the|de|van|von|and|al|bin),?\s+){1,12}"
                      rf"(?:(?:{_CAPTION_VERBS})s?|(?:is|are) seen)\b[^.]*?"
                      rf"\bon (?:{_CAPTION_MONTHS}) \d{{1,2}}, (?:19|20)\d\d\b")


def is_page_furniture(sentence: str) -> bool:
    """Whether `sentence` is the page around the story rather than the story (a site's
    furniture, a photo caption): never an answer."""
    return bool(_FURNITURE.search(sentence) or _CAPTION.search(sentence))


_OPENING_QUOTES = frozenset("\"'\u201c\u2018")


def is_question(sentence: str) -> bool:
    """Whether `sentence` asks rather than tells ("So why don't New Jersey and Oregon let you
    pump your own gas?", a quiz printing its questions): never an answer. A question quoted
    whole is asked by someone; one quoted inside a statement ("…voted “yes” in response to the
    question: “Based on …?”") is told about."""
    text = sentence.strip()
    if text[:1] in _OPENING_QUOTES:
        text = text.rstrip("\"'\u201d\u2019")
    return text.endswith("?")
