"""The analyst's warehouse on a real demo run: views, example queries, dictionary, search, export,
and reading while a run writes."""

import re
import subprocess
import sys
import textwrap
import time

import duckdb
import pytest
from typer.testing import CliRunner

from flows.ingest import ingest
from pressbox import sample_site
from pressbox.cli import app
from pressbox.localsite import LocalSite
from pressbox.settings import ROOT, get_settings
from tasks import load
from tasks import search as search_index

pytestmark = pytest.mark.usefixtures("prefect_harness")
VIEWS = ["article_entities", "co_mentions", "entity_daily", "feed_health", "team_coverage", "story_coverage",
         "feed_duplicates"]


@pytest.fixture(scope="module")
def built(tmp_path_factory, prefect_harness):
    """A warehouse built by a real flow run over the demo site."""
    tmp = tmp_path_factory.mktemp("wh")
    with LocalSite(sample_site.routes()) as site:
        feeds = tmp / "feeds.toml"
        feeds.write_text(sample_site.feeds_toml(site.base_url))
        settings = get_settings(db_path=tmp / "demo.duckdb", feeds_file=feeds, allow_private_hosts="127.0.0.1",
                                per_host_interval=0.0)
        summary = ingest(settings=settings)
    assert summary["status"] == "completed" and not summary["notes"]
    return settings.db_path


def test_every_view_answers(built):
    for view in VIEWS:
        cols, rows = load.query(built, f"SELECT * FROM {view}")
        assert rows, view
    cols, rows = load.query(built, "SELECT * FROM team_coverage WHERE canonical_name = 'Liverpool F.C.'")
    row = dict(zip(cols, rows[0], strict=True))
    assert row["articles"] == 2 and "Arne Slot" in row["co_mentioned_coaches"]
    # who coaches whom comes from the knowledge base, not from being named in the same article
    assert row["coaches"][0] == "Arne Slot" and "David Moyes" not in row["coaches"]
    assert set(row["top_teams"]) >= {"Everton F.C.", "Paris Saint-Germain F.C."}
    assert "Premier League" in row["top_competitions"]
    daily = load.query(built, "SELECT sum(articles) FROM entity_daily WHERE canonical_name = 'Atalanta BC'")[1]
    assert daily == [(2,)]
    pairs = load.query(built, "SELECT articles FROM co_mentions WHERE name_a = 'Arne Slot' OR name_b = 'Arne Slot'")
    assert pairs[1]
    health = load.query(built, "SELECT feed_id, last_status, articles, errors_30d FROM feed_health ORDER BY 1")[1]
    assert [h[1] for h in health] == ["ok"] * 4 and sum(h[2] for h in health) == len(sample_site.MATCHES)


@pytest.mark.parametrize("path", sorted((ROOT / "warehouse" / "queries").glob("*.sql")), ids=lambda p: p.stem)
def test_example_queries_run(built, path):
    con = duckdb.connect(str(built), read_only=True)
    try:
        rows = con.execute(path.read_text()).fetchall()
    finally:
        con.close()
    assert rows, path.name


def test_views_have_header_comments():
    for path in (ROOT / "warehouse" / "views").glob("*.sql"):
        text = path.read_text()
        assert text.startswith(f"-- {path.stem}:"), path.name
        assert "Grain:" in text and "Columns:" in text, path.name
        assert text.count("CREATE OR REPLACE VIEW") == 1


def test_data_dictionary_covers_every_column(built):
    """Every column of every table and view is documented in warehouse/README.md."""
    doc = (ROOT / "warehouse" / "README.md").read_text()
    documented: dict[str, set[str]] = {}
    for section in re.split(r"^### ", doc, flags=re.M)[1:]:
        name = section.split()[0]
        documented[name] = {m.group(1) for m in re.finditer(r"^\| ([a-z_0-9]+) \|", section, flags=re.M)}
    cols = load.query(built, """SELECT table_name, column_name FROM information_schema.columns
                                WHERE table_schema = 'main'""")[1]
    missing = [f"{t}.{c}" for t, c in cols if c not in documented.get(t, set())]
    assert not missing, f"undocumented columns: {missing}"


def test_search_ranks_articles(built):
    rows = load.search(built, "Atalanta Juventus")
    assert rows and "Atalanta" in rows[0][2] and rows[0][0] >= rows[-1][0]
    out = CliRunner().invoke(app, ["search", "Six Nations", "--db", str(built)])
    assert out.exit_code == 0 and "Six Nations" in out.output


def test_search_unavailable_does_not_fail_the_run(monkeypatch, tmp_path, prefect_harness):
    def no_tantivy():
        raise ImportError("tantivy is not installed")

    monkeypatch.setattr(search_index, "_tantivy", no_tantivy)
    with LocalSite(sample_site.routes()) as site:
        feeds = tmp_path / "feeds.toml"
        feeds.write_text(sample_site.feeds_toml(site.base_url).split("\n\n")[0])
        s = get_settings(db_path=tmp_path / "x.duckdb", feeds_file=feeds, allow_private_hosts="127.0.0.1",
                         per_host_interval=0.0)
        summary = ingest(settings=s)
    assert summary["status"] == "completed"
    assert any("full-text search unavailable" in n for n in summary["notes"])


def test_export_parquet(built, tmp_path):
    out = CliRunner().invoke(app, ["export", "--format", "parquet", str(tmp_path / "x"), "--db", str(built)])
    assert out.exit_code == 0, out.output
    con = duckdb.connect()
    for table in load.EXPORT_TABLES:
        n = con.execute(f"SELECT count(*) FROM read_parquet('{tmp_path / 'x' / table}.parquet')").fetchone()[0]
        assert n == load.query(built, f"SELECT count(*) FROM {table}")[1][0][0], table


def test_analyst_holding_the_snapshot_never_blocks_a_run(tmp_path, prefect_harness):
    """A second process keeps the analyst snapshot open during a run; the run completes and
    publishes a new snapshot; the analyst's open session keeps working."""
    routes = sample_site.routes()
    football = {p: r for p, r in routes.items() if p.startswith("/football/") or p == "/feeds/football.xml"}
    with LocalSite(football) as site:
        feeds = tmp_path / "feeds.toml"
        feeds.write_text(sample_site.feeds_toml(site.base_url).split("\n\n")[0])
        s = get_settings(db_path=tmp_path / "wh.duckdb", feeds_file=feeds, allow_private_hosts="127.0.0.1",
                         per_host_interval=0.0)
        ingest(settings=s)
        snap = load.snapshot_path(s.db_path)
        first = load.query(snap, "SELECT count(*) FROM articles")[1][0][0]
        script = textwrap.dedent(f"""
            import duckdb, sys, time
            con = duckdb.connect({str(snap)!r}, read_only=True)
            print(con.execute("SELECT count(*) FROM articles").fetchone()[0], flush=True)
            sys.stdin.readline()
            print(con.execute("SELECT count(*) FROM articles").fetchone()[0], flush=True)
        """)
        reader = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)
        try:
            assert int(reader.stdout.readline()) == first
            # the publisher adds a story; the run loads it while the analyst session is open
            # (a rugby page: its rel=canonical is its own, so it is a new article)
            site.add("/rugby/england-wales", routes["/rugby/england-wales"])
            late = b"<item><title>Late</title><link>" + site.base_url.encode() + b"/rugby/england-wales</link>"
            feed = routes["/feeds/football.xml"].body.replace(b"<item>", late + b"<guid>late</guid></item><item>", 1)
            site.add("/feeds/football.xml", sample_site.Route(feed, content_type="application/rss+xml"))
            start = time.monotonic()
            summary = ingest(settings=s)
            assert summary["status"] == "completed" and summary["counts"]["articles_new"] == 1
            assert time.monotonic() - start < 60
            reader.stdin.write("\n")
            reader.stdin.flush()
            assert int(reader.stdout.readline()) == first  # the open session still reads its copy
        finally:
            reader.kill()
            reader.wait()
        assert load.query(snap, "SELECT count(*) FROM articles")[1][0][0] == first + 1  # new sessions: new data
