"""tasks/extract.py: page -> Article, fallbacks, dates, canonical URLs (no network)."""

import gzip
import json
from collections import Counter
from datetime import UTC, datetime, timedelta

from conftest import corpus_dir

from schemas.records import FeedEntry, FetchError, Response
from tasks.declared import Declared
from tasks.extract import build_article, choose_body, extract_html, plausible_date

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
    # the page's own h1 headline is not body text; the block rule that removed it is on record
    assert art.extraction_method == "trafilatura+pruned(headline=1)" and art.word_count == len(BODY.split())
    assert art.title == "Big win" and art.site_name == "Site" and art.author == "Anna Writer"
    assert art.language == "en"
    assert art.published_at == datetime(2026, 11, 19, 17, 30, tzinfo=UTC) and art.date_source == "declared"
    assert art.paywalled is False and art.is_liveblog is False
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
    assert sum(scores) / len(scores) >= 0.96


# -- candidates and the choice rule -------------------------------------------------------------

def jsonld(obj: dict) -> str:
    return f'<script type="application/ld+json">{json.dumps(obj)}</script>'


TEASERS = ('<ul><li><a href="/a">Other story one</a> Its summary</li><li><a href="/b">Other story two</a> More</li>'
           '<li><a href="/c">Other story three</a> And more</li></ul>')


def test_declared_body_wins_when_it_agrees_with_the_page_text():
    # the page text is the declared body plus a related-stories line trafilatura kept
    head = jsonld({"@type": "NewsArticle", "articleBody": BODY, "datePublished": "2026-11-19T10:00:00Z"})
    ex = extract_html(page(f"<p>{BODY}</p><p>Also read: Chelsea sign a new goalkeeper for next season.</p>", head))
    assert ex.method.startswith("jsonld(agree=") and ex.body == BODY
    assert ex.dates[0] == ("declared", datetime(2026, 11, 19, 10, 0, tzinfo=UTC))


def test_truncated_declared_body_loses_to_the_page_text():
    head = jsonld({"@type": "NewsArticle", "articleBody": " ".join(BODY.split()[:40])})
    ex = extract_html(page(f"<p>{BODY}</p>", head))
    assert ex.method.startswith("trafilatura") and ex.body.startswith("Sentence number 0")
    assert len(ex.body.split()) == len(BODY.split())


def test_declared_body_completes_a_page_fragment_and_replaces_a_stub():
    second_half = " ".join(f"Second half note {i} about the substitutes and the late winner." for i in range(30))
    longer = f"{BODY} {second_half}"
    ex = extract_html(page(f"<p>{BODY}</p>", jsonld({"@type": "NewsArticle", "articleBody": longer})))
    assert ex.method.startswith("jsonld(extends page text") and ex.body == longer
    assert choose_body("Subscribe to read.", Declared(article_body=BODY)) == (BODY, "jsonld(page text is a stub)")


def test_choice_rule_records_the_block_rules_and_ignores_a_live_blogs_body():
    body, method = choose_body(BODY, Declared(), Counter(link_block=2, headline=1))
    assert body == BODY and method == "trafilatura+pruned(headline=1,link_block=2)"
    # a live blog's articleBody is usually its lead only: the page text with its posts is kept
    lead = " ".join(BODY.split()[:30])
    live = Declared(types=frozenset({"LiveBlogPosting"}), article_body=lead)
    assert choose_body(BODY, live) == (BODY, "trafilatura")


def test_malformed_jsonld_is_ignored():
    ex = extract_html(page(f"<p>{BODY}</p>", '<script type="application/ld+json">{"@type": "NewsArt</script>'))
    assert ex.method.startswith("trafilatura") and ex.body.startswith("Sentence number 0")


def test_live_blog_gains_the_declared_posts_the_page_lacks():
    posts = [{"@type": "BlogPosting", "headline": "GOAL! Saka makes it 2-0",
              "articleBody": "A curling finish from the edge of the box after a quick one-two with Odegaard."},
             {"@type": "BlogPosting", "headline": "Kick-off", "articleBody": " ".join(BODY.split()[:12])}]
    head = jsonld({"@type": "LiveBlogPosting", "headline": "Arsenal v Chelsea - live", "liveBlogUpdate": posts})
    ex = extract_html(page(f"<p>{BODY}</p>", head))
    assert ex.is_liveblog and ex.method.endswith("+live_updates(1)")  # the second post is on the page already
    assert ex.body.endswith("GOAL! Saka makes it 2-0\nA curling finish from the edge of the box after a quick "
                            "one-two with Odegaard.")


def test_live_headline_marks_a_live_blog():
    live = b"<html><head><title>Arsenal v Chelsea - live: updates from the Emirates</title></head><body>" \
        + f"<article><p>{BODY}</p></article></body></html>".encode()
    assert extract_html(live).is_liveblog
    assert not extract_html(page(f"<p>{BODY}</p>")).is_liveblog  # "Big win"


def test_paywall_flag_from_declaration_or_stub():
    head = jsonld({"@type": "NewsArticle", "isAccessibleForFree": False,
                   "hasPart": {"@type": "WebPageElement", "isAccessibleForFree": "False", "cssSelector": ".paid"}})
    assert extract_html(page(f"<p>{BODY}</p>", head)).paywalled
    assert extract_html(page("<p>Subscribe to keep reading this story.</p>")).paywalled
    free = jsonld({"@type": "NewsArticle", "isAccessibleForFree": True})
    assert not extract_html(page(f"<p>{BODY}</p>", free)).paywalled


def test_language_is_detected_from_the_body_not_the_declaration():
    german = " ".join(["Der FC Bayern hat am Samstag das Spitzenspiel gegen Borussia Dortmund mit zwei zu eins "
                       "gewonnen, nachdem die Mannschaft lange zurückgelegen hatte."] * 4)
    assert extract_html(page(f"<p>{german}</p>")).language == "de"  # the page says lang="en-GB"


def test_date_sources_in_order_and_implausible_dates_skipped():
    head = jsonld({"@type": "NewsArticle", "datePublished": "2031-01-01T00:00:00Z"})  # in the future
    head += '<meta property="article:published_time" content="2026-11-18T09:00:00Z">'
    art = build_article(entry(), response(page(f"<p>{BODY}</p>", head)))
    # the JSON-LD date is in the future, so no declared date is usable; htmldate finds the meta one
    assert art.published_at.date() == datetime(2026, 11, 18).date() and art.date_source == "htmldate"
    old = build_article(entry(published_at=datetime(1970, 1, 1, tzinfo=UTC)),
                        response(page(f"<p>{BODY}</p>", jsonld({"@type": "NewsArticle",
                                                                "datePublished": "2026-11-19T08:00:00+01:00"}))))
    assert old.date_source == "declared" and old.published_at == datetime(2026, 11, 19, 7, 0, tzinfo=UTC)
    assert plausible_date(NOW - timedelta(days=365 * 21), NOW) is None
    assert plausible_date(NOW - timedelta(days=365 * 5), NOW) is not None
