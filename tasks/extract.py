"""Extract: page HTML -> Article (the one trafilatura adapter)."""

from __future__ import annotations

import codecs
import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import trafilatura
from trafilatura.settings import Document, use_config
from trafilatura.utils import load_html

from schemas.records import Article, FeedEntry, FetchError, Response
from tasks.blocks import body_text, prune
from tasks.declared import Declared, parse_when, read_declared
from tasks.feeds import canonicalize_url

MIN_BODY_WORDS = 20  # fewer words than this is a stub (cookie wall, JS shell, paywall teaser)
MAX_TREE_SIZE = 50_000  # elements; real article pages have a few thousand. Bigger DOMs are refused
# rather than parsed for minutes (trafilatura's own MAX_TREE_SIZE does not stop every path).
_CONFIG = use_config()
_CONFIG.set("DEFAULT", "MAX_TREE_SIZE", str(MAX_TREE_SIZE))
_CONFIG.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")  # its SIGALRM timer only works in the main thread
AGREE = 0.9  # share of words two candidate bodies must share to count as the same text
LONGER = 1.25  # a declared body this much longer than the page text, containing it, completes it
POST_PROBE_WORDS = 12  # a live post whose first words the page text already has is already in it
LANGID_CHARS = 200  # agrees with the whole text on all 370 corpus texts tried; more only costs time
FUTURE_SLACK = timedelta(days=1)  # clocks and timezones disagree a little; more is a wrong date
MAX_AGE = timedelta(days=365 * 20)  # older than this at fetch time is a placeholder (1970, 1900), not news
MAX_BODY_CHARS = 100_000  # default of the `max_body_chars` setting: the most text one article sends to spaCy
_WORD = re.compile(r"\w+")
_UNSAFE_CHARS = re.compile(r"[\ud800-\udfff\x00]")  # lone surrogates (from JSON escapes) and NULs: unstorable
_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([a-zA-Z0-9_-]+)""", re.IGNORECASE)
_LIVE_TITLE = re.compile(r"(?:^|[\s:|\-–—])live(?:\s*[:|\-–—]|\s+(?:updates?|blog|reaction|coverage)\b|\s*$)"
                         r"|\bas it happened\b", re.IGNORECASE)
DATE_PARAMS = {"extensive_search": True, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"}
# htmldate's extensive search reads the whole page for date-like strings: worth it only when neither
# the feed entry nor the page's own declarations give a date (it is most of the metadata cost).
QUICK_DATE_PARAMS = {**DATE_PARAMS, "extensive_search": False}


@dataclass(frozen=True)
class Extracted:
    """What a page yields on its own, before the feed entry fills the gaps."""

    title: str | None
    body: str
    author: str | None
    published_at: datetime | None  # the first of `dates`, kept for callers that want one value
    language: str | None
    site_name: str | None
    image_url: str | None
    canonical_url: str | None
    description: str | None
    refused: str | None = None  # why the page was not extracted at all
    method: str = "trafilatura"  # which candidate won, and why (see choose_body)
    dates: tuple[tuple[str, datetime], ...] = ()  # (source, when), best first: declared, then htmldate
    is_liveblog: bool = False
    paywalled: bool = False
    notes: tuple[tuple[str, str], ...] = ()  # (error_type, message): what was skipped to extract the page


def plausible_date(when: datetime | None, fetched_at: datetime) -> datetime | None:
    """Keep a publication date only if it is neither in the future nor long before the fetch."""
    if when is None:
        return None
    if when > fetched_at + FUTURE_SLACK or when < fetched_at - MAX_AGE:
        return None
    return when


def _words(text: str) -> Counter:
    return Counter(w.casefold() for w in _WORD.findall(text))


def _share_within(part: Counter, whole: Counter) -> float:
    """How much of `part` (as a bag of words) is also in `whole`."""
    total = sum(part.values())
    return sum((part & whole).values()) / total if total else 0.0


def choose_body(page_text: str, declared: Declared, pruned: Counter | None = None) -> tuple[str, str]:
    """Pick the article body from the candidates; return it with the reason, for extraction_method.

    Candidates: trafilatura's text after the block rules (`page_text`) and the publisher's declared
    JSON-LD articleBody. The declared body wins when the two agree (>= AGREE of the longer one's
    words are in both: the page text then only adds furniture), when it extends a page text that is
    a fragment of it, or when the page yielded a stub. A live blog keeps the page text and gains the
    declared posts that the page text misses.
    """
    method = "trafilatura"
    if pruned:
        method += "+pruned(" + ",".join(f"{rule}={n}" for rule, n in sorted(pruned.items())) + ")"
    declared_body = (declared.article_body or "").strip()
    if declared_body and not declared.is_liveblog:
        page, decl = _words(page_text), _words(declared_body)
        n_page, n_decl = sum(page.values()), sum(decl.values())
        if n_page < MIN_BODY_WORDS <= n_decl:
            return declared_body, "jsonld(page text is a stub)"
        if n_page and n_decl >= MIN_BODY_WORDS:
            both = sum((page & decl).values())
            agree = both / max(n_page, n_decl)
            if agree >= AGREE:
                return declared_body, f"jsonld(agree={agree:.2f})"
            if n_decl >= LONGER * n_page and _share_within(page, decl) >= AGREE:
                return declared_body, f"jsonld(extends page text x{n_decl / n_page:.1f})"
    if declared.is_liveblog and declared.live_updates:
        page_seq = " ".join(_WORD.findall(page_text.casefold()))
        missing = [(head, body) for head, body in declared.live_updates if not _shown(body, page_seq)]
        if missing:
            page_text = "\n".join([page_text, *(f"{head}\n{body}".strip() for head, body in missing)]).strip()
            method += f"+live_updates({len(missing)})"
    return page_text, method


def _shown(post: str, page_seq: str) -> bool:
    """A declared post is on the page when its opening words appear there in order."""
    words = _WORD.findall(post.casefold())
    return not words or " ".join(words[:POST_PROBE_WORDS]) in page_seq


def _language(body: str, declared: str | None) -> str | None:
    """Detect the body's language (py3langid, as trafilatura does); short texts keep the declared one."""
    if len(body.split()) < MIN_BODY_WORDS:
        return declared
    import py3langid

    return py3langid.classify(body[:LANGID_CHARS])[0] or declared


def is_liveblog(declared: Declared, title: str | None) -> bool:
    """Declared LiveBlogPosting (or og:type), or a headline that says it is live."""
    return declared.is_liveblog or any(_LIVE_TITLE.search(t) for t in (title, declared.headline) if t)


def extract_html(html: bytes | str, url: str | None = None, *, have_date: bool = False) -> Extracted:
    """Extract one page: candidates, block rules, choice, dates and flags (no network).

    `have_date`: the caller already holds a plausible publication date (the feed entry's), so
    htmldate need not search the whole page for one.
    """
    tree = load_html(html)
    if tree is None:
        return Extracted(None, "", None, None, None, None, None, None, None)
    lang = (tree.get("lang") or "").split("-")[0].strip().lower() or None
    size = int(tree.xpath("count(//node())"))  # counted inside libxml2: no Python object per node
    if size > MAX_TREE_SIZE:
        return Extracted(None, "", None, None, lang, None, None, None, None,
                         refused=f"dom_too_large: {size} elements (limit {MAX_TREE_SIZE})")
    declared = read_declared(tree)
    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_links=True,  # the block rules need to see link text; links are stripped afterwards
        date_extraction_params=QUICK_DATE_PARAMS if have_date or declared.published else DATE_PARAMS,
        config=_CONFIG,
    ) or Document()  # nothing extracted: an empty document, so one path below serves every page
    title, description = doc.title or None, doc.description or None
    pruned, page_text = Counter(), ""
    if doc.body is not None:
        pruned = prune(doc.body, title, description, doc.author)
        page_text = _drop_title_line(body_text(doc.body), title)
    body, method = choose_body(page_text, declared, pruned)
    dates = [(source, when) for source, when in (("declared", declared.published), ("htmldate", parse_when(doc.date)))
             if when]
    return Extracted(
        title=title,
        body=body,
        author=doc.author or None,
        published_at=dates[0][1] if dates else None,
        language=_language(body, doc.language or declared.language or lang),
        site_name=doc.sitename or None,
        image_url=doc.image or None,
        canonical_url=doc.url or None,
        description=description,
        method=method,
        dates=tuple(dates),
        is_liveblog=is_liveblog(declared, title),
        paywalled=declared.accessible_for_free is False or len(body.split()) < MIN_BODY_WORDS,
        notes=tuple(("jsonld_invalid", f"skipped {why}") for why in declared.skipped),
    )


def _drop_title_line(body: str, title: str | None) -> str:
    """Remove the headline when the extracted text starts by repeating it."""
    if title:
        first, _, rest = body.partition("\n")
        if " ".join(first.split()).casefold() == " ".join(title.split()).casefold():
            return rest.lstrip()
    return body


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:  # a port that is not a number: no origin matches it
        return ("", "", -1)
    return parts.scheme, (parts.hostname or "").removeprefix("www."), port


def _same_site(a: str, b: str) -> bool:
    """Same scheme, host (www. aside) and port: a page may not file itself under another origin."""
    return _origin(a) == _origin(b)


def article_id_for(canonical_url: str) -> str:
    """Stable article id: the canonical URL's hash."""
    return hashlib.sha1(canonical_url.encode("utf-8")).hexdigest()[:20]


def content_hash(title: str | None, body: str) -> str:
    """Hash of what an analyst reads; a change means the article was updated."""
    return hashlib.sha256(f"{title or ''}\n{body}".encode()).hexdigest()


def publication_date(entry: FeedEntry, ex: Extracted, fetched_at: datetime) -> tuple[datetime | None, str | None]:
    """The first plausible date of: the feed entry's, the page's declared one, htmldate's; with its source."""
    for source, when in (("feed", entry.published_at), *ex.dates):
        if plausible_date(when, fetched_at) is not None:
            return when, source
    return None, None


def _cp1252_byte(err: UnicodeDecodeError) -> tuple[str, int]:
    """Codec error handler: a byte that is not UTF-8 is read as Windows-1252 (Latin-1's superset)."""
    return err.object[err.start : err.start + 1].decode("cp1252", errors="replace"), err.start + 1


codecs.register_error("pressbox-cp1252", _cp1252_byte)


def decode_page(content: bytes, content_type: str | None = None) -> bytes | str:
    """A page declared (or presumed) UTF-8 that carries stray Latin-1 bytes, decoded byte-exactly.

    Left as bytes (trafilatura guesses) when the page declares another charset or is valid UTF-8:
    guessing a whole page's charset from a few stray bytes garbles every non-ASCII letter it has.
    """
    declared = re.search(r"charset\s*=\s*[\"']?([\w-]+)", content_type or "", re.IGNORECASE)
    meta = _CHARSET.search(content[:4096])
    charset = (declared.group(1) if declared else meta.group(1).decode() if meta else "utf-8").lower()
    if charset.replace("_", "-") not in ("utf-8", "utf8"):
        return content
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("utf-8", errors="pressbox-cp1252")


def clean_text(text: str | None) -> str | None:
    """Text safe to store and tag: lone surrogates become U+FFFD, NULs go."""
    if text is None or not _UNSAFE_CHARS.search(text):
        return text
    return _UNSAFE_CHARS.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)


def bound_body(body: str, method: str, max_chars: int) -> tuple[str, str]:
    """Cut a body longer than `max_chars` at a word boundary; the method records the cut."""
    if len(body) <= max_chars:
        return body, method
    cut = body.rfind(" ", 0, max_chars + 1)
    short = body[: cut if cut > max_chars // 2 else max_chars].rstrip()
    return short, f"{method}+truncated({len(body)}->{len(short)} chars)"


def build_article(entry: FeedEntry, response: Response, max_body_chars: int = MAX_BODY_CHARS) -> Article | FetchError:
    """Turn a fetched page into an Article, falling back to the entry's summary for a stub body.

    Bodies longer than `max_body_chars` are truncated (noted in extraction_method): spaCy refuses
    texts over 1,000,000 characters and its memory grows with the text.
    """
    html = decode_page(response.content, response.headers.get("content-type"))
    ex = extract_html(html, response.final_url,
                      have_date=plausible_date(entry.published_at, response.fetched_at) is not None)
    canonical = entry.canonical_url
    # Follow rel=canonical only within the same site: a page may not claim another site's article.
    if (
        ex.canonical_url
        and urlsplit(ex.canonical_url).scheme in ("http", "https")
        and _same_site(ex.canonical_url, response.final_url)
    ):
        canonical = canonicalize_url(ex.canonical_url)
    body, method = ex.body, ex.method
    if len(body.split()) < MIN_BODY_WORDS:
        fallback = entry.summary or ex.description
        if fallback and len(fallback.split()) > len(body.split()):
            body, method = fallback, "feed_summary" if entry.summary else "meta_description"
    repaired: list[str] = []

    def clean(name: str, value: str | None) -> str | None:
        out = clean_text(value)
        if out != value:
            repaired.append(name)
        return out

    full = clean("body", body) or ""
    body, method = bound_body(full, method, max_body_chars)
    if not body:
        kind, _, detail = (ex.refused or "no_body: page yielded no text").partition(": ")
        return FetchError(
            url=entry.url, stage="extract", error_type=kind,
            message=f"{detail}, and the entry has no summary",
            http_status=response.status, at=datetime.now(UTC),
        )
    published, source = publication_date(entry, ex, response.fetched_at)
    title = clean("title", ex.title or entry.title)
    summary, author = clean("summary", entry.summary or ex.description), clean("author", ex.author or entry.author)
    site_name, image_url = clean("site_name", ex.site_name), clean("image_url", ex.image_url)
    notes = list(ex.notes)
    if repaired:
        notes.append(("text_repaired", f"lone surrogates or NUL characters replaced in: {', '.join(repaired)}"))
    if len(full) > max_body_chars:
        notes.append(("body_truncated", f"body of {len(full)} characters cut to {len(body)} "
                                        f"(max_body_chars {max_body_chars})"))
    at = datetime.now(UTC)
    return Article(
        article_id=article_id_for(canonical),
        url=entry.url,
        canonical_url=canonical,
        feed_id=entry.feed_id,
        entry_key=entry.entry_key,
        title=title,
        body=body,
        summary=summary,
        author=author,
        published_at=published,
        fetched_at=response.fetched_at,
        language=ex.language or entry.language,
        site_name=site_name,
        image_url=image_url,
        content_hash=content_hash(title, body),
        extraction_method=method,
        word_count=len(body.split()),
        date_source=source,
        http_status=response.status,
        paywalled=ex.paywalled,
        is_liveblog=ex.is_liveblog,
        notes=response.notes + tuple(
            FetchError(url=entry.url, stage="extract", error_type=kind, message=message[:1000],
                       http_status=response.status, at=at, fatal=False) for kind, message in notes),
    )
