"""What a page declares about itself: JSON-LD (schema.org) and og:/article: meta tags (no network)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import lxml.html
from lxml.etree import ParserError

ARTICLE_TYPES = frozenset({
    "Article", "NewsArticle", "ReportageNewsArticle", "AnalysisNewsArticle", "OpinionNewsArticle",
    "BackgroundNewsArticle", "ReviewNewsArticle", "BlogPosting", "LiveBlogPosting", "SportsArticle",
})
MAX_JSONLD_CHARS = 2_000_000  # one script block; bigger is not metadata


@dataclass(frozen=True)
class Declared:
    """The page's own claims about its article; every field may be missing."""

    types: frozenset[str] = frozenset()
    article_body: str | None = None  # JSON-LD articleBody (the longest, when several)
    live_updates: tuple[tuple[str, str], ...] = ()  # LiveBlogPosting.liveBlogUpdate: (headline, body) a post
    accessible_for_free: bool | None = None  # isAccessibleForFree anywhere in the article's JSON-LD
    published: datetime | None = None  # datePublished, else article:published_time
    og_type: str | None = None
    headline: str | None = None  # JSON-LD headline, else og:title, else <title>: unshortened
    language: str | None = None  # inLanguage / og:locale, as a two-letter code
    skipped: tuple[str, ...] = ()  # why each JSON-LD block that was not read was skipped

    @property
    def is_liveblog(self) -> bool:
        return "LiveBlogPosting" in self.types or (self.og_type or "").casefold() in {"liveblog", "live_blog"}


def _objects(node: object) -> Iterator[dict]:
    """Every JSON object in a JSON-LD document (lists, @graph and nested values included)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            yield item
            # a live blog's posts are read with the blog, not as articles of their own
            stack.extend(v for k, v in item.items() if isinstance(v, (list, dict)) and k != "liveBlogUpdate")


def _as_list(value: object) -> list:
    """JSON-LD gives one value or a list of them."""
    return value if isinstance(value, list) else [] if value is None else [value]


def _types(obj: dict) -> set[str]:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {k.rsplit("/", 1)[-1] for k in kinds if isinstance(k, str)}


def html_to_text(value: str) -> str:
    """Declared text sometimes carries markup or entities; keep the words, one paragraph a line."""
    if "<" not in value and "&" not in value:
        return value.strip()
    try:
        root = lxml.html.fromstring(f"<div>{value}</div>")
    except (ParserError, ValueError):
        return value.strip()
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in root.iter("p", "div", "li", "h1", "h2", "h3", "h4", "blockquote"):
        block.tail = "\n" + (block.tail or "")
    return "\n".join(line.strip() for line in root.text_content().splitlines() if line.strip())


def parse_when(value: object) -> datetime | None:
    """An ISO 8601 date or datetime; naive values are taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _free(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    return None


def _meta(tree: lxml.html.HtmlElement, *names: str) -> str | None:
    for name in names:
        for el in tree.xpath("//meta[@property=$n or @name=$n]", n=name):
            content = (el.get("content") or "").strip()
            if content:
                return content
    return None


def read_declared(tree: lxml.html.HtmlElement) -> Declared:
    """Collect the article's JSON-LD and meta declarations; malformed blocks are skipped."""
    types: set[str] = set()
    bodies: list[str] = []
    updates: list[tuple[str, str]] = []
    free: bool | None = None
    published: datetime | None = None
    language: str | None = None
    headline: str | None = None
    skipped: list[str] = []
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        raw = script.text or ""
        if len(raw) > MAX_JSONLD_CHARS:
            skipped.append(f"a JSON-LD block of {len(raw)} characters (limit {MAX_JSONLD_CHARS})")
            continue
        if not raw.strip():
            continue
        try:  # broken or absurdly nested JSON-LD is skipped: it is only a hint
            doc = json.loads(raw)
        except RecursionError:
            skipped.append("a JSON-LD block nested too deeply to parse")
            continue
        except ValueError as exc:
            skipped.append(f"a JSON-LD block that is not valid JSON ({str(exc)[:120]})")
            continue
        for obj in _objects(doc):
            kinds = _types(obj)
            if not kinds & ARTICLE_TYPES:
                continue
            types |= kinds
            body = obj.get("articleBody")
            if isinstance(body, str) and body.strip():
                bodies.append(html_to_text(body))
            if "LiveBlogPosting" in kinds:
                for post in _as_list(obj.get("liveBlogUpdate")):
                    if isinstance(post, dict) and isinstance(post.get("articleBody"), str):
                        post_head = html_to_text(str(post.get("headline") or ""))
                        updates.append((post_head, html_to_text(post["articleBody"])))
            # the article's own flag and its parts' ("hasPart": the paywalled section); any "false" wins
            flags = [_free(x.get("isAccessibleForFree")) for x in [obj, *_as_list(obj.get("hasPart"))]
                     if isinstance(x, dict)]
            if declared := [f for f in flags if f is not None]:
                free = all(declared) and free is not False
            published = published or parse_when(obj.get("datePublished"))
            if isinstance(obj.get("headline"), str) and not headline:
                headline = obj["headline"].strip() or None
            lang = obj.get("inLanguage")
            if isinstance(lang, str) and not language:
                language = lang
    published = published or parse_when(_meta(tree, "article:published_time", "og:published_time"))
    language = language or _meta(tree, "og:locale")
    code = re.split(r"[-_]", language)[0].strip().lower() if language else None
    return Declared(
        types=frozenset(types),
        article_body=max(bodies, key=len) if bodies else None,
        live_updates=tuple(updates),
        accessible_for_free=free,
        published=published,
        og_type=_meta(tree, "og:type"),
        headline=headline or _meta(tree, "og:title") or (tree.findtext(".//title") or "").strip() or None,
        language=code if code and code.isalpha() and len(code) in (2, 3) else None,
        skipped=tuple(skipped),
    )
