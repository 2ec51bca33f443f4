"""The command line: every command documented, and extract/tag/sql behave as the eval scripts expect."""

import json
import re

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
