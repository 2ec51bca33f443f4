"""`pressbox kb build` on small fixtures in each source's format; the curated layer; kb lookup/stats; the matcher."""

import json
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Span
from typer.testing import CliRunner

from pressbox.cli import app
from pressbox.kbbuild import build_kb
from tasks.kb import coaching_spells, default_kb, load_kb, lookup, stats
from tasks.tag import AliasMatcher, kb_patterns

FIXTURES = Path(__file__).parent / "fixtures" / "kb-sources"
runner = CliRunner()


def _records(directory: Path) -> dict[str, dict]:
    out = {}
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            out[rec["id"]] = rec | {"_file": path.name}
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("kb") / "generated"
    build_kb(FIXTURES, out)
    return out


def test_build_is_deterministic_sorted_and_one_file_per_source(built, tmp_path):
    again = tmp_path / "again"
    build_kb(FIXTURES, again)
    names = sorted(p.name for p in built.glob("*.jsonl"))
    assert names == ["cbbpy.jsonl", "chadwick-register.jsonl", "fjelstul-worldcup.cc-by-sa.jsonl",
                     "international_results.jsonl", "nba_api.jsonl", "openfootball.jsonl"]
    for name in names:
        assert (built / name).read_bytes() == (again / name).read_bytes(), name
        ids = [json.loads(line)["id"] for line in (built / name).read_text().splitlines()]
        assert ids == sorted(ids) and len(ids) == len(set(ids)), name
    # the licences of the package-shipped data travel with the files
    assert (built / "LICENSE.nba_api.txt").is_file() and (built / "LICENSE.cbbpy.txt").is_file()


def test_every_source_is_read(built):
    recs = _records(built)
    for rec in recs.values():
        assert rec["source"] in rec["_file"].replace(".cc-by-sa", ""), rec
    mansfield = recs["team/mansfield-town-f-c"]
    assert mansfield["league"] == "English League One" and mansfield["tier"] == 3
    # titled as Wikipedia titles British clubs; the source's spelling stays a full name of the club
    assert mansfield["name"] == "Mansfield Town F.C."
    assert mansfield["aliases"] == ["Mansfield Town FC", "Mansfield Town"]
    assert mansfield["weak"] == ["Mansfield"]  # a town's name
    assert recs["venue/field-mill"]["teams"] == ["team/mansfield-town-f-c"]
    assert recs["team/brackley-town"]["tier"] == 5  # only in the fifth-tier fixtures file
    assert not any("wigan-borough" in i for i in recs)  # a club that stopped playing in 1931
    assert "Leytonstone Orient [de]" not in recs["team/leyton-orient-f-c"].get("aliases", [])
    assert recs["comp/efl-league-one"]["aliases"] == ["League One", "EFL 1"]  # no data keys ("eng.3")
    assert not any(r["name"] == "Division 1" for r in recs.values())  # renamed in 2004
    assert recs["team/benin-national-football-team"]["weak"] == ["Benin", "Dahomey"]  # former name
    assert "comp/friendly" not in recs
    assert "person/jude-bellingham" in recs and "person/william-kenyon-slaney" not in recs  # scored in 1872
    assert "person/jodel" not in recs  # a mononym would match the word everywhere
    southgate = recs["person/gareth-southgate"]
    assert southgate["spells"] == [["team/england-national-football-team", 2018, 2022]]
    assert "person/alan-a-court" not in recs and "person/harry-kane" in recs  # 1958 is long ago
    assert recs["person/harry-kane"]["teams"] == ["team/england-national-football-team"]  # his World Cup squads
    # a man who played at a World Cup and managed at one is one entity, a coach whom the context may call a player
    assert southgate["label"] == "COACH" and southgate["player_too"] and "teams" in southgate
    assert not any(i.startswith("person/gareth-southgate-") for i in recs)
    assert recs["venue/estadio-monumental-antonio-vespucio-liberti"]["aliases"] == ["Estadio Monumental"]
    assert recs["person/mike-trout"]["qid"] == "Q1190991" and "person/babe-ruth" not in recs
    assert recs["person/mike-trout"]["weak"] == ["Mike Trout"]  # a bulk list's name needs its sport's context
    assert recs["person/aaron-boone"]["label"] == "COACH" and recs["person/aaron-boone"]["player_too"]
    assert {"person/lebron-james", "person/aja-wilson"} <= set(recs) and "person/kareem-abdul-jabbar" not in recs
    assert recs["team/los-angeles-lakers"]["league"] == "NBA"
    ucla = recs["team/ucla-bruins"]
    assert ucla["aliases"] == ["UCLA"] and ucla["league"] == "Big Ten Conference"  # the newest season's
    # the programme's teams in each game, titled as Wikipedia titles them, found through the programme
    assert recs["team/ucla-bruins-mens-basketball"]["name"] == "UCLA Bruins men's basketball"
    assert recs["team/ucla-bruins-womens-basketball"]["league"] == "Big Ten Conference"
    assert "aliases" not in recs["team/ucla-bruins-womens-basketball"]
    assert recs["team/arizona-state-sun-devils"]["weak"] == ["Arizona State"]  # a state's name: context decides
    assert recs["team/iowa-hawkeyes"]["weak"] == ["Iowa"] and "aliases" not in recs["team/iowa-hawkeyes"]
    assert recs["team/uconn-huskies"]["aliases"] == ["UConn"]
    assert recs["comp/big-ten-conference"]["aliases"] == ["Big Ten"]
    # a player known by one name ("Marta") has it as a weak name (the article's sport decides); an
    # everyday name that other players carry as a given name or surname ("Ricardo") is left out
    assert "Marta" in recs["person/marta-footballer"]["weak"]
    assert "person/ricardo-carvalho" in recs and "person/ricardo-footballer-born-1976" not in recs
    for rec in recs.values():  # people are otherwise known by full names only
        if rec["label"] in ("PLAYER", "COACH"):
            mononym = rec["name"].split(" (")[0]
            assert all(len(a.split()) >= 2 for a in [rec["name"], *rec.get("aliases", [])] if a != mononym)
            assert all(len(a.split()) >= 2 or a == mononym for a in rec.get("weak", []))


def _layered(tmp_path: Path, built: Path, curated: list[dict]) -> Path:
    kb_dir = tmp_path / "kb"
    (kb_dir / "generated").mkdir(parents=True)
    for path in built.glob("*.jsonl"):
        (kb_dir / "generated" / path.name).write_bytes(path.read_bytes())
    (kb_dir / "teams.jsonl").write_text("".join(json.dumps(r) + "\n" for r in curated), encoding="utf-8")
    return kb_dir


def test_curated_layer_wins_and_generated_twins_merge(built, tmp_path):
    curated = [
        {"id": "team/arsenal-f-c", "label": "TEAM", "name": "Arsenal F.C.", "sport": "football", "country": "England",
         "aliases": ["Arsenal", "Gunners"]},
        {"id": "person/gareth-southgate", "label": "COACH", "name": "Gareth Southgate", "sport": "football",
         "teams": ["team/england-national-football-team"], "years": "2016-2024"},
        {"id": "venue/field-mill", "label": "VENUE", "name": "Field Mill", "sport": "football", "country": "Wales"},
    ]
    kb = load_kb(_layered(tmp_path, built, curated))
    arsenal = kb.entities["team/arsenal-f-c"]
    assert arsenal.name == "Arsenal F.C." and arsenal.source == "curated+openfootball"
    assert "Woolwich Arsenal" in arsenal.weak and "team/arsenal-fc" not in kb.entities  # merged, no duplicate
    assert [e.id for e in kb.candidates("Arsenal FC")] == ["team/arsenal-f-c"]
    assert kb.entities["venue/emirates-stadium"].teams == ("team/arsenal-f-c",)  # the reference follows the merge
    southgate = kb.entities["person/gareth-southgate"]
    assert southgate.years == "2016-2024" and southgate.spells == (("team/england-national-football-team", 2018, 2022),)
    assert southgate.player_too and not any(e.id.startswith("person/gareth-southgate-") for e in kb.entities.values())
    # a curated entity of the same name elsewhere is another entity: the generated one is qualified, never a twin
    mill = [e for e in kb.entities.values() if e.label == "VENUE" and "Field Mill" in (e.name, *e.weak)]
    assert sorted(e.name for e in mill) == ["Field Mill", "Field Mill (England)"]
    assert {e.id for e in kb.candidates("Field Mill") if "Field Mill" in e.aliases} == {"venue/field-mill"}


def test_coaching_spells_from_curated_and_generated(built, tmp_path):
    curated = [{"id": "person/aaron-glenn", "label": "COACH", "name": "Aaron Glenn", "sport": "american football",
                "teams": ["team/new-york-jets"], "years": "2025-"},
               {"id": "team/new-york-jets", "label": "TEAM", "name": "New York Jets", "sport": "american football"}]
    kb = load_kb(_layered(tmp_path, built, curated))
    rows = {(r[0], r[1]): r for r in coaching_spells(kb)}
    assert rows[("person/aaron-glenn", "team/new-york-jets")][2:4] == (2025, None)
    assert rows[("person/gareth-southgate", "team/england-national-football-team")][2:6] == (
        2018, 2022, "Gareth Southgate", "England national football team")


def test_a_person_is_one_entity_as_player_and_coach():
    """A curated coach whom a source lists as a World Cup player is one entity (the context decides the label)."""
    kb = default_kb()
    lampard = kb.entities["person/frank-lampard"]
    assert lampard.label == "COACH" and lampard.player_too and "fjelstul-worldcup" in lampard.source
    people = [e for e in kb.entities.values() if e.label in ("PLAYER", "COACH")]
    assert [e.id for e in people if e.id.endswith("-fjelstul-worldcup")] == []


def test_lookup_says_why_and_stats_count():
    kb = default_kb()
    rows = lookup(kb, "Iowa")
    assert any(r["label"] == "TEAM" and r["alias"] == "weak" and r["source"] == "cbbpy" for r in rows)
    assert lookup(kb, "Liverpool F.C.")[0]["alias"] == "name"
    counts = stats(kb)
    assert counts["label"]["TEAM"] > 3000 and counts["source"]["curated"] > 500
    assert {"openfootball", "international_results", "fjelstul-worldcup", "chadwick-register", "nba_api",
            "cbbpy"} <= {s for src in counts["source"] for s in src.split("+")}


def test_kb_cli(tmp_path):
    out = tmp_path / "gen"
    res = runner.invoke(app, ["kb", "build", "--sources", str(FIXTURES), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "openfootball.jsonl").is_file() and "openfootball.jsonl" in res.output
    res = runner.invoke(app, ["kb", "build", "--sources", str(tmp_path / "missing")])
    assert res.exit_code == 2 and "no sources directory" in res.output
    res = runner.invoke(app, ["kb", "lookup", "UCLA"])
    assert res.exit_code == 0 and "team/ucla-bruins" in res.output and "cbbpy" in res.output
    res = runner.invoke(app, ["kb", "lookup", "Zzyzx Qwerty"])
    assert res.exit_code == 0 and "not in the knowledge base" in res.output
    res = runner.invoke(app, ["kb", "stats"])
    assert res.exit_code == 0 and "COMPETITION" in res.output and "chadwick-register" in res.output


def test_alias_matcher_finds_the_longest_name_and_overwrites_the_model():
    nlp = spacy.blank("en")
    matcher = AliasMatcher()
    matcher.add_patterns([{"label": "TEAM", "pattern": "Leyton Orient", "id": "leyton orient"},
                          {"label": "PLACE", "pattern": "Leyton", "id": "leyton"},
                          {"label": "VENUE", "pattern": "St. James' Park", "id": "st james' park"},
                          {"label": "TEAM", "pattern": "Mansfield", "id": "mansfield"}])
    doc = nlp("Mansfield 0-1 Leyton Orient at St. James' Park, not in Leyton.")
    doc.ents = [Span(doc, 0, 1, label="ORG")]  # the statistical model's guess
    doc = matcher(doc)
    assert [(e.text, e.label_, e.kb_id_) for e in doc.ents] == [
        ("Mansfield", "TEAM", "mansfield"), ("Leyton Orient", "TEAM", "leyton orient"),
        ("St. James' Park", "VENUE", "st james' park"), ("Leyton", "PLACE", "leyton")]


def test_shipped_patterns_cover_generated_names():
    """The tagger's matcher is fed from the whole layered knowledge base (generated names included)."""
    patterns = {p["pattern"] for p in kb_patterns(default_kb())}
    assert {"Leyton Orient", "Mansfield Town", "UCLA", "Mike Trout", "Big Ten"} <= patterns


def test_the_tagger_knows_generated_names():
    """Lower-league clubs, college programmes and recent players come from the generated layer."""
    from pressbox.settings import get_settings
    from tasks.tag import get_tagger

    tagger = get_tagger(get_settings().spacy_model)
    tags = tagger.tag("Mansfield Town 0-1 Leyton Orient. UCLA beat Gonzaga Bulldogs.")
    found = {(t.text, t.label, t.entity_id) for t in tags}
    assert ("Leyton Orient", "TEAM", "team/leyton-orient-f-c") in found
    assert ("Mansfield Town", "TEAM", "team/mansfield-town-f-c") in found
    assert ("UCLA", "TEAM", "team/ucla-bruins") in found
    mention = {m.entity_id: m for m in tagger.mentions(tags)}["team/leyton-orient-f-c"]
    assert (mention.source, mention.sport, mention.league, mention.country) == (
        "openfootball", "football", "English League One", "England")
    # a person from a bulk list counts where the article is about their sport, and only there
    tags = tagger.tag("Mike Trout homered twice as the Los Angeles Angels beat the New York Yankees 5-3.")
    assert any(t.text == "Mike Trout" and t.label == "PLAYER" and t.entity_id == "person/mike-trout" for t in tags)
    tags = tagger.tag("House Speaker Kevin McCarthy met Democrats in Washington to discuss the budget.")
    assert not any(t.entity_id == "person/kevin-mccarthy" and t.label == "PLAYER" for t in tags)
