"""tasks/feeds.py: the feeds file and feed bytes -> entries (no network)."""

import json
from datetime import UTC, datetime

import feedparser
import pytest
from conftest import corpus_dir, site_file

from schemas.records import FeedConfig
from tasks.feeds import FeedsFileError, canonicalize_url, load_feeds_file, parse_feed

FEED = FeedConfig("odd", "https://feeds.example.com/odd.xml", "Odd", language="en")


def parse(raw: bytes, **kw):
    return parse_feed(raw, feed=FEED, base_url="https://feeds.example.com/odd.xml", **kw)


def test_odd_entries_are_cleaned():
    entries, seen, bozo = parse(site_file("odd_feed.xml"))
    assert seen == 7 and bozo is None
    by_title = {e.title: e for e in entries}
    # relative link resolved against the feed URL; no-link and javascript: entries dropped; duplicate kept once
    assert by_title["Relative link"].url == "https://feeds.example.com/news/relative-story"
    assert set(by_title) == {"Relative link", "Tracking parameters", "Duplicate", "Odd date"}
    assert by_title["Relative link"].summary == "A summary in HTML."
    assert by_title["Relative link"].published_at == datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    assert by_title["Tracking parameters"].canonical_url == "https://example.com/story?id=7"
    assert by_title["Odd date"].published_at is None  # unparseable date: unknown, not invented
    assert len({e.entry_key for e in entries}) == len(entries)
    # newest first
    assert [e.title for e in entries][:2] == ["Relative link", "Tracking parameters"]


def test_max_entries_keeps_newest():
    entries, seen, _ = parse(site_file("odd_feed.xml"), max_entries=1)
    assert seen == 7 and [e.title for e in entries] == ["Relative link"]


@pytest.mark.parametrize("raw", [b"", b"<html><body><p>Not a feed</p></body></html>", b"\x00\xff garbage"])
def test_not_a_feed_raises(raw):
    with pytest.raises(ValueError):
        parse(raw)


def test_empty_feed_is_a_feed():
    entries, seen, _ = parse(b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>')
    assert entries == [] and seen == 0


def test_canonicalize_url():
    assert canonicalize_url("HTTPS://Example.COM:443/a?utm_campaign=x&b=1#top") == "https://example.com/a?b=1"
    assert canonicalize_url("https://example.com/a?fbclid=abc") == "https://example.com/a"


def test_load_feeds_file(tmp_path):
    good = tmp_path / "feeds.toml"
    good.write_text('[[feeds]]\nid = "a"\nurl = "https://x.example/rss"\nname = "A"\nsport = "football"\n')
    [feed] = load_feeds_file(good)
    assert feed == FeedConfig("a", "https://x.example/rss", "A", sport="football")
    for text, msg in [
        ("", r"no \[\[feeds\]\]"),
        ('[[feeds]]\nid = "a"\nname = "A"\n', "lacks url"),
        ('[[feeds]]\nid="a"\nurl="ftp://x/"\nname="A"\n', "not http"),
        ('[[feeds]]\nid="a"\nurl="https://x/"\nname="A"\n[[feeds]]\nid="a"\nurl="https://y/"\nname="B"\n', "twice"),
        ("not = [toml", "not valid TOML"),
    ]:
        bad = tmp_path / "bad.toml"
        bad.write_text(text)
        with pytest.raises(FeedsFileError, match=msg):
            load_feeds_file(bad)
    with pytest.raises(FeedsFileError, match="not found"):
        load_feeds_file(tmp_path / "missing.toml")


def test_default_feeds_file_is_valid():
    from pressbox.settings import ROOT

    feeds = load_feeds_file(ROOT / "feeds.toml")
    assert len(feeds) >= 5 and all(f.url.startswith("https://") for f in feeds)


def test_real_feeds_from_corpus():
    """The 33 real feeds: entries as feedparser counts them (minus linkless ones), no crash."""
    folder = corpus_dir("feeds")
    manifest = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines() if line.strip()]
    for item in manifest:
        raw = (folder / item["file"]).read_bytes()
        entries, seen, _ = parse(raw)
        assert seen == item["items"], item["id"]
        assert len(entries) <= seen
        assert all(e.url.startswith(("http://", "https://")) for e in entries)


def test_feedparser_suite_matches_feedparser():
    """feedparser's own well- and ill-formed feeds: our result agrees with feedparser's."""
    folder = corpus_dir("feeds/feedparser-suite")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in {".xml", ".rdf", ".atom", ".rss"})
    assert files
    for path in files:
        raw = path.read_bytes()
        expected = feedparser.parse(raw, response_headers={"content-location": "https://feeds.example.com/odd.xml"})
        try:
            entries, seen, _ = parse(raw)
        except ValueError:
            assert not expected.entries and not expected.version, path.name
            continue
        assert seen == len(expected.entries), path.name
