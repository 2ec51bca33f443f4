"""The knowledge base's integrity: ids, labels, names, aliases."""

import re
from collections import defaultdict

from tasks.kb import KB_LABELS, default_kb, fold


def test_ids_labels_and_names():
    kb = default_kb()
    assert len(kb.entities) > 1000
    for ent in kb.entities.values():
        assert ent.label in KB_LABELS, ent.id
        assert re.fullmatch(r"(team|person|comp|venue|place|org)/[a-z0-9-]+", ent.id), ent.id
        assert ent.name and ent.name == ent.name.strip(), ent.id
        assert ent.qid is None or re.fullmatch(r"Q\d+", ent.qid), ent.id
        assert not set(ent.aliases) & set(ent.weak), ent.id
        for team in ent.teams:
            assert kb.entities[team].label == "TEAM", (ent.id, team)


def test_every_strong_alias_is_unambiguous_within_a_sport():
    """An alias names one entity per label and sport; anything looser must be marked weak."""
    kb = default_kb()
    owners = defaultdict(set)
    for ent in kb.entities.values():
        if ent.label == "PLACE":
            continue
        for alias in ent.aliases:
            owners[(fold(alias), ent.label, ent.sport)].add(ent.id)
    clashes = {k: v for k, v in owners.items() if len(v) > 1}
    assert not clashes, clashes


def test_required_coverage():
    kb = default_kb()
    names = {e.name for e in kb.entities.values()}
    for name in ["Liverpool F.C.", "Atalanta BC", "Jürgen Klopp", "Gian Piero Gasperini", "UEFA Europa League",
                 "Serie A", "Anfield", "Six Nations Championship", "Wimbledon Championships", "Super Bowl",
                 "England national rugby union team", "Australia national cricket team", "Los Angeles Lakers",
                 "Pittsburgh Steelers", "New York Yankees", "Toronto Maple Leafs", "LA Galaxy",
                 # head coaches since 2000, club and national team, across the leagues covered
                 "Marcelo Bielsa", "Jupp Heynckes", "Óscar Tabárez", "Christian Streich", "Ernesto Valverde",
                 "Marcello Lippi", "Dick Advocaat", "Jorge Jesus", "Neil Lennon", "Steve Bruce", "Zlatko Dalić",
                 "Sean Payton", "Rick Carlisle", "Terry Francona", "Jon Cooper (ice hockey)", "Michael Cheika",
                 "Mickey Arthur"]:
        assert name in names, name
    labels = defaultdict(int)
    for e in kb.entities.values():
        labels[e.label] += 1
    assert labels["TEAM"] > 500 and labels["VENUE"] > 200 and labels["COMPETITION"] > 100 and labels["COACH"] > 600


def test_places_include_club_cities():
    kb = default_kb()
    assert {"bergamo", "liverpool", "milan", "italy"} <= kb.places
