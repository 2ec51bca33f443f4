"""tasks/matches.py: one test per shape of match writing, the warehouse tables, and the CLI."""

from datetime import date, datetime

import pytest
from conftest import Route

from schemas.records import MatchFact
from tasks.kb import default_kb
from tasks.matches import as_json, majority, match_id, read_matches, same_match

MONDAY = date(2025, 3, 10)


def read(text: str, title: str | None = None, published: date | None = MONDAY):
    """Match facts of a text with no tagger mentions: the stage reads team names itself."""
    return read_matches(title, text, (), default_kb(), published)


def one(facts: tuple[MatchFact, ...]) -> MatchFact:
    assert len(facts) == 1, facts
    return facts[0]


def test_headline_names_the_home_side_first_and_footers_give_scorers():
    body = ("Celtic came from behind to win at Ibrox with two goals after the break. "
            "Butland, Tavernier, Souttar, Propper (Hagi 70), Jefte, Raskin, Diomande, Cerny, Igamane, Dessers, Barron. "
            "Dessers 23 pen. "
            "McGregor, Ralston, Carter-Vickers (Welsh 70), Scales, Taylor, Hatate, Engels, Kuhn (Maeda 60), Idah, "
            "Furuhashi, Forrest. Idah 51, 77.")
    is_report, facts = read(body, title="Rangers 1-2 Celtic")
    f = one(facts)
    assert is_report and f.reported and not f.neutral
    assert (f.home, f.home_score, f.away_score, f.away) == ("Rangers F.C.", 1, 2, "Celtic F.C.")
    assert f.competition == "Scottish Premiership"  # both teams' league, when the text names none
    # the footer after a line-up lists that team's scorers; 'pen' is a penalty
    got = [(s.player, s.team, s.minute, s.kind) for s in f.scorers]
    assert got == [("Dessers", "Rangers F.C.", 23, "penalty"), ("Idah", "Celtic F.C.", 51, "goal"),
                   ("Idah", "Celtic F.C.", 77, "goal")]


def test_labelled_footers_with_own_goals():
    body = ("Everton beat Fulham at Goodison Park in the Premier League. Everton: Pickford, Coleman, Tarkowski, "
            "Branthwaite, Mykolenko, Gueye, Garner, Ndiaye, Doucoure, McNeil, Beto. Goals: Beto 12, Robinson 40 og. "
            "Fulham: Leno, Tete, Andersen, Bassey, Robinson, Lukic, Berge, Iwobi, Smith Rowe, Traore, Jimenez. "
            "Goals: Jimenez 88.")
    _, facts = read(body, title="Everton 2-1 Fulham")
    f = one(facts)
    got = [(s.player, s.team, s.minute, s.kind) for s in f.scorers]
    assert got == [("Beto", "Everton F.C.", 12, "goal"), ("Robinson", "Everton F.C.", 40, "own goal"),
                   ("Jimenez", "Fulham F.C.", 88, "goal")]


def test_a_defeat_by_a_team_in_its_city_puts_that_team_at_home():
    is_report, facts = read("Scotland were beaten 20-13 by Wales in Cardiff on Saturday, and the coach was "
                            "angry with the referee after two tries were ruled out. Scotland face Italy next in the "
                            "Six Nations.")
    f = one(facts)
    assert is_report and f.reported and not f.neutral
    assert (f.home, f.home_score, f.away_score, f.away) == (
        "Wales national rugby union team", 20, 13, "Scotland national rugby union team")
    assert f.match_date == date(2025, 3, 8) and f.date_certain  # the Saturday before a Monday article


def test_a_pronoun_is_the_team_the_article_is_about():
    text = ("Arsenal manager Mikel Arteta said his side had been unlucky after their 2-0 defeat at Newcastle United "
            "on Sunday. \"We created chances,\" he said.")
    is_report, facts = read(text)
    f = one(facts)
    assert is_report
    assert (f.home, f.home_score, f.away_score, f.away) == ("Newcastle United F.C.", 2, 0, "Arsenal F.C.")
    assert not f.neutral  # 'at Newcastle United'


def test_a_result_in_passing_is_listed_but_not_reported():
    text = ("Liverpool have signed a new goalkeeper on a five-year contract. The club's search began after the "
            "3-1 win against Brentford last week, when the first-choice keeper was injured. Liverpool host "
            "Chelsea on Saturday. \"We start from 0-0 again,\" said the manager.")
    is_report, facts = read(text)
    f = one(facts)  # '0-0' in a quote about the next game is no result
    assert not is_report and not f.reported
    assert f.neutral and (f.home, f.home_score, f.away_score, f.away) == ("Liverpool F.C.", 3, 1, "Brentford F.C.")
    assert f.match_date == date(2025, 3, 3) and not f.date_certain  # 'last week'


def test_a_preview_lead_does_not_report_the_last_result():
    text = ("France coach Fabien Galthie says his team will go into Saturday's game with England full of belief. "
            "The French limped to a 16-9 win against Scotland in their opening match. Galthie names his team "
            "on Thursday for the Six Nations clash at Twickenham.")
    is_report, facts = read(text)
    f = one(facts)
    assert not is_report and not f.reported
    assert (f.home, f.home_score, f.away_score) == ("France national rugby union team", 16, 9)


def test_venue_named_before_the_score_and_a_city_in_another_clause():
    text = ("Atalanta shocked the Anfield crowd when they came away with a 3-0 victory against Liverpool last week, "
            "and now the Serie A side must finish the job in Bergamo.")
    _, facts = read(text)
    f = one(facts)
    assert (f.home, f.home_score, f.away_score, f.away) == ("Liverpool F.C.", 0, 3, "Atalanta BC")
    assert f.competition is None  # 'the Serie A side' is Atalanta's league, not this match's competition


def test_rugby_tries_penalties_and_drop_goals_from_prose():
    body = ("Leicester withstood a late comeback to win at Sandy Park. Leicester raced ahead through tries from "
            "Tom Brown, Jack Smith and Ben Jones before the break. Exeter hit back through a Sam Lewis try. "
            "Fly-half Adam Wood kicked Leicester to victory with a penalty and a drop goal.")
    is_report, facts = read(body, title="Exeter 18-26 Leicester")
    f = one(facts)
    assert is_report and f.home == "Exeter Chiefs" and f.away == "Leicester Tigers"
    got = sorted((s.player, s.kind) for s in f.scorers)
    assert got == [("Adam Wood", "drop goal"), ("Adam Wood", "penalty goal"), ("Ben Jones", "try"),
                   ("Jack Smith", "try"), ("Sam Lewis", "try"), ("Tom Brown", "try")]


def test_football_prose_scorers_with_minutes():
    text = ("Chelsea were held to a 1-1 draw by Brentford at Stamford Bridge on Saturday. Chelsea went ahead "
            "through Cole Palmer in the 20th minute before Bryan Mbeumo's low shot levelled in the 70th minute.")
    _, facts = read(text)
    f = one(facts)
    assert (f.home, f.away) == ("Chelsea F.C.", "Brentford F.C.")
    assert sorted((s.player, s.minute) for s in f.scorers) == [("Bryan Mbeumo", 70), ("Cole Palmer", 20)]


def test_penalty_shoot_out_is_kept_apart_from_the_score():
    _, facts = read("Chelsea won 4-2 on penalties after extra time in the FA Cup replay.", title="Arsenal 1-1 Chelsea")
    f = one(facts)
    assert (f.home_score, f.away_score, f.penalties, f.extra_time) == (1, 1, "4-2", True)


def test_other_sports_and_non_scores_are_ignored():
    assert read("Federer beat Nadal 6-4 6-3 in the final at Wimbledon on Sunday.") == (False, ())
    assert read("England 381 & 361-5 dec beat Australia in the first Test at Lord's, the wickets falling late "
                "on day five of the cricket.")[1] == ()
    _, facts = read("Arsenal switched to a 4-4-2 formation in the 2004-05 season and beat Chelsea.")
    assert facts == ()


def test_json_shape():
    is_report, facts = read("", title="Arsenal 2-0 Chelsea")
    out = as_json(is_report, facts)
    assert out["is_match_report"] is True
    m = out["matches"][0]
    assert {"home", "away", "home_score", "away_score", "competition", "reported", "scorers"} <= set(m)
    assert (m["home"], m["away"], m["home_score"], m["away_score"]) == ("Arsenal F.C.", "Chelsea F.C.", 2, 0)


def _report(article_id: str, home: str, hs: int, as_: int, away: str, neutral: bool = False) -> dict:
    return {"article_id": article_id, "match_id": "m", "reported": True, "home_entity_id": f"team/{home}",
            "away_entity_id": f"team/{away}", "home_name": home, "away_name": away, "home_score": hs,
            "away_score": as_, "neutral": neutral, "sport": "football", "competition_entity_id": None,
            "competition": None, "match_date": MONDAY, "date_certain": True, "extra_time": False, "penalties": None,
            "start_char": 0}


def test_the_majority_of_reports_sets_the_score_and_a_sided_report_the_home_team():
    rows = [_report("a1", "b", 1, 2, "a", neutral=True), _report("a2", "a", 2, 1, "b"), _report("a3", "a", 3, 1, "b")]
    row = majority(rows)
    assert (row["home_name"], row["home_score"], row["away_score"], row["away_name"]) == ("a", 2, 1, "b")
    assert row["conflicting"] and row["reports"] == 3 and not row["neutral"]


def test_match_id_is_stable_for_date_and_teams_and_near_dates_meet():
    f = MatchFact("Arsenal F.C.", "Chelsea F.C.", "team/arsenal-f-c", "team/chelsea-f-c", 2, 0, True,
                  match_date=MONDAY)
    swapped = MatchFact("Chelsea F.C.", "Arsenal F.C.", "team/chelsea-f-c", "team/arsenal-f-c", 0, 2, False,
                        match_date=MONDAY)
    assert match_id(f) == match_id(swapped)
    later = MatchFact("Arsenal F.C.", "Chelsea F.C.", "team/arsenal-f-c", "team/chelsea-f-c", 2, 0, True,
                      match_date=date(2025, 3, 12))
    known = [(match_id(f), frozenset(["team/arsenal-f-c", "team/chelsea-f-c"]), MONDAY)]
    assert same_match(known, later) == match_id(f)
    assert same_match(known, MatchFact("Arsenal F.C.", "Chelsea F.C.", "team/arsenal-f-c", "team/chelsea-f-c", 1, 1,
                                       True, match_date=date(2025, 4, 20))) is None


@pytest.mark.parametrize("published", [datetime(2025, 3, 10, 18, 0), MONDAY])
def test_published_datetime_or_date(published):
    _, facts = read("Arsenal beat Chelsea 2-0 at the Emirates Stadium on Sunday.", published=published)
    assert one(facts).match_date == date(2025, 3, 9)


PAGE = ("<html lang='en'><head><title>{title}</title></head><body><nav><a href='/'>Home</a></nav><main><article>"
        "<h1>{title}</h1>{paras}</article></main><footer>Copyright Example Sports</footer></body></html>")
REPORTS = {
    # outlet, path, headline, paragraphs: three reports of one match, one of them with another score
    "north": ("/north/arsenal-chelsea", "Arsenal 2-1 Chelsea", [
        "Arsenal came from behind to beat Chelsea at the Emirates Stadium on Saturday and stay top of the "
        "Premier League table after a bruising London derby.",
        "Chelsea went ahead through a header before the break, but Arsenal turned the game around after the "
        "interval with two goals in ten minutes that delighted the home supporters.",
        "The Arsenal manager praised the character of his players and said the win would give them confidence "
        "for the busy run of fixtures that lies ahead in the league and in Europe."]),
    "south": ("/south/derby-report", "Gunners edge London derby", [
        "Arsenal beat Chelsea 2-1 at the Emirates Stadium on Saturday to stay top of the Premier League, "
        "coming from a goal down in a bruising London derby.",
        "The visitors led at half-time, but two goals in ten minutes after the break turned the match, and "
        "Chelsea could not find a way back despite long spells of pressure late on.",
        "Chelsea's manager said his side had deserved at least a point and complained about the refereeing of "
        "the second half, which he called inconsistent and frustrating for his players."]),
    "east": ("/east/arsenal-win", "Arsenal too strong for Chelsea", [
        "Arsenal beat Chelsea 3-1 at the Emirates Stadium on Saturday in the Premier League, a result that "
        "keeps them top of the table after a bruising London derby.",
        "Chelsea scored first but Arsenal dominated the second half and scored three times, the last of them "
        "deep into stoppage time after a long spell of pressure on the Chelsea goal.",
        "Both managers spoke afterwards about the intensity of the match, which produced several bookings and "
        "a number of heated exchanges between the two benches in the second half."]),
}


@pytest.mark.usefixtures("prefect_harness")
def test_reports_from_several_feeds_meet_on_one_match_row(site, settings_for, tmp_path):
    import html as htmlmod

    from flows.ingest import ingest
    from tasks import load

    toml = []
    for outlet, (path, title, paras) in REPORTS.items():
        page = PAGE.format(title=htmlmod.escape(title), paras="".join(f"<p>{p}</p>" for p in paras))
        site.add(path, Route(page.encode()))
        feed = (f"<?xml version='1.0'?><rss version='2.0'><channel><title>{outlet}</title><item><title>"
                f"{htmlmod.escape(title)}</title><link>{{base_url}}{path}</link><guid>{outlet}-1</guid>"
                "<pubDate>Sun, 09 Mar 2025 18:00:00 GMT</pubDate></item></channel></rss>")
        site.add(f"/{outlet}.xml", Route(feed.encode(), content_type="application/rss+xml"))
        toml.append(f'[[feeds]]\nid = "{outlet}"\nurl = "{site.base_url}/{outlet}.xml"\nname = "{outlet}"\n'
                    'sport = "football"\n')
    feeds = tmp_path / "feeds.toml"
    feeds.write_text("\n".join(toml))
    settings = settings_for(feeds_file=str(feeds))
    assert ingest(settings=settings)["counts"]["articles_new"] == 3
    db = settings.db_path
    rows = load.query(db, "SELECT match_date, home_entity_id, away_entity_id, home_score, away_score, reports, "
                          "conflicting, competition FROM matches")[1]
    assert rows == [(date(2025, 3, 8), "team/arsenal-f-c", "team/chelsea-f-c", 2, 1, 3, True, "Premier League")]
    scores = load.query(db, "SELECT home_score, away_score, reported FROM match_reports ORDER BY home_score")[1]
    assert scores == [(2, 1, True), (2, 1, True), (3, 1, True)]  # the odd report is kept
    assert load.query(db, "SELECT date, home, score, away, articles FROM results")[1] == [
        (date(2025, 3, 8), "Arsenal F.C.", "2-1", "Chelsea F.C.", 3)]
    # a second run changes nothing; a retag recomputes the same rows
    ingest(settings=settings)
    assert load.query(db, "SELECT count(*), sum(reports) FROM matches")[1] == [(1, 3)]
    from tasks.enrich import enrich_articles
    from tasks.tag import get_tagger

    ids = [r[0] for r in load.query(db, "SELECT article_id FROM articles")[1]]
    load.replace_tags(db, enrich_articles(get_tagger(settings.spacy_model), load.stored_articles(db, ids)))
    assert load.query(db, "SELECT home_score, away_score, reports FROM matches")[1] == [(2, 1, 3)]
    assert load.query(db, "SELECT count(*) FROM match_reports")[1] == [(3,)]


def test_cli_matches(tmp_path):
    import json

    from typer.testing import CliRunner

    from pressbox.cli import app

    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "Arsenal 2-0 Chelsea Arsenal beat Chelsea at the Emirates Stadium."})
                   + "\n" + json.dumps({"id": "b", "text": "Arsenal have signed a new goalkeeper."}) + "\n")
    out = tmp_path / "out.jsonl"
    res = CliRunner().invoke(app, ["matches", "--input", str(src), "--output", str(out)])
    assert res.exit_code == 0, res.output
    docs = [json.loads(line) for line in out.read_text().splitlines()]
    assert [d["id"] for d in docs] == ["a", "b"]
    assert docs[0]["is_match_report"] and not docs[1]["is_match_report"] and docs[1]["matches"] == []
    m = docs[0]["matches"][0]
    assert (m["home"], m["home_score"], m["away_score"], m["away"], m["reported"]) == (
        "Arsenal F.C.", 2, 0, "Chelsea F.C.", True)
    assert all(set(s) == {"player", "team", "minute", "kind"} for s in m["scorers"])


def test_rugby_scoring_lines_under_each_side():
    body = ("Leicester won a tight Premiership match at Welford Road on Saturday. "
            "Leicester: Tries: Moody, Murphy 2 Cons: Goode 3 Pens: Goode. "
            "Bath: Tries: Cipriani Cons: Ford DG: Ford.")
    _, facts = read(body, title="Leicester 26-17 Bath")
    f = one(facts)
    got = [(s.player, s.team, s.kind) for s in f.scorers]
    assert got.count(("Murphy", "Leicester Tigers", "try")) == 2 and got.count(("Goode", "Leicester Tigers",
                                                                                 "conversion")) == 3
    assert ("Ford", "Bath Rugby", "drop goal") in got and ("Cipriani", "Bath Rugby", "try") in got
    assert len(got) == 10


def test_a_touring_side_in_europe_is_away():
    text = ("Wales coach Warren Gatland said the Springboks' displays in Europe this autumn, including a 35-10 "
            "thrashing of Wales, showed how far his tries-shy side had to go in the Six Nations.")
    _, facts = read(text)
    f = one(facts)
    assert (f.home, f.home_score, f.away_score, f.away, f.neutral) == (
        "Wales national rugby union team", 10, 35, "South Africa national rugby union team", False)


def test_headline_with_each_score_after_its_team():
    is_report, facts = read("Sunderland won at Elland Road in the Premier League on Saturday.",
                            title="Leeds United 1 Sunderland 2")
    f = one(facts)
    assert is_report and (f.home, f.home_score, f.away_score, f.away) == (
        "Leeds United F.C.", 1, 2, "Sunderland A.F.C.")
    assert f.competition == "Premier League"
