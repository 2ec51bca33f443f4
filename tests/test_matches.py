"""tasks/matches.py: one test per shape of match writing, the warehouse tables, and the CLI."""

from datetime import date, datetime

import pytest

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
