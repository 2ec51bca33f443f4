"""flows/ingest.py end to end: a real local site, the real flow under Prefect, a temp warehouse."""

import html
from pathlib import Path

import pytest
from conftest import SHARED, Route

from flows.ingest import ingest
from pressbox import sample_site
from tasks import load

pytestmark = pytest.mark.usefixtures("prefect_harness")


def counts(db) -> dict[str, int]:
    return {t: load.query(db, f"SELECT count(*) FROM {t}")[1][0][0]
            for t in ("articles", "mentions", "entities", "feed_entries", "fetch_errors")}


@pytest.fixture
def demo_site(site):
    for path, route in sample_site.routes().items():
        site.add(path, route)
    return site


def write_feeds(tmp_path, site, extra: str = "") -> str:
    path = tmp_path / "feeds.toml"
    path.write_text(sample_site.feeds_toml(site.base_url) + extra)
    return str(path)


def test_demo_site_twice(demo_site, settings_for, tmp_path):
    settings = settings_for(feeds_file=write_feeds(tmp_path, demo_site))
    first = ingest(settings=settings)
    db = settings.db_path
    assert first["status"] == "completed" and first["counts"]["feeds_ok"] == 4
    n = len(sample_site.MATCHES)
    assert first["counts"]["articles_new"] == n
    c1 = counts(db)
    assert c1["articles"] == n and c1["fetch_errors"] == 0
    # every article has a body from the page and tagged sports entities
    rows = load.query(db, """SELECT a.article_id, a.extraction_method, a.word_count, a.canonical_url,
                                    count(m.entity_id) FILTER (WHERE m.label IN ('TEAM','COACH','COMPETITION'))
                             FROM articles a LEFT JOIN mentions m USING (article_id) GROUP BY ALL""")[1]
    for _, method, words, url, sports in rows:
        assert method.startswith("trafilatura") and words > 50 and sports >= 3
        assert "utm_" not in url  # tracking parameters stripped
    page_hits = {p: k for p, k in demo_site.hits.items() if not p.startswith("/feeds/") and p != "/robots.txt"}
    assert len(page_hits) == n and set(page_hits.values()) == {1}

    second = ingest(settings=settings)
    assert second["counts"]["feeds_not_modified"] == 4 and second["counts"]["articles_new"] == 0
    assert counts(db) == c1  # nothing duplicated
    assert all(demo_site.hits[p] == 1 for p in page_hits)  # no page refetched
    runs = load.query(db, "SELECT status, articles_new FROM runs ORDER BY started_at")[1]
    assert runs == [("completed", n), ("completed", 0)]
    # the analyst view exists and answers
    top = load.query(db, "SELECT canonical_name FROM article_entities WHERE label = 'TEAM' "
                         "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")[1]
    assert top


def test_bad_feeds_are_recorded_and_the_run_goes_on(demo_site, settings_for, tmp_path):
    demo_site.add("/not-a-feed", Route(b"<html><body><h1>Welcome</h1></body></html>"))
    extra = (f'\n[[feeds]]\nid = "missing"\nurl = "{demo_site.base_url}/nope.xml"\nname = "404 feed"\n'
             f'\n[[feeds]]\nid = "html"\nurl = "{demo_site.base_url}/not-a-feed"\nname = "HTML page"\n'
             f'\n[[feeds]]\nid = "private"\nurl = "http://10.255.255.1/feed.xml"\nname = "Private"\n')
    settings = settings_for(feeds_file=write_feeds(tmp_path, demo_site, extra))
    result = ingest(settings=settings)
    assert result["counts"]["feeds_ok"] == 4 and result["counts"]["feeds_failed"] == 3
    errors = load.query(settings.db_path, "SELECT error_type, stage, http_status FROM fetch_errors ORDER BY 1")[1]
    assert errors == [("blocked_address", "feed", None), ("gone", "feed", 404), ("not_a_feed", "feed", 200)]
    health = dict(load.query(settings.db_path, "SELECT feed_id, consecutive_failures FROM feeds")[1])
    assert health["missing"] == 1 and health["demo-football"] == 0


def test_failed_pages_are_retried_next_run(site, settings_for, tmp_path):
    body = "".join(f"<p>Paragraph {i}: Chelsea beat Arsenal 2-1 at Stamford Bridge in the Premier League.</p>"
                   for i in range(8))
    feed = ("<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>"
            "<item><title>Flaky</title><link>{base_url}/flaky</link><guid>flaky</guid></item></channel></rss>")
    site.add("/feed.xml", Route(feed.encode(), content_type="application/rss+xml"))
    site.add("/flaky", Route(b"down", status=500))
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(f'[[feeds]]\nid = "x"\nurl = "{site.base_url}/feed.xml"\nname = "X"\n')
    settings = settings_for(feeds_file=str(feeds))
    first = ingest(settings=settings)
    assert first["counts"]["articles_failed"] == 1
    site.add("/flaky", Route(f"<html><body><article>{body}</article></body></html>".encode()))
    second = ingest(settings=settings)  # the feed answers 304, the pending entry is still fetched
    assert second["counts"]["feeds_not_modified"] == 1 and second["counts"]["articles_new"] == 1


def test_seed_article_survives_the_pipeline(site, settings_for, tmp_path):
    seed_path = SHARED / "seed" / "atalanta-liverpool.txt"
    if not seed_path.exists():
        pytest.skip("shared seed not available")
    text = seed_path.read_text(encoding="utf-8")
    paragraphs = [p.strip() for p in text.split("\n") if p.strip()][1:]  # first line is a file caption
    page = (
        "<html lang='en'><head><title>Gasperini: return leg the biggest in Atalanta's history</title></head><body>"
        "<header><nav><a href='/'>Home</a> <a href='/football'>Football</a> <a href='/tennis'>Tennis</a></nav></header>"
        "<div class='cookie'>We value your privacy. Accept cookies?</div><main><article>"
        "<h1>Gasperini: return leg the biggest in Atalanta's history</h1>"
        + "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
        + "</article><aside><h3>Most read</h3><ul><li><a href='/a'>Transfer rumours roundup</a></li>"
        "<li><a href='/b'>Ten things we learned this weekend</a></li></ul></aside>"
        "<section class='comments'><p>user123: What a result that was!</p></section></main>"
        "<footer>Copyright 2024 Example Sports. All rights reserved.</footer></body></html>"
    )
    site.add("/football/atalanta-liverpool", Route(page.encode()))
    feed = ("<?xml version='1.0'?><rss version='2.0'><channel><title>Seed</title>"
            "<item><title>Atalanta v Liverpool</title><link>{base_url}/football/atalanta-liverpool</link>"
            "<guid>seed</guid><pubDate>Wed, 17 Apr 2024 12:00:00 GMT</pubDate></item></channel></rss>")
    site.add("/seed.xml", Route(feed.encode(), content_type="application/rss+xml"))
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(f'[[feeds]]\nid = "seed"\nurl = "{site.base_url}/seed.xml"\nname = "Seed"\nsport = "football"\n')
    settings = settings_for(feeds_file=str(feeds))
    ingest(settings=settings)
    [(body, method)] = load.query(settings.db_path, "SELECT body, extraction_method FROM articles")[1]
    assert method == "trafilatura+pruned(headline=1)"  # the page's h1, not the body's first line
    norm = " ".join(body.split())
    for p in paragraphs:
        assert " ".join(p.split()) in norm, p[:60]
    for junk in ("Accept cookies", "Most read", "user123", "All rights reserved"):
        assert junk not in body
    ents = {r for r in load.query(settings.db_path, "SELECT DISTINCT surface, label FROM mentions")[1]}
    assert {("Atalanta", "TEAM"), ("Liverpool", "TEAM"), ("Anfield", "VENUE"), ("Gasperini", "COACH"),
            ("De Roon", "PLAYER"), ("Serie A", "COMPETITION")} <= ents
    assert ("Milan", "TEAM") not in ents and ("Bergamo", "TEAM") not in ents


def test_cli_run_prints_summary_and_leaves_an_artifact(demo_site, settings_for, tmp_path, monkeypatch):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from typer.testing import CliRunner

    from pressbox.cli import app

    monkeypatch.setenv("PRESSBOX_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    monkeypatch.setenv("PRESSBOX_PER_HOST_INTERVAL", "0")
    db = tmp_path / "cli.duckdb"
    result = CliRunner().invoke(app, ["run", "--feeds", write_feeds(tmp_path, demo_site), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "completed" in result.output and f"articles new {len(sample_site.MATCHES)}" in result.output
    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["pressbox-run"])))
    assert arts and any("| demo-football | ok |" in (a.data or "") for a in arts)


def test_worker_processes_give_the_same_warehouse(demo_site, settings_for, tmp_path):
    """The parallel pipeline (extract + tag in worker processes) loads exactly what one process does."""
    feeds = write_feeds(tmp_path, demo_site)
    one = settings_for(feeds_file=feeds, db_path=tmp_path / "one.duckdb", workers=1, batch_size=5)
    two = settings_for(feeds_file=feeds, db_path=tmp_path / "two.duckdb", workers=2, batch_size=5,
                       parallel_min_articles=1)
    assert ingest(settings=one)["counts"]["articles_new"] == ingest(settings=two)["counts"]["articles_new"]
    sql = "SELECT article_id, entity_id, label, start_char FROM mentions ORDER BY ALL"
    assert load.query(one.db_path, sql)[1] == load.query(two.db_path, sql)[1]


def test_last_batches_are_halved_so_workers_finish_together():
    from flows.ingest import _batches

    sizes = [len(b) for b in _batches(list(range(1000)), 50, 2)]
    assert sizes == [50] * 18 + [25] * 4 and sum(sizes) == 1000
    assert [len(b) for b in _batches(list(range(120)), 50, 1)] == [50, 50, 20]
    assert [len(b) for b in _batches(list(range(30)), 50, 2)] == [25, 5]


def test_the_flow_process_imports_no_nlp_when_workers_tag(settings_for):
    """Workers are handed `run_batch` by name: the orchestrating process stays free of spaCy and
    trafilatura (memory, start-up); a pool worker runs a batch end to end."""
    import subprocess
    import sys

    from tasks.pool import make_pool, run_batch

    code = ("import sys, flows.ingest, tasks.pool, tasks.load\n"
            "print(sorted(m for m in ('spacy', 'trafilatura', 'thinc') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent).stdout.strip()
    assert out == "[]"
    with make_pool(1, settings_for().spacy_model) as pool:
        assert pool.submit(run_batch, [], [], settings_for().spacy_model).result() == ([], [])
