"""The command line: every command documented, and extract/tag/sql behave as the eval scripts expect."""

import csv
import io
import json
import re

import pytest
from typer.testing import CliRunner

from pressbox.cli import app
from pressbox.settings import ROOT
from tasks import load

runner = CliRunner()


def commands() -> list[str]:
    return [c.name or c.callback.__name__ for c in app.registered_commands]


def test_every_command_has_help_with_example_and_is_in_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert set(commands()) >= {"run", "demo", "extract", "tag", "sql"}
    for name in commands():
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Example: pressbox " + name in " ".join(result.output.split()), name
        assert re.search(rf"pressbox {name}\b", readme), f"README does not mention `pressbox {name}`"


def test_extract_prints_json_lines(tmp_path):
    page = tmp_path / "story-1.html"
    page.write_text("<html lang='en'><head><title>T</title></head><body><article>"
                    + "<p>Celtic beat Rangers at Celtic Park in a tense derby on Sunday afternoon.</p>" * 5
                    + "</article></body></html>")
    result = runner.invoke(app, ["extract", str(page), "--url", "https://example.com/story-1"])
    assert result.exit_code == 0
    [line] = result.output.strip().splitlines()
    doc = json.loads(line)
    assert doc["id"] == "story-1" and "Celtic beat Rangers" in doc["body"]
    assert set(doc) == {"id", "title", "body", "published_at", "date_source", "author", "language",
                        "extraction_method", "paywalled", "is_liveblog", "word_count"}


def test_tag_reads_and_writes_jsonl(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "Liverpool beat Everton 2-0 at Anfield."}) + "\n"
                   + json.dumps({"id": "b", "text": ""}) + "\n")
    result = runner.invoke(app, ["tag", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 0, result.output
    docs = [json.loads(line) for line in out.read_text().splitlines()]
    assert [d["id"] for d in docs] == ["a", "b"] and docs[1]["entities"] == []
    ents = {(e["text"], e["label"], e["canonical"]) for e in docs[0]["entities"]}
    assert ("Anfield", "VENUE", "Anfield") in ents and ("Liverpool", "TEAM", "Liverpool F.C.") in ents
    assert all({"text", "label", "start", "end", "canonical"} <= set(e) for e in docs[0]["entities"])


def test_sql_is_read_only_and_prints(tmp_path):
    db = tmp_path / "wh.duckdb"
    load.prepare(db, [])
    ok = runner.invoke(app, ["sql", "SELECT 41 + 1 AS answer", "--db", str(db)])
    assert ok.exit_code == 0 and "42" in ok.output
    bad = runner.invoke(app, ["sql", "CREATE TABLE x (i INT)", "--db", str(db)])
    assert bad.exit_code == 1 and "read-only" in bad.output.lower()
    missing = runner.invoke(app, ["sql", "SELECT 1", "--db", str(tmp_path / "nope.duckdb")])
    assert missing.exit_code == 2


# -- the analyst's CLI -------------------------------------------------------------------------------
def _warehouse(tmp_path, search_index: bool = False):
    """A small warehouse with two articles (one with a long body), built without Prefect."""
    from test_load import FEED, entry, tagged

    db = tmp_path / "wh.duckdb"
    load.prepare(db, [FEED])
    load.record_feeds(db, "run1", [load_result(FEED, [entry(0), entry(1)])])
    body = ("Arsenal beat Chelsea. " + "A long match report about the derby and its aftermath. " * 20
            + "Late on, Bukayo Saka scored the winner at the Emirates Stadium. " + "More filler text. " * 20)
    load.load_batch(db, "run1", [tagged(0, body=body), tagged(1)], [], 3)
    if search_index:
        assert load.build_search_index(db) is None
    return db


def load_result(feed, entries):
    from schemas.records import FeedResult

    return FeedResult(feed.feed_id, feed.url, "ok", 200, entries=tuple(entries))


def test_sql_reads_files_and_stdin_and_prints_csv_and_json(tmp_path):
    db = _warehouse(tmp_path)
    query = tmp_path / "q.sql"
    query.write_text("-- a comment first, as every shipped example query has\n"
                     "SELECT article_id, body, word_count FROM articles ORDER BY word_count DESC;\n")
    as_csv = runner.invoke(app, ["sql", "--file", str(query), "--format", "csv", "--db", str(db)])
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert rows[0] == ["article_id", "body", "word_count"] and len(rows) == 3
    assert "Bukayo Saka scored the winner" in rows[1][1]  # unclipped
    as_json = runner.invoke(app, ["sql", "-", "--format", "json", "--db", str(db)], input=query.read_text())
    assert as_json.exit_code == 0, as_json.output
    docs = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [d["word_count"] for d in docs] == [int(r[2]) for r in rows[1:]] and "Saka" in docs[0]["body"]
    lists = runner.invoke(app, ["sql", "SELECT aliases FROM entities WHERE aliases <> []", "--format", "csv",
                                "--db", str(db)])
    assert json.loads(list(csv.reader(io.StringIO(lists.stdout)))[1][0]) == ["Arsenal", "Gunners"]
    shipped = ROOT / "warehouse" / "queries" / "most_mentioned_this_week.sql"
    ok = runner.invoke(app, ["sql", "--file", str(shipped), "--db", str(db)])
    assert ok.exit_code == 0, ok.output
    neither = runner.invoke(app, ["sql", "--db", str(db)])
    assert neither.exit_code == 2


def test_sql_cannot_touch_files_or_the_network_unless_allowed(tmp_path):
    db = _warehouse(tmp_path)
    before = db.read_bytes()
    secret = tmp_path / "secret.csv"
    secret.write_text("a\nTOP-SECRET\n")
    for attack in (f"COPY (SELECT 1) TO '{db}'", f"SELECT * FROM read_csv('{secret}')",
                   f"ATTACH '{tmp_path / 'other.duckdb'}'", "INSTALL httpfs",
                   "SET enable_external_access = true"):
        out = runner.invoke(app, ["sql", attack, "--db", str(db), "--live"])
        assert out.exit_code == 1 and "TOP-SECRET" not in out.output, (attack, out.output)
    assert db.read_bytes() == before and not (tmp_path / "other.duckdb").exists()
    allowed = runner.invoke(app, ["sql", f"SELECT * FROM read_csv('{secret}')", "--allow-files", "--db", str(db)])
    assert allowed.exit_code == 0 and "TOP-SECRET" in allowed.output


def test_search_prints_a_snippet_per_hit_and_says_when_nothing_matched(tmp_path):
    db = _warehouse(tmp_path, search_index=True)
    hit = runner.invoke(app, ["search", "Saka winner", "--db", str(db)])
    assert hit.exit_code == 0, hit.output
    assert "snippet" in hit.output and "Bukayo Saka scored the winner" in " ".join(hit.output.split())
    miss = runner.invoke(app, ["search", "Zzyzx", "--db", str(db)])
    assert miss.exit_code == 0 and "no article matches 'Zzyzx'" in miss.output


def test_search_connections_cannot_touch_files_or_the_network(tmp_path, monkeypatch):
    """`search` answers from its index alone (issue 19): it opens no DuckDB connection, so the
    analyst's words never reach SQL; any connection it opened would have to be sandboxed first."""
    import duckdb

    db = _warehouse(tmp_path, search_index=True)
    secret = tmp_path / "secret.csv"
    secret.write_text("a\nTOP-SECRET\n")
    opened, locked = [], []
    real_connect, real_sandbox = load.connect, load.sandbox

    def connect(*args, **kwargs):
        opened.append(real_connect(*args, **kwargs))
        return opened[-1]

    def sandbox(con):
        real_sandbox(con)
        locked.append(con)
        for attack in (f"SELECT * FROM read_csv('{secret}')", f"COPY (SELECT 1) TO '{db}'", "INSTALL httpfs",
                       "SET enable_external_access = true"):
            with pytest.raises(duckdb.Error):
                con.execute(attack)

    monkeypatch.setattr(load, "connect", connect)
    monkeypatch.setattr(load, "sandbox", sandbox)
    before = db.read_bytes()
    hit = runner.invoke(app, ["search", "Saka winner", "--db", str(db), "--live"])
    assert hit.exit_code == 0 and "Bukayo Saka" in " ".join(hit.output.split()), hit.output
    assert opened == [] and locked == [] and db.read_bytes() == before
    for attack in (f"read_csv('{secret}')", f"COPY (SELECT 1) TO '{db}'", "INSTALL httpfs"):
        out = runner.invoke(app, ["search", attack, "--db", str(db), "--live"])
        assert out.exit_code == 0 and "TOP-SECRET" not in out.output, out.output
    assert opened == [] and db.read_bytes() == before


def test_snippet_centres_on_the_query_words():
    from pressbox.cli import snippet

    body = "word " * 200 + "Atalanta won in Bergamo. " + "word " * 200
    s = snippet("T", body, ["atalanta"])
    assert "Atalanta won in Bergamo" in s and s.startswith("…") and s.endswith("…") and len(s) < 200
    assert snippet("Title", "", ["x"]) == "Title"


def test_export_writes_only_its_own_files(tmp_path):
    db = _warehouse(tmp_path)
    out_dir = tmp_path / "out"
    first = runner.invoke(app, ["export", "--format", "csv", str(out_dir), "--db", str(db)])
    assert first.exit_code == 0, first.output
    with (out_dir / "entities.csv").open() as fh:
        aliases = {r["entity_id"]: r["aliases"] for r in csv.DictReader(fh)}
    assert json.loads(aliases["team/arsenal-f-c"]) == ["Arsenal", "Gunners"]  # a list, not "['Arsenal', ...]"
    again = runner.invoke(app, ["export", "--format", "csv", str(out_dir), "--db", str(db)])
    assert again.exit_code == 2 and "--force" in again.output
    forced = runner.invoke(app, ["export", "--format", "csv", str(out_dir), "--db", str(db), "--force"])
    assert forced.exit_code == 0, forced.output
    # a warehouse whose file name is an export target is never overwritten, even with --force
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / "runs.csv").write_bytes(db.read_bytes())
    before = (odd / "runs.csv").read_bytes()
    clash = runner.invoke(app, ["export", "--format", "csv", str(odd), "--db", str(odd / "runs.csv"), "--live",
                                "--force"])
    assert clash.exit_code == 2 and "over the warehouse" in clash.output
    assert (odd / "runs.csv").read_bytes() == before


def test_reading_commands_find_the_demo_warehouse(tmp_path, monkeypatch):
    from pressbox import cli
    from pressbox.settings import get_settings

    if get_settings().db_path.exists():
        pytest.skip("this checkout has a warehouse of its own")
    demo = _warehouse(tmp_path)
    monkeypatch.setattr(cli, "DEMO_DB", demo)
    monkeypatch.chdir(tmp_path)  # no pressbox.toml
    out = runner.invoke(app, ["sql", "SELECT count(*) AS n FROM articles", "--format", "csv"])
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines() == ["n", "2"] and "demo" in out.stderr
    assert "warehouse/demo.duckdb" in " ".join(runner.invoke(app, ["demo", "--help"]).output.split())


def test_a_persons_mistakes_are_one_line_and_exit_2(tmp_path, monkeypatch):
    monkeypatch.setenv("PRESSBOX_WORKERS", "1")
    missing = runner.invoke(app, ["extract", str(tmp_path / "nope.html")])
    assert missing.exit_code == 2 and missing.output.strip().count("\n") == 0 and "nope.html" in missing.output
    feeds = runner.invoke(app, ["run", "--feeds", str(tmp_path / "feeds-typo.toml"), "--db", str(tmp_path / "w")])
    assert feeds.exit_code == 2 and feeds.output.strip().count("\n") == 0 and "feeds-typo.toml" in feeds.output
    good = tmp_path / "feeds.toml"
    good.write_text('[[feeds]]\nid = "a"\nurl = "http://127.0.0.1:9/a.xml"\nname = "A"\n')
    from pressbox.prefect_server import free_port

    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")
    api = runner.invoke(app, ["run", "--feeds", str(good), "--db", str(tmp_path / "w.duckdb")])
    assert api.exit_code == 2 and api.output.strip().count("\n") == 0 and "PREFECT_API_URL" in api.output
    monkeypatch.delenv("PREFECT_API_URL")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pressbox.toml").write_text("concurency = 3\n")
    typo = runner.invoke(app, ["run", "--feeds", str(good)])
    assert typo.exit_code == 2 and "concurency" in typo.output and typo.output.strip().count("\n") == 0
