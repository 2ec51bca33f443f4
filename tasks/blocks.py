"""Block rules over trafilatura's XML body: drop the teasers and headlines a reader does not count.

trafilatura keeps some page furniture inside the main text: "related story" links, lists of
teasers under a newsletter box, the page's own headline. Each rule looks at one block's shape
(how much of it is link text, whether a list is a list of links, where a heading stands) and
never at the site, so the same rule holds on any page. `prune` says which rules fired, and how
often, so the choice is recorded with the article.
"""

from __future__ import annotations

import re
from collections import Counter

from lxml import etree

LINK_SHARE = 0.8  # a block whose text is at least this share link text is a teaser, not prose
LINKED_ITEMS = 0.8  # a list whose items mostly open with a link is a list of teasers
ECHO_SHARE = 0.8  # a heading whose words are mostly in the title or description repeats them
DEK_WORDS = 40  # the summary line under a teaser headline is short
CAPTION_WORDS = 30  # a caption and its "Credit: Agency/Photographer" line are short; longer is prose
BIO_OPENING_WORDS = 8  # the author's name and "is a" come first in an author's note
_CREDIT = re.compile(r"^(?:credit|photo|photograph|image|picture|foto|bild|crédit|crédito)s?\s*:", re.IGNORECASE)
_BIO_VERB = re.compile(r"\b(?:is|was)\s+(?:a|an|the)\b|\bis (?:the )?author\b", re.IGNORECASE)
_WORD = re.compile(r"\w+")


def _chars(el: etree._Element) -> int:
    """Characters of text, whitespace aside (a cheap measure for link density)."""
    return len("".join("".join(el.itertext()).split()))


def _link_chars(el: etree._Element) -> int:
    total = 0
    for ref in el.iter("ref"):
        text = "".join(ref.itertext()).strip()
        if not text.startswith(("http://", "https://", "www.")):  # a printed URL is content ("More: https://...")
            total += _chars(ref)
    return total


def _drop(el: etree._Element) -> None:
    parent = el.getparent()
    if parent is None:
        return
    if el.tail and el.tail.strip():  # text after the element belongs to its parent
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _opens_with_link(item: etree._Element) -> bool:
    first = next(iter(item), None)
    return not (item.text or "").strip() and first is not None and first.tag == "ref"


def _echoes(el: etree._Element, *texts: str | None) -> bool:
    words = [w.casefold() for w in _WORD.findall("".join(el.itertext()))]
    for text in texts:
        known = {w.casefold() for w in _WORD.findall(text or "")}
        if words and known and sum(w in known for w in words) >= ECHO_SHARE * len(words):
            return True
    return False


def _is_bio(text: str, author: str) -> bool:
    """'Jane Doe is a reporter for ...': the author's note that closes many articles."""
    names = author.split(",")[0].split(" and ")[0].split()
    opening = " ".join(text.split()[:BIO_OPENING_WORDS])
    # the surname: bylines say "Stephanie Bazzle", the note says "Steph Bazzle is a news writer"
    return bool(names) and names[-1].casefold() in opening.casefold() and bool(_BIO_VERB.search(opening))


def prune(body: etree._Element, title: str | None = None, description: str | None = None,
          author: str | None = None) -> Counter:
    """Remove teaser blocks and the leading headline from `body` in place; count what each rule removed."""
    fired: Counter = Counter()
    for el in list(body.iter("p", "item", "head")):
        if not _chars(el):  # empty shells (a link around an image) separate blocks that belong together
            _drop(el)
    for lst in list(body.iter("list")):
        items = lst.findall("item")
        if len(items) >= 2 and sum(map(_opens_with_link, items)) >= LINKED_ITEMS * len(items):
            _drop(lst)
            fired["teaser_list"] += 1
    for el in list(body.iter("p", "item", "head")):
        chars = _chars(el)
        if chars and _link_chars(el) >= LINK_SHARE * chars:
            _drop(el)
            fired["link_block"] += 1
    for el in list(body.iter("head")):
        if el.find(".//ref") is not None:  # a heading that links elsewhere announces another story
            dek = el.getnext()  # ... and the short paragraph under it is that story's summary
            if dek is not None and dek.tag == "p" and len("".join(dek.itertext()).split()) <= DEK_WORDS \
                    and (dek.getnext() is None or dek.getnext().tag == "head"):
                _drop(dek)
            _drop(el)
            fired["linked_heading"] += 1
    for el in list(body.iter("p", "head")):
        lines = [line.strip() for line in "".join(el.itertext()).splitlines() if line.strip()]
        if any(_CREDIT.match(line) for line in lines) and sum(len(line.split()) for line in lines) <= CAPTION_WORDS:
            _drop(el)  # a photo caption with its credit line
            fired["photo_credit"] += 1
    if author:
        last = next((el for el in reversed(body) if el.tag == "p"), None)
        if last is not None and _is_bio(" ".join("".join(last.itertext()).split()), author):
            _drop(last)
            fired["author_bio"] += 1
    while len(body) and body[-1].tag == "head":  # headings with nothing under them head page furniture
        _drop(body[-1])
        fired["trailing_heading"] += 1
    for el in list(body):  # the page's headline (h1) and a standfirst that repeats title or description
        if el.tag != "head" or not (el.get("rend") == "h1" or _echoes(el, title, description)):
            break
        _drop(el)
        fired["headline"] += 1
    for lst in list(body.iter("list", "table")):
        if not _chars(lst):
            _drop(lst)
    return fired


def body_text(body: etree._Element) -> str:
    """The pruned body as plain text, one block a line (trafilatura's own text rendering)."""
    from trafilatura.xml import xmltotxt

    etree.strip_tags(body, "ref")
    return xmltotxt(body, include_formatting=False).strip()
