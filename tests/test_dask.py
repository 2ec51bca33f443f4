"""Issue 18: `PRESSBOX_EXECUTOR=dask` runs extract+tag batches on a real Dask LocalCluster (2 workers)
and loads exactly what the local executor loads; a page that kills its Dask worker costs only itself."""

from __future__ import annotations

import pytest
from conftest import Route
from distributed.diagnostics.plugin import WorkerPlugin
from hostile_routes import page, rss

from flows.ingest import ingest
from pressbox import sample_site
from tasks import load
from tasks.executor import local_cluster

pytestmark = pytest.mark.usefixtures("prefect_harness")

ROWS = {
    "articles": "SELECT article_id, canonical_url, title, word_count, extraction_method FROM articles ORDER BY ALL",
    "mentions": "SELECT article_id, entity_id, label, start_char, end_char FROM mentions ORDER BY ALL",
    "quotes": "SELECT * EXCLUDE (quote_id) FROM quotes ORDER BY ALL",
    "entries": "SELECT feed_id, entry_key, status FROM feed_entries ORDER BY ALL",
}


def _rows(db) -> dict[str, list]:
    out = {}
    for name, sql in ROWS.items():
        try:
            out[name] = load.query(db, sql)[1]
        except Exception:  # noqa: BLE001 - a table this schema lacks is compared as absent on both sides
            out[name] = None
    return out


def test_dask_executor_loads_the_same_rows_as_the_local_one(site, settings_for, tmp_path):
    for path, route in sample_site.routes().items():
        site.add(path, route)
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(sample_site.feeds_toml(site.base_url))
    local = settings_for(feeds_file=str(feeds), db_path=tmp_path / "local.duckdb", batch_size=4)
    dask = settings_for(feeds_file=str(feeds), db_path=tmp_path / "dask.duckdb", batch_size=4, executor="dask",
                        workers=2)
    one, two = ingest(settings=local), ingest(settings=dask)
    assert two["status"] == "completed" and two["counts"]["articles_new"] == len(sample_site.MATCHES)
    assert {k: one["counts"][k] for k in ("articles_new", "articles_failed", "mentions")} == {
        k: two["counts"][k] for k in ("articles_new", "articles_failed", "mentions")}
    assert _rows(local.db_path) == _rows(dask.db_path)
    assert _rows(dask.db_path)["mentions"]  # not two empty warehouses


class Poison(WorkerPlugin):
    """On every worker: a page carrying the marker ends its worker process, as a segfault would."""

    def setup(self, worker) -> None:  # noqa: ANN001
        import os

        import tasks.enrich

        real = tasks.enrich.build_article

        def build(entry, response, *args, **kwargs):  # noqa: ANN001, ANN202
            if b"POISON-CRASH" in response.content:
                os._exit(3)
            return real(entry, response, *args, **kwargs)

        if not getattr(real, "poisoned", False):
            build.poisoned = True
            tasks.enrich.build_article = build


def test_a_page_that_kills_its_dask_worker_costs_only_itself(site, settings_for, tmp_path):
    """The cluster is joined by address (PRESSBOX_DASK_ADDRESS); KilledWorker bisects the batch."""
    good = [f"/ok/g{i}" for i in range(3)]
    for path in good:
        site.add(path, Route(page("Story " + path)))
    site.add("/crash", Route(page("Bad page") + b"POISON-CRASH"))
    b = site.base_url
    links = [(b + p, p) for p in good[:1] + ["/crash"] + good[1:]]  # batches [g0, crash], [g1, g2]
    site.add("/feed.xml", Route(rss(links), content_type="application/rss+xml"))
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(f'[[feeds]]\nid = "f"\nurl = "{b}/feed.xml"\nname = "F"\n')
    with local_cluster(settings_for(workers=2)) as cluster:
        from distributed import Client

        with Client(cluster) as client:
            client.register_plugin(Poison(), name="poison")
        settings = settings_for(feeds_file=str(feeds), executor="dask", dask_address=cluster.scheduler_address,
                                max_attempts=1, respect_robots=False, batch_size=2)
        result = ingest(settings=settings)
    assert result["status"] == "completed" and result["counts"]["articles_new"] == len(good)
    errors = load.query(settings.db_path, "SELECT url, stage, error_type FROM fetch_errors")[1]
    assert errors == [(b + "/crash", "extract", "worker_crashed")]


def test_cli_run_on_dask_starts_one_cluster_before_prefect_and_the_flow_uses_it(site, tmp_path, monkeypatch):
    """`pressbox run` starts the run's LocalCluster (and its workers' model) while Prefect starts;
    the flow then finds it instead of starting a second one."""
    import contextlib

    from typer.testing import CliRunner

    from pressbox import cli
    from pressbox.cli import app
    from tasks import executor

    started, order = [], []
    real_cluster, real_warm, real_prefect = executor.local_cluster, executor.warm, cli._prefect

    @contextlib.contextmanager
    def counted(settings):  # noqa: ANN001, ANN202
        started.append(settings.workers)
        with real_cluster(settings) as cluster:
            yield cluster

    def warm(settings):  # noqa: ANN001, ANN202
        order.append("warm" if executor._WARM is None else "warm again")
        return real_warm(settings)

    def prefect(settings):  # noqa: ANN001, ANN202
        order.append("prefect")
        return real_prefect(settings)

    monkeypatch.setattr(executor, "local_cluster", counted)
    monkeypatch.setattr(executor, "warm", warm)
    monkeypatch.setattr(cli, "_prefect", prefect)
    for path, route in sample_site.routes().items():
        site.add(path, route)
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(sample_site.feeds_toml(site.base_url))
    for name, value in {"PRESSBOX_EXECUTOR": "dask", "PRESSBOX_WORKERS": "1",
                        "PRESSBOX_ALLOW_PRIVATE_HOSTS": "127.0.0.1", "PRESSBOX_PER_HOST_INTERVAL": "0"}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["run", "--feeds", str(feeds), "--db", str(tmp_path / "w.duckdb")])
    assert result.exit_code == 0, result.output
    assert f"articles new {len(sample_site.MATCHES)}" in result.output
    assert order == ["warm", "prefect", "warm again"]  # the cluster starts before Prefect; the flow finds it
    assert started == [1]  # one cluster, of the run's one worker
    assert executor._WARM is None  # and it is gone with the run
