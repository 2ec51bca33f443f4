"""tasks/stories.py and its load: near-duplicates, the same match, the same person, incremental and
bounded assignment in the warehouse, `pressbox stories`, and one story for two feeds' reports."""

import json
import tracemalloc
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import Route
from typer.testing import CliRunner

from schemas.records import Article, FeedConfig, Mention, TaggedArticle
from tasks import load, stories
from tasks.extract import content_hash

T0 = datetime(2026, 11, 21, 17, 30, tzinfo=UTC)
P = stories.StoryParams(window_hours=96)
ARSENAL = Mention("team/arsenal-f-c", "Arsenal F.C.", "Arsenal", "TEAM", 0, 7, None, ("Arsenal", "Gunners"))
CHELSEA = Mention("team/chelsea-f-c", "Chelsea F.C.", "Chelsea", "TEAM", 20, 27, None, ("Chelsea", "Blues"))
REPORT = ("Arsenal beat Chelsea 2-1 at the Emirates Stadium on Saturday evening as Bukayo Saka scored a late winner "
          "after Cole Palmer had cancelled out Declan Rice's header early in the second half. Mikel Arteta said his "
          "side had shown great character to recover from a difficult spell and move three points clear at the top "
          "of the Premier League table, while Enzo Maresca rued two missed chances before the break.")


def article(aid: str, title: str, body: str, feed: str = "alpha", hours: float = 0.0) -> Article:
    when = T0 + timedelta(hours=hours)
    return Article(aid, f"https://{feed}.example/{aid}", f"https://{feed}.example/{aid}", feed, aid, title, body,
                   None, None, when, when, "en", None, None, content_hash(title, body), "trafilatura",
                   len(body.split()))


def person(name: str, start: int, label: str = "PLAYER") -> Mention:
    return Mention(f"person/{name.lower().replace(' ', '-')}", name, name, label, start, start + len(name))


def tagged(aid: str, title: str, body: str, mentions=(ARSENAL, CHELSEA), **kw) -> TaggedArticle:
    return TaggedArticle(article(aid, title, body, **kw), tuple(mentions), "test")


def sig(*args, **kw):
    return stories.signature_of(tagged(*args, **kw))


def clusters(*sigs) -> list[str]:
    by_id = {a.article_id: a.story_id for a in stories.assign_stories(list(sigs), [], P)}
    return [by_id[s.article_id] for s in sigs]


# -- the pure stage ---------------------------------------------------------------------------------
def test_a_syndicated_or_trimmed_copy_is_a_near_duplicate():
    a = sig("a", "Arsenal beat Chelsea", REPORT)
    copy = sig("b", "Late Saka goal sinks Chelsea", REPORT.replace("great character", "real character")[:300],
               mentions=(), feed="wire", hours=2)
    assert stories.jaccard(a.minhash, copy.minhash) >= stories.NEAR_DUPLICATE
    assert set(stories.band_keys(a.minhash)) & set(stories.band_keys(copy.minhash))
    other = sig("c", "Celtic sign striker", "Celtic have signed the Norwegian striker Jens Halvorsen from Molde on a "
                "four-year deal, manager Brendan Rodgers said on Friday.", mentions=(), hours=1)
    assert stories.jaccard(a.minhash, other.minhash) < 0.2
    first, second, third = clusters(a, copy, other)
    assert first == second != third
    [assigned] = [x for x in stories.assign_stories([a, copy], [], P) if x.article_id == "b"]
    assert assigned.reason == "near_duplicate" and assigned.via == "a"


def test_two_write_ups_of_one_match_share_a_story_and_another_match_does_not():
    a = sig("a", "Arsenal beat Chelsea in London derby", REPORT)
    b = sig("b", "Maresca rues missed chances", "Chelsea lost 2-1 at Arsenal on Saturday. Enzo Maresca said "
            "his side should have been ahead at the break.", mentions=(replace(CHELSEA, start_char=0, end_char=7),
                                                                     replace(ARSENAL, start_char=20, end_char=27)),
            feed="beta", hours=1)
    rematch = sig("c", "Chelsea beat Arsenal in the FA Cup", "Chelsea beat Arsenal 3-0 in the FA Cup fourth round.",
                  feed="beta", hours=72)
    preview = sig("d", "Arsenal v Chelsea: team news and preview", "Arsenal host Chelsea on Saturday.",
                  hours=-30)
    first, second, third, fourth = clusters(a, b, rematch, preview)
    assert first == second
    assert third != first and fourth != first  # another result of the same teams; a preview


def test_the_same_person_is_one_story_but_a_quoted_speaker_is_not_the_subject():
    robertson = person("John Robertson", 0)
    a = sig("a", "John Robertson obituary", "John Robertson, who has died aged 72, won two European Cups.",
            mentions=(robertson,))
    b = sig("b", "Robertson was a scruffy genius", "Forest great John Robertson was loved in Nottingham.",
            mentions=(replace(robertson, start_char=13, end_char=27),), hours=48)
    andy = sig("c", "Andy Robertson injured", "Andy Robertson will miss a month.",
               mentions=(person("Andy Robertson", 0),))
    assert stories.same_person("Robertson", "John Robertson")
    assert not stories.same_person("Andy Robertson", "John Robertson")
    amorim = person("Ruben Amorim", 0, "COACH")
    q1 = sig("d", "Man Utd lacked imagination - Amorim", "Ruben Amorim says his side lacked imagination.",
             mentions=(amorim,))
    q2 = sig("e", "Formation change not because of pressure - Amorim", "Ruben Amorim says he has not changed "
             "formation because of the media.", mentions=(amorim,), hours=30)
    assert q1.subject is None and a.subject == "John Robertson"
    first, second, third, fourth, fifth = clusters(a, b, andy, q1, q2)
    assert first == second and third != first and fourth != fifth
    late = sig("f", "John Robertson remembered", "John Robertson was a winger.", mentions=(robertson,), hours=24 * 10)
    assert len(set(clusters(a, late))) == 2  # outside the window: another story


def test_a_programme_title_joins_only_by_its_text():
    show = sig("a", "Match of the Day", "Highlights of six Premier League games, including Arsenal v Chelsea 2-1.")
    report = sig("b", "Arsenal beat Chelsea", REPORT, hours=1)
    assert show.generic and not report.generic
    assert len(set(clusters(show, report))) == 2


def test_match_keys_from_the_match_facts_stage_decide_when_present():
    @dataclass(frozen=True)
    class Fact:  # the shape the match-facts stage gives (read by name: that stage is optional)
        home_entity_id: str
        away_entity_id: str
        match_date: date
        reported: bool = True

    @dataclass(frozen=True)
    class WithMatches(TaggedArticle):
        matches: tuple = ()

    fact = Fact("team/arsenal-f-c", "team/chelsea-f-c", date(2026, 11, 21))
    a = stories.signature_of(WithMatches(article("a", "Saka the hero", "Saka scored the winner."), (), "t",
                                         matches=(fact,)))
    b = stories.signature_of(WithMatches(article("b", "Rice header not enough", "Rice scored."), (), "t",
                                         matches=(fact,)))
    other = replace(fact, match_date=date(2026, 11, 24))
    c = stories.signature_of(WithMatches(article("c", "Arsenal beat Chelsea again", REPORT[:120], hours=70),
                                         (ARSENAL, CHELSEA), "t", matches=(other,)))
    assert a.match_keys == ("2026-11-21|team/arsenal-f-c|team/chelsea-f-c",)
    first, second, third = clusters(a, b, c)
    assert first == second != third


def test_assignment_is_deterministic_and_an_updated_article_keeps_its_story():
    a = sig("a", "Arsenal beat Chelsea", REPORT)
    b = sig("b", "Arsenal edge Chelsea", REPORT[:200], feed="beta", hours=1)
    once = stories.assign_stories([b, a], [], P)
    assert once == stories.assign_stories([a, b], [], P)
    kept = stories.assign_stories([replace(a, story_id="s-old")], [], P)
    assert kept[0].story_id == "s-old" and kept[0].reason == "kept"


def test_scores_read_both_ways_and_skip_dates():
    assert stories.scores_in("won 4-1, then lost 1–4 on 2025-26 and 12/10-11") == {"4-1"}


# -- the warehouse ------------------------------------------------------------------------------------
FEEDS = [FeedConfig("alpha", "https://alpha.example/rss", "Alpha"), FeedConfig("beta", "https://beta.example/rss",
                                                                              "Beta")]


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "wh.duckdb"
    load.prepare(path, FEEDS)
    return path


def rows(db, sql):
    return load.query(db, sql)[1]


def test_a_later_run_joins_the_story_and_reloading_changes_nothing(db):
    morning = [tagged("a", "Arsenal beat Chelsea", REPORT),
               tagged("x", "Celtic sign striker", "Celtic signed a striker.", mentions=())]
    load.load_batch(db, "run1", morning, [], 3, story_params=P)
    # tonight, a new process: the story is found in the warehouse, not rebuilt from bodies
    evening = [tagged("b", "Maresca rues missed chances after Arsenal defeat", "Chelsea lost 2-1 to Arsenal.",
                      mentions=(replace(CHELSEA, start_char=0, end_char=7),
                                replace(ARSENAL, start_char=20, end_char=27)), feed="beta", hours=6)]
    load.load_batch(db, "run2", evening, [], 3, story_params=P)
    ids = dict(rows(db, "SELECT article_id, story_id FROM articles"))
    assert ids["a"] == ids["b"] != ids["x"]
    story = rows(db, f"SELECT articles, outlets, headline, lead_entities FROM stories WHERE story_id = '{ids['a']}'")
    # the lead names Bukayo Saka: the tagger's mentions here are teams only, the written name is read too
    assert story == [(2, 2, "Arsenal beat Chelsea", ["Arsenal F.C.", "Chelsea F.C.", "Bukayo Saka"])]
    how = rows(db, "SELECT reason, via_article_id FROM story_signatures WHERE article_id = 'b'")
    assert how == [("same_match", "a")]
    before = {t: rows(db, f"SELECT * FROM {t} ORDER BY ALL") for t in ("stories", "story_signatures", "story_keys")}
    load.load_batch(db, "run3", morning + evening, [], 3, story_params=P)  # the same articles again
    assert {t: rows(db, f"SELECT * FROM {t} ORDER BY ALL") for t in before} == before
    # the publisher updates the first report: it is reloaded, and stays in its story
    load.load_batch(db, "run4", [tagged("a", "Arsenal beat Chelsea", REPORT + " Updated.")], [], 3, story_params=P)
    assert rows(db, "SELECT story_id, reason FROM story_signatures WHERE article_id = 'a'") == [(ids["a"], "kept")]
    assert rows(db, f"SELECT count(*) FROM stories WHERE story_id = '{ids['a']}'") == [(1,)]
    assert rows(db, "SELECT count(*) FROM story_signatures") == [(3,)]


def test_a_failed_assignment_leaves_the_batch_unloaded(db, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("killed mid-batch")

    monkeypatch.setattr(stories, "assign_stories", boom)
    with pytest.raises(RuntimeError):
        load.load_batch(db, "run1", [tagged("a", "Arsenal beat Chelsea", REPORT)], [], 3, story_params=P)
    assert rows(db, "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM story_signatures)") == [(0, 0)]


def test_articles_stored_before_the_stories_stage_are_backfilled_once_in_batches(db):
    load.load_batch(db, "run1", [tagged("a", "Arsenal beat Chelsea", REPORT),
                                 tagged("b", "Maresca rues missed chances after Arsenal defeat",
                                        "Chelsea lost 2-1 to Arsenal.", feed="beta", hours=2,
                                        mentions=(replace(CHELSEA, start_char=0, end_char=7),
                                                  replace(ARSENAL, start_char=20, end_char=27))),
                                 tagged("x", "Celtic sign striker", "Celtic signed a striker.", mentions=(), hours=1)],
                    [], 3, story_params=P)
    expected = dict(rows(db, "SELECT article_id, story_id FROM articles"))
    with load.transaction(db) as con:  # the warehouse as it was before the stories stage
        con.execute("UPDATE articles SET story_id = NULL")
        for table in ("stories", "story_signatures", "story_keys"):
            con.execute(f"DELETE FROM {table}")
    assert load.backfill_story_ids(db, batch_size=1, limit=2, params=P) == 2  # bounded: the next call goes on
    assert rows(db, "SELECT count(*) FROM articles WHERE story_id IS NULL") == [(1,)]
    assert rows(db, f"SELECT count(*) FROM _migrations WHERE name = '{load.BACKFILL_MARKER}'") == [(0,)]
    assert load.backfill_story_ids(db, batch_size=1, limit=10, params=P) == 1
    assert dict(rows(db, "SELECT article_id, story_id FROM articles")) == expected  # oldest first: the same stories
    assert rows(db, "SELECT articles, outlets FROM stories ORDER BY articles") == [(1, 1), (2, 2)]
    assert rows(db, f"SELECT count(*) FROM _migrations WHERE name = '{load.BACKFILL_MARKER}'") == [(1,)]
    with load.transaction(db) as con:  # once done, never again (a later NULL is the load's business)
        con.execute("UPDATE articles SET story_id = NULL WHERE article_id = 'x'")
    assert load.backfill_story_ids(db, params=P) == 0


def test_retagging_refreshes_the_story_signatures_and_keeps_the_story(db):
    load.load_batch(db, "run1", [tagged("a", "Saka sinks Chelsea", "Arsenal beat Chelsea 2-1.", mentions=(ARSENAL,))],
                    [], 3, story_params=P)
    [(story, teams, subject)] = rows(db, "SELECT story_id, teams, subject FROM story_signatures")
    assert teams == ["team/arsenal-f-c"] and subject is None
    retagged = tagged("a", "Saka sinks Chelsea", "Arsenal beat Chelsea 2-1.",
                      mentions=(ARSENAL, replace(CHELSEA, start_char=13, end_char=20), person("Bukayo Saka", 40)))
    load.replace_tags(db, [retagged], P)
    assert rows(db, "SELECT story_id, teams, subject, reason FROM story_signatures") == [
        (story, ["team/arsenal-f-c", "team/chelsea-f-c"], "Bukayo Saka", "kept")]
    assert rows(db, "SELECT count(*) FROM story_keys WHERE key = 't:team/chelsea-f-c'") == [(1,)]
    assert rows(db, "SELECT lead_entities FROM stories") == [(["Arsenal F.C.", "Bukayo Saka", "Chelsea F.C."],)]
    assert rows(db, "SELECT story_id FROM articles") == [(story,)]


def test_memory_stays_bounded_with_100k_signatures(db):
    """100k synthetic signatures, all sharing index keys with the new article and within its window: the
    load reads at most MAX_STORY_CANDIDATES of them, and Python's peak memory stays small."""
    con = load.connect(db)
    try:
        mh = bytes(range(256))
        con.execute(
            """INSERT INTO story_signatures
               SELECT 'syn' || i, 'story' || (i // 3), 'alpha', ?::TIMESTAMPTZ - to_minutes(CAST(i % 5000 AS BIGINT)),
                      'Synthetic ' || i, ?::BLOB, ['team/arsenal-f-c', 'team/t' || (i % 500)], [], NULL, false, [], [],
                      false, false, 'new', NULL, NULL, now()
               FROM range(100000) t(i)""", [T0, mh])
        # indexed under both teams of the new article: enough to be read as a candidate (one team is not)
        for team in ("team/arsenal-f-c", "team/chelsea-f-c"):
            con.execute(f"""INSERT INTO story_keys SELECT 't:{team}', article_id, published_at
                            FROM story_signatures""")
    finally:
        con.close()
    tracemalloc.start()
    with load.transaction(db) as con:
        t = tagged("new", "Arsenal beat Chelsea", REPORT, hours=1)
        load._upsert_articles(con, [t], T0)
        read = load.assign_stories(con, [t], P)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert read == load.MAX_STORY_CANDIDATES
    assert peak < 64 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"
    assert rows(db, "SELECT reason FROM story_signatures WHERE article_id = 'new'") == [("new",)]


def test_an_earlier_article_is_read_only_when_it_shares_enough_to_link(db):
    load.load_batch(db, "run1", [tagged("a", "Arsenal sign a defender", "Arsenal have signed a defender.",
                                        mentions=(ARSENAL,)),
                                 tagged("b", "Chelsea v Arsenal preview", "Chelsea host Arsenal.", hours=1)],
                    [], 3, story_params=P)
    with load.transaction(db) as con:  # one team in common ("a") is never a link; both teams ("b") may be
        t = tagged("new", "Arsenal beat Chelsea", REPORT, hours=2)
        load._upsert_articles(con, [t], T0)
        assert load.assign_stories(con, [t], P) == 1


# -- the command line and the flow -------------------------------------------------------------------
def test_cli_stories_writes_one_cluster_per_item(tmp_path):
    from pressbox.cli import app

    items = [
        {"id": "1", "title": "Arsenal beat Chelsea", "summary": REPORT, "published": "Sat, 21 Nov 2026 17:30:00 GMT"},
        {"id": "2", "title": "Arsenal beat Chelsea", "summary": REPORT, "published": "Sat, 21 Nov 2026 18:00:00 GMT"},
        {"id": "3", "title": "Celtic sign striker", "text": "Celtic have signed a Norwegian striker from Molde.",
         "published": "2026-11-21T12:00:00Z"},
    ]
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps(i) + "\n" for i in items))
    result = CliRunner().invoke(app, ["stories", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 0, result.output
    got = {d["id"]: d["cluster"] for d in map(json.loads, out.read_text().splitlines())}
    assert set(got) == {"1", "2", "3"} and got["1"] == got["2"] != got["3"]


PAGE = ("<html lang='en'><head><title>{title}</title></head><body><article><h1>{title}</h1>{paras}</article>"
        "</body></html>")
FEED_XML = ("<?xml version='1.0'?><rss version='2.0'><channel><title>{name}</title>{items}</channel></rss>")
ITEM = "<item><title>{title}</title><link>{{base_url}}/{path}</link><guid>{path}</guid><pubDate>{when}</pubDate></item>"


def _page(title: str, paras: list[str]) -> Route:
    return Route(PAGE.format(title=title, paras="".join(f"<p>{p}</p>" for p in paras)).encode())


def _feed(name: str, entries: list[tuple[str, str]]) -> Route:
    when = "Sat, 21 Nov 2026 18:00:00 GMT"
    items = "".join(ITEM.format(title=t, path=p, when=when) for t, p in entries)
    return Route(FEED_XML.format(name=name, items=items).encode(), content_type="application/rss+xml")


@pytest.mark.usefixtures("prefect_harness")
def test_the_same_match_from_two_feeds_is_one_story_end_to_end(site, settings_for, tmp_path):
    from flows.ingest import ingest

    report_a = [REPORT, "Saka's winner came three minutes from time when he cut inside and curled a shot into the "
                "far corner, the kind of finish that has become his trademark at the Emirates this season.",
                "Chelsea had chances of their own, with Palmer hitting the post from twenty yards."]
    report_b = ["Chelsea were beaten 2-1 by Arsenal on Saturday as Bukayo Saka struck late to settle a tense London "
                "derby at the Emirates Stadium.", "Enzo Maresca said his players deserved more after Cole Palmer "
                "hit the woodwork and Nicolas Jackson missed a clear opening before half-time.",
                "Arsenal stay top of the Premier League while Chelsea drop to fifth."]
    other = ["Celtic have signed the Norwegian striker Jens Halvorsen from Molde on a four-year deal, Brendan "
             "Rodgers confirmed on Friday.", "The 23-year-old scored 19 goals last season and becomes Celtic's "
             "third signing of the window."]
    site.add("/alpha/arsenal-chelsea", _page("Arsenal beat Chelsea as Saka strikes late", report_a))
    site.add("/alpha/celtic-sign", _page("Celtic sign Norwegian striker Halvorsen", other))
    site.add("/beta/chelsea-beaten", _page("Maresca rues chances as Chelsea lose at Arsenal", report_b))
    site.add("/feeds/alpha.xml", _feed("Alpha", [("Arsenal beat Chelsea", "alpha/arsenal-chelsea"),
                                                 ("Celtic sign striker", "alpha/celtic-sign")]))
    site.add("/feeds/beta.xml", _feed("Beta", [("Chelsea lose at Arsenal", "beta/chelsea-beaten")]))
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(f'[[feeds]]\nid = "alpha"\nurl = "{site.base_url}/feeds/alpha.xml"\nname = "Alpha"\n\n'
                     f'[[feeds]]\nid = "beta"\nurl = "{site.base_url}/feeds/beta.xml"\nname = "Beta"\n')
    settings = settings_for(feeds_file=str(feeds))
    assert ingest(settings=settings)["status"] == "completed"
    db = settings.db_path
    ids = dict(rows(db, "SELECT feed_id || ':' || split_part(canonical_url, '/', -1), story_id FROM articles"))
    assert ids["alpha:arsenal-chelsea"] == ids["beta:chelsea-beaten"] != ids["alpha:celtic-sign"]
    cov = rows(db, "SELECT outlets, articles, feeds, headline FROM story_coverage ORDER BY articles DESC LIMIT 1")
    assert cov[0][:3] == (2, 2, ["alpha", "beta"]) or cov[0][:3] == (2, 2, ["beta", "alpha"])
    dup = dict(rows(db, "SELECT feed_id, shared_stories FROM feed_duplicates"))
    assert dup == {"alpha": 1, "beta": 1}
    second = ingest(settings=settings)  # nothing new: nothing changes
    assert second["counts"]["articles_new"] == 0
    assert rows(db, "SELECT count(*), count(DISTINCT story_id) FROM articles") == [(3, 2)]
    assert rows(db, "SELECT count(*) FROM stories") == [(2,)]


def test_two_results_of_one_player_are_two_stories():
    haaland = person("Erling Haaland", 0)
    a = sig("a", "Haaland double sinks Fulham", "Erling Haaland scored twice as Manchester City won 2-0 at Fulham.",
            mentions=(haaland,))
    b = sig("b", "Haaland hat-trick against Leeds", "Erling Haaland scored three in a 3-1 win over Leeds.",
            mentions=(haaland,), hours=72)
    assert a.subject == b.subject == "Erling Haaland"
    assert len(set(clusters(a, b))) == 2


def test_written_names_the_tagger_missed_still_give_the_subject():
    # feed items: a ranking's summary names its winner, the next day's profile names her in its headline;
    # neither the tagger nor the headline's byline decides that
    ranking = sig("a", "The 100 best female footballers in the world 2025", "Aitana Bonmatí has been voted the best "
                  "female player on the planet by our panel of experts ahead of Mariona Caldentey.", mentions=())
    profile = sig("b", "Aitana Bonmatí makes top 100 history with third title in a row | Suzanne Wrack",
                  "The brilliant Spanish midfielder makes it a hat-trick of No 1 finishes.", mentions=(), hours=22)
    assert ranking.subject == "Aitana Bonmatí" and not ranking.subject_in_title
    assert profile.subject == "Aitana Bonmatí" and profile.subject_in_title
    assert len(set(clusters(ranking, profile))) == 1
    # a column's byline is its writer, not its subject; capitalised words are a name only when the
    # knowledge base knows them as a person's (or the headline names that surname)
    column = sig("c", "Villa keep defying gravity | Jonathan Wilson", "It makes no sense that it goes on.", mentions=())
    show = sig("d", "How to follow the Premier League", "BBC Sport Ask Me Anything explains how to watch.", mentions=())
    signing = sig("e", "Miyazawa signs long-term deal", "Hinata Miyazawa signs a new deal with the club.", mentions=())
    assert column.subject is None and show.subject is None
    assert signing.subject == "Hinata Miyazawa" and signing.subject_in_title
    assert stories.written_names("Enticing Salah would be a coup for the Saudi league") == []
    assert stories.written_names("Ice skaters and Ousmane Dembélé quietly") == [(16, "Ousmane Dembélé")]


def test_a_speakers_headline_has_no_subject_from_its_lead():
    quote = sig("a", "'This year has been crazy' - Caballero", "Assistant coach Willy Caballero steps in for Enzo "
                "Maresca to discuss Chelsea's 2-2 draw.", mentions=(person("Willy Caballero", 16),
                                                                     person("Enzo Maresca", 45, "COACH")))
    news = sig("b", "Maresca in danger of losing Chelsea job", "Enzo Maresca will have to improve results quickly.",
               mentions=(person("Enzo Maresca", 0, "COACH"),), hours=16)
    assert quote.subject is None and news.subject == "Enzo Maresca"
    assert len(set(clusters(quote, news))) == 2


def test_a_round_up_of_many_clubs_joins_no_match_by_its_teams():
    clubs = [Mention(f"team/{n.lower()}", n, n, "TEAM", i * 20, i * 20 + len(n), None, (n,))
             for i, n in enumerate(["Villa", "Brentford", "Burnley", "Everton"])]
    report = sig("a", "Arsenal thrash Villa", "Arsenal beat Aston Villa 4-1.",
                 mentions=(ARSENAL, replace(clubs[0], start_char=20, end_char=25)))
    roundup = sig("b", "January transfer window: what every club needs", "Villa, Brentford, Burnley, Everton and "
                  "Arsenal all have decisions to make.", mentions=(*clubs, replace(ARSENAL, start_char=80,
                                                                                  end_char=87)), hours=9)
    assert len(roundup.teams) == 5
    assert len(set(clusters(report, roundup))) == 2


def test_a_programmes_item_on_one_team_joins_that_evenings_result():
    report = sig("a", "Arsenal beat Chelsea", REPORT)
    daily = sig("b", "Football Daily", "Arsenal increase their lead at the top of the table.", mentions=(ARSENAL,),
                hours=1)
    next_day = sig("c", "Football Daily", "Arsenal look ahead to the visit of Bournemouth.", mentions=(ARSENAL,),
                   hours=30)
    roundup = sig("d", "Match of the Day", "Highlights of six games, including Arsenal v Chelsea.", hours=1)
    assert daily.generic and roundup.generic
    first, second, third, fourth = clusters(report, daily, next_day, roundup)
    assert first == second and third != first and fourth != first
