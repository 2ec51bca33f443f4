"""tasks/extract.py: page -> Article, fallbacks, dates, canonical URLs (no network)."""

import gzip
import json
from datetime import UTC, datetime, timedelta

from conftest import corpus_dir

from schemas.records import FeedEntry, FetchError, Response
from tasks.extract import build_article, extract_html, plausible_date

BODY = " ".join(f"Sentence number {i} of a long match report about the game." for i in range(30))
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def page(body_html: str, head: str = "") -> bytes:
    return (
        f'<html lang="en-GB"><head><title>Big win | Site</title>{head}</head><body>'
        '<nav><a href="/">Home</a><a href="/football">Football</a></nav>'
        f"<article><h1>Big win</h1>{body_html}</article>"
        '<div class="comments"><p>First comment!</p></div><footer>© Site</footer></body></html>'
    ).encode()


def entry(**kw) -> FeedEntry:
    base = dict(feed_id="f", entry_key="k", url="https://site.example/story?utm_source=rss",
                canonical_url="https://site.example/story", title="Feed title", summary=None,
                published_at=None)
    base.update(kw)
    return FeedEntry(**base)


def response(content: bytes, url: str = "https://site.example/story") -> Response:
    return Response(url, url, 200, content, "text/html", {}, NOW, 0.1)


def test_extracts_body_and_metadata():
    head = ('<meta property="og:site_name" content="Site"><meta name="author" content="Anna Writer">'
            '<meta property="article:published_time" content="2026-11-19T18:30:00+01:00">'
            '<link rel="canonical" href="https://www.site.example/story-canonical">')
    art = build_article(entry(), response(page(f"<p>{BODY}</p>", head)))
    assert not isinstance(art, FetchError)
    assert art.body.startswith("Sentence number 0") and "First comment" not in art.body
    assert art.extraction_method == "trafilatura" and art.word_count == len(BODY.split())
    assert art.title == "Big win" and art.site_name == "Site" and art.author == "Anna Writer"
    assert art.language == "en"
    assert art.published_at == datetime(2026, 11, 19, 17, 30, tzinfo=UTC) and art.date_source == "page"
    # rel=canonical on the same site (www. or not) is followed; the id follows the canonical URL
    assert art.canonical_url == "https://www.site.example/story-canonical"


def test_feed_date_wins_and_future_dates_are_rejected():
    when = NOW - timedelta(hours=3)
    art = build_article(entry(published_at=when), response(page(f"<p>{BODY}</p>")))
    assert art.published_at == when and art.date_source == "feed"
    assert plausible_date(NOW + timedelta(days=30), NOW) is None
    assert plausible_date(datetime(1900, 1, 1, tzinfo=UTC), NOW) is None


def test_canonical_on_another_site_is_ignored():
    head = '<link rel="canonical" href="https://evil.example/other-story">'
    art = build_article(entry(), response(page(f"<p>{BODY}</p>", head)))
    assert art.canonical_url == "https://site.example/story"


def test_stub_page_falls_back_to_feed_summary():
    summary = "Arsenal beat Chelsea 2-1 at the Emirates on Saturday, with a late goal settling a tight game."
    art = build_article(entry(summary=summary), response(page("<p>Please enable JavaScript.</p>")))
    assert art.extraction_method == "feed_summary" and art.body == summary


def test_no_body_at_all_is_an_error():
    result = build_article(entry(), response(b"<html><body><script>app()</script></body></html>"))
    assert isinstance(result, FetchError) and result.error_type == "no_body" and result.stage == "extract"


def test_garbage_bytes_do_not_crash():
    result = build_article(entry(summary="short summary"), response(b"\xff\xfe\x00\x00garbage\x89PNG"))
    assert isinstance(result, FetchError) or result.extraction_method == "feed_summary"


def test_corpus_extraction_floor():
    """Mean token F1 over the 138 real pages stays above the floor (the eval script's metric)."""
    folder = corpus_dir("articles")
    import importlib.util

    spec = importlib.util.spec_from_file_location("score_extract", folder.parent.parent / "eval" / "score_extract.py")
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    manifest = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines() if line.strip()]
    scores = []
    for item in manifest:
        ex = extract_html(gzip.decompress((folder / item["html_file"]).read_bytes()), item["url"])
        truth = (folder / item["truth_file"]).read_text(encoding="utf-8")
        scores.append(scorer.prf(truth, ex.body)[2])
    assert len(scores) == 138
    assert sum(scores) / len(scores) >= 0.95
