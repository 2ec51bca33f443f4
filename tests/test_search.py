"""tasks/search.py: the Tantivy index a run keeps up to date gives the results of a full rebuild."""

import shutil

from test_load import FEED, entry, tagged

from tasks import load
from tasks import search as search_index

BODIES = [
    "Arsenal beat Chelsea at the Emirates. Bukayo Saka scored twice before half-time.",
    "Liverpool drew with Atalanta in Bergamo; the manager praised his defenders.",
    "England won the Six Nations match against Wales with a late try at Twickenham.",
    "Atalanta's coach said the Europa League run was the club's finest hour.",
    "Chelsea sacked their manager after a third defeat; Arsenal stay top.",
    "Saka signed a new contract with Arsenal until 2030, the club announced.",
]
QUERIES = ["Arsenal", "Saka contract", "Atalanta Europa League", "manager", "Six Nations try", "zzyzx"]


def results(db):
    return {q: load.search(db, q, limit=5) for q in QUERIES}


def ranked(found):
    """The ranked articles of each query (everything but the scores)."""
    return {q: [r[1:] for r in rows] for q, rows in found.items()}


def rebuilt(db):
    shutil.rmtree(search_index.index_dir(db))
    assert load.build_search_index(db) is None
    return results(db)


def test_incremental_updates_give_the_results_of_a_full_rebuild(tmp_path):
    db = tmp_path / "wh.duckdb"
    load.prepare(db, [FEED])
    load.load_batch(db, "run1", [tagged(n, body=BODIES[n]) for n in range(3)], [], max_attempts=3)
    assert load.update_search_index(db) is None  # no index yet: built from the warehouse
    load.load_batch(db, "run2", [tagged(n, body=BODIES[n]) for n in range(3, 6)], [], max_attempts=3)
    assert search_index.update(load.connect(db), db) == 3  # only the run's articles
    assert search_index.update(load.connect(db), db) == 0  # nothing new since
    added = results(db)
    assert added["zzyzx"] == [] and len(added["Arsenal"]) == 3
    assert rebuilt(db) == added  # new articles only: scores identical too
    # an updated article replaces its entry (no stale duplicate, no stale words)
    load.load_batch(db, "run3", [tagged(2, body="England lost to Wales in Cardiff; no try was scored.")], [], 3)
    assert load.update_search_index(db) is None
    replaced = results(db)
    assert [r[4] for r in replaced["Six Nations try"]] == [tagged(2).article.article_id]  # "try" only
    assert all(len({r[4] for r in rows}) == len(rows) for rows in replaced.values())
    # the same articles in the same order; the scores differ by the replaced entry's statistics
    # (Tantivy counts a deleted document until its segment is merged) until the nightly rebuild
    assert ranked(rebuilt(db)) == ranked(replaced)


def test_deleted_articles_leave_the_index(tmp_path):
    db = tmp_path / "wh.duckdb"
    load.prepare(db, [FEED])
    load.load_batch(db, "run1", [tagged(n, body=BODIES[n]) for n in range(2)], [], max_attempts=3)
    assert load.update_search_index(db) is None
    search_index.delete(db, [tagged(0).article.article_id])
    assert [r[4] for r in load.search(db, "Arsenal")] == []


def test_search_reads_the_index_alone_with_its_stored_bodies(tmp_path):
    db = tmp_path / "wh.duckdb"
    load.prepare(db, [FEED])
    load.load_batch(db, "run1", [tagged(0, body=BODIES[0])], [], max_attempts=3)
    assert load.update_search_index(db) is None
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    shutil.move(search_index.index_dir(db), search_index.index_dir(moved / "wh.duckdb"))
    # the warehouse file is not there: the answer, body included, comes from the index
    rows = search_index.search(moved / "wh.duckdb", "Saka")
    assert rows[0][4] == tagged(0).article.article_id and "scored twice" in rows[0][5]
    assert search_index.index_dir(tmp_path / "wh.read.duckdb") == search_index.index_dir(db)
    assert entry(0).title == rows[0][2]
