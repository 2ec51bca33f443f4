"""The operator's warehouse details: staged batches as JSON, feed_health's denominators, and docs
that match the code (statuses, stages, exit codes, example SQL)."""

import json
import re
import shutil
from datetime import UTC, datetime, timedelta

from test_load import FEED, entry, tagged

from pressbox.settings import ROOT
from schemas.records import FeedConfig, FeedResult, FetchError
from tasks import load

README = (ROOT / "README.md").read_text(encoding="utf-8")
DICTIONARY = (ROOT / "warehouse" / "README.md").read_text(encoding="utf-8")


def test_staged_batches_are_json_and_load_back(tmp_path):
    db = tmp_path / "wh.duckdb"
    load.prepare(db, [FEED])
    load.record_feeds(db, "r1", [FeedResult("f1", FEED.url, "ok", 200, entries=(entry(0), entry(1)))])
    err = FetchError(entry(1).url, "page", "gone", "404", 404, datetime(2026, 1, 2, tzinfo=UTC))
    path = load.stage_batch(db, "r1", 0, [tagged(0)], [(entry(1), err)])
    assert path.suffix == ".json"
    doc = json.loads(path.read_text())  # plain data: reading it runs no code
    assert doc["tagged"][0]["mentions"][0]["aliases"] == ["Arsenal", "Gunners"]
    counts = load.load_staged(db, max_attempts=3)
    assert (counts.new, counts.failed, counts.mentions) == (1, 1, 2) and not path.exists()
    assert load.query(db, "SELECT aliases FROM entities WHERE entity_id = 'team/arsenal-f-c'")[1] == [
        (["Arsenal", "Gunners"],)]


def test_feed_health_divides_by_the_runs_that_fetched_the_feed(tmp_path):
    db = tmp_path / "wh.duckdb"
    old = FeedConfig("old", "https://old.example/rss", "Old")
    new = FeedConfig("new", "https://new.example/rss", "New")
    load.prepare(db, [old])
    for run in ("r1", "r2", "r3"):
        load.record_feeds(db, run, [FeedResult("old", old.url, "ok", 200)])
    load.prepare(db, [old, new])  # added today, after three runs
    bad = FetchError(new.url, "feed", "http_503", "503", 503)
    load.record_feeds(db, "r4", [FeedResult("old", old.url, "ok", 200), FeedResult("new", new.url, "error", 503,
                                                                                   error=bad)])
    with load.transaction(db) as con:  # the old feed has been known for ten days
        con.execute("UPDATE feed_fetches SET \"at\" = \"at\" - INTERVAL 10 DAY WHERE run_id = 'r1'")
        for run in ("r1", "r2", "r3", "r4"):
            con.execute("INSERT INTO runs (run_id, started_at, status) VALUES (?, now(), 'completed')", [run])
        con.execute("""INSERT INTO articles (article_id, url, canonical_url, feed_id, body, published_at,
                              fetched_at, content_hash, extraction_method, word_count, first_loaded_at, updated_at)
                       SELECT 'a' || i, 'u' || i, 'u' || i, CASE WHEN i < 4 THEN 'new' ELSE 'old' END, 'b',
                              now() - INTERVAL 1 HOUR, now(), 'h', 'm', 1, now(), now() FROM range(14) t(i)""")
    load.refresh_views(db)
    cols, rows = load.query(db, "SELECT feed_id, runs_30d, errors_30d, error_rate_30d, articles_per_day_30d "
                                "FROM feed_health ORDER BY feed_id")
    health = {r[0]: dict(zip(cols, r, strict=True)) for r in rows}
    assert health["new"]["runs_30d"] == 1 and health["new"]["error_rate_30d"] == 1.0  # 1 of its 1 run, not 1/4
    assert health["old"]["runs_30d"] == 4 and health["old"]["error_rate_30d"] == 0.0
    assert health["new"]["articles_per_day_30d"] == 4.0  # added today: 4 articles in (at least) one day, not 4/30
    assert health["old"]["articles_per_day_30d"] == 1.0  # 10 articles over the 10 days it has been known


def _dictionary_row(table: str, column: str) -> str:
    section = re.split(r"^### ", DICTIONARY, flags=re.M)
    body = next(s for s in section if s.startswith(table + " "))
    return next(line for line in body.splitlines() if line.startswith(f"| {column} |"))


def test_dictionary_lists_every_status_and_stage():
    statuses = _dictionary_row("runs", "status")
    for value in ("running", "completed", "partial", "failed", "crashed"):
        assert f"`{value}`" in statuses, value
    records = (ROOT / "schemas" / "records.py").read_text()
    stages = re.search(r"stage: str  # (.+)", records).group(1).split(" | ")
    row = _dictionary_row("fetch_errors", "stage")
    assert all(f"`{s.strip()}`" in row for s in stages), (stages, row)


def test_readme_has_the_exit_codes_and_suggests_only_installed_tools():
    table = README.split("### Exit codes", 1)[1].split("\n\n", 2)[1]
    for code in ("0", "1", "2", "3", "4"):
        assert f"| {code} |" in table, code
    for doc in (README, DICTIONARY):
        if not shutil.which("duckdb"):
            assert "duckdb -readonly" not in doc and "duckdb -ui" not in doc
    assert "caches" in DICTIONARY and "pressbox sql --file" in README


def test_readme_last_7_days_agrees_with_the_example_query(tmp_path):
    """An article without a publication date counts by its fetch time in both."""
    db = tmp_path / "wh.duckdb"
    load.prepare(db, [FEED])
    undated = tagged(0)
    undated = type(undated)(type(undated.article)(**{**undated.article.__dict__, "published_at": None,
                                                     "fetched_at": datetime.now(UTC) - timedelta(days=1)}),
                            undated.mentions, undated.tagger_version)
    load.load_batch(db, "r", [undated], [], 3)
    readme_sql = re.search(r"(-- Who was mentioned most in the last 7 days\?.*?;)", README, re.S).group(1)
    shipped = (ROOT / "warehouse" / "queries" / "most_mentioned_this_week.sql").read_text()
    from_readme = {r[0] for r in load.query(db, readme_sql)[1]}
    from_query = {r[0] for r in load.query(db, shipped)[1]}
    assert from_readme == from_query == {"Arsenal F.C.", "Chelsea F.C."}


def test_staged_json_keeps_every_per_article_output():
    """A staged batch round-trips quotes and match facts (dates included), not only mentions."""
    from datetime import date

    from schemas.codec import from_jsonable, to_jsonable
    from schemas.records import MatchFact, MatchScorer, Quote, TaggedArticle

    scorer = MatchScorer("Saka", "Arsenal", "team/arsenal-f-c", 51, "goal")
    fact = MatchFact("Arsenal", "Chelsea", "team/arsenal-f-c", "team/chelsea-f-c", 2, 1, True,
                     match_date=date(2026, 11, 21), date_certain=True, scorers=(scorer,))
    quote = Quote(1, "We were brilliant", 30, 47, speaker_name="Mikel Arteta", role="manager", cue="said")
    original = tagged(0)
    original = TaggedArticle(original.article, original.mentions, original.tagger_version, quotes=(quote,),
                             is_match_report=True, matches=(fact,))
    back = from_jsonable(TaggedArticle, json.loads(json.dumps(to_jsonable(original))))
    assert back == original
    assert back.matches[0].match_date == date(2026, 11, 21) and back.matches[0].scorers[0].minute == 51
