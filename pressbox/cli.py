"""The `pressbox` command line: one group, kebab-case verbs, a runnable example in each --help."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="pressbox: sports-news feeds -> articles -> sports entities -> DuckDB.",
                  no_args_is_help=True, add_completion=False)
# Piped output (cron logs, scripts) gets wide tables rather than columns squeezed to 80 characters.
console = Console(width=None if sys.stdout.isatty() else 200)

FeedsOpt = Annotated[Path | None, typer.Option("--feeds", help="TOML feeds file (default: feeds.toml).")]
DbOpt = Annotated[Path | None, typer.Option("--db", help="DuckDB warehouse (default: warehouse/pressbox.duckdb).")]


def _prefect_env() -> None:
    """Offline-friendly Prefect defaults (no analytics calls); the user's own settings win.

    On a terminal the progress bars tell the story, so Prefect only logs warnings; elsewhere
    (cron, CI, a pipe) its log lines are the record: one per feed, one per batch.
    """
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING" if _tty() else "INFO")


def _tty() -> bool:
    return sys.stdout.isatty() and sys.stderr.isatty()


def _reporter():
    """A progress bar on a terminal; nothing extra otherwise."""
    from pressbox.progress import Reporter, RichReporter, reporting

    return reporting(RichReporter() if _tty() else Reporter())


def _print_table(cols: list[str], rows: list[tuple], title: str | None = None) -> None:
    table = Table(title=title)
    for c in cols:
        table.add_column(c)
    for r in rows:
        table.add_row(*["" if v is None else str(v) for v in r])
    console.print(table)


def _print_summary(summary: dict) -> None:
    c = summary["counts"]
    console.print(
        f"run {summary['run_id']}: [bold]{summary['status']}[/bold] — feeds ok {c.get('feeds_ok', 0)}, "
        f"not modified {c.get('feeds_not_modified', 0)}, failed {c.get('feeds_failed', 0)}; articles new "
        f"{c.get('articles_new', 0)}, updated {c.get('articles_updated', 0)}, failed "
        f"{c.get('articles_failed', 0)}; mentions {c.get('mentions', 0)}"
    )
    for f in summary["feeds"]:
        if f["error"]:
            console.print(f"  feed {f['feed_id']}: {f['status']} — {f['error']}")


@app.command()
def run(feeds: FeedsOpt = None, db: DbOpt = None) -> None:
    """Run one ingest flow now and print a summary.

    Example: pressbox run --feeds feeds.toml --db warehouse/pressbox.duckdb
    """
    _prefect_env()
    from pressbox.settings import get_settings

    if get_settings().workers > 1:  # workers' imports overlap Prefect's start-up (tasks/pool.py)
        from tasks.pool import start_fork_server

        start_fork_server()
    from prefect.exceptions import CancelledRun

    from flows.ingest import ingest
    from tasks.load import WarehouseBusy

    try:
        with _reporter():
            summary = ingest(feeds_file=str(feeds) if feeds else None, db_path=str(db) if db else None)
    except (WarehouseBusy, CancelledRun) as exc:
        console.print(f"[yellow]{exc}[/yellow]")
        raise typer.Exit(3) from None
    _print_summary(summary)


@app.command()
def demo(db: DbOpt = None) -> None:
    """Serve the bundled sample site on 127.0.0.1, ingest it, and show what was loaded.

    Example: pressbox demo
    """
    _prefect_env()
    from pressbox import sample_site
    from pressbox.settings import ROOT, get_settings

    db_path = db or ROOT / "warehouse" / "demo.duckdb"
    with sample_site.serve() as site, tempfile.TemporaryDirectory() as tmp:
        feeds_file = Path(tmp) / "feeds.toml"
        feeds_file.write_text(sample_site.feeds_toml(site.base_url), encoding="utf-8")
        console.print(f"demo site serving on {site.base_url}; warehouse {db_path}")
        from flows.ingest import ingest

        settings = get_settings(db_path=db_path, feeds_file=feeds_file, allow_private_hosts="127.0.0.1",
                                per_host_interval=0.0, per_host_concurrency=4)
        with _reporter():
            summary = ingest(settings=settings)
    _print_summary(summary)
    from tasks.load import query

    cols, rows = query(db_path, "SELECT (SELECT count(*) FROM articles) AS articles, "
                                "(SELECT count(*) FROM mentions) AS mentions, "
                                "(SELECT count(*) FROM entities) AS entities")
    _print_table(cols, rows, "warehouse")
    cols, rows = query(db_path, """SELECT e.canonical_name, e.label, count(DISTINCT m.article_id) AS articles,
                                          count(*) AS mentions
                                   FROM mentions m JOIN entities e USING (entity_id)
                                   WHERE e.label IN ('TEAM','COACH','PLAYER','COMPETITION','VENUE')
                                   GROUP BY ALL ORDER BY mentions DESC, 1 LIMIT 15""")
    _print_table(cols, rows, "top entities")


@app.command()
def extract(
    files: Annotated[list[Path], typer.Argument(help="HTML files (.html or .html.gz).")],
    url: Annotated[str | None, typer.Option(help="The page's URL (helps metadata and links).")] = None,
) -> None:
    """Extract article fields from HTML files; prints one JSON object a line.

    Example: pressbox extract page.html --url https://example.com/story
    """
    import gzip

    from tasks.extract import extract_html

    for path in files:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
        ex = extract_html(raw, url)
        stem = path.name.split(".")[0]
        print(json.dumps({
            "id": stem, "title": ex.title, "body": ex.body,
            "published_at": ex.published_at.isoformat() if ex.published_at else None,
            "date_source": ex.dates[0][0] if ex.dates else None,
            "author": ex.author, "language": ex.language, "extraction_method": ex.method,
            "paywalled": ex.paywalled, "is_liveblog": ex.is_liveblog, "word_count": len(ex.body.split()),
        }, ensure_ascii=False))


@app.command()
def tag(
    input: Annotated[Path, typer.Option("--input", help="JSONL of {\"id\", \"text\"}.")],  # noqa: A002
    output: Annotated[Path, typer.Option("--output", help="JSONL to write.")],
    model: Annotated[str | None, typer.Option(help="spaCy model (default: the spacy_model setting).")] = None,
) -> None:
    """Tag sports entities in texts, through the same code the flow uses.

    Example: pressbox tag --input texts.jsonl --output tags.jsonl
    """
    from pressbox.settings import get_settings
    from tasks.tag import get_tagger

    tagger = get_tagger(model or get_settings().spacy_model)
    docs = [json.loads(line) for line in input.read_text(encoding="utf-8").splitlines() if line.strip()]
    with output.open("w", encoding="utf-8") as out:
        for doc, tags in zip(docs, tagger.tag_texts(d.get("text") or "" for d in docs), strict=True):
            out.write(json.dumps({"id": doc["id"], "entities": [t.as_json() for t in tags]}, ensure_ascii=False) + "\n")
    console.print(f"tagged {len(docs)} texts -> {output} ({tagger.version})", highlight=False)


def _read_path(db: Path | None, live: bool) -> Path:
    """The file a reading command opens: the analyst snapshot when there is one, else the warehouse."""
    from pressbox.settings import get_settings
    from tasks.load import snapshot_path

    path = Path(db or get_settings().db_path)
    snap = snapshot_path(path)
    if not live and snap.exists():
        return snap
    if not path.exists():
        console.print(f"[red]no warehouse at {path}; run `pressbox run` (or `pressbox demo`) first[/red]")
        raise typer.Exit(2)
    return path


LiveOpt = Annotated[bool, typer.Option("--live", help="Read the warehouse itself, not the analyst snapshot.")]


@app.command()
def sql(
    query_text: Annotated[str, typer.Argument(metavar="QUERY", help="SQL to run read-only.")],
    db: DbOpt = None,
    live: LiveOpt = False,
) -> None:
    """Run a read-only SQL query against the warehouse (its analyst snapshot) and print a table.

    Example: pressbox sql "SELECT label, count(*) FROM mentions GROUP BY label"
    """
    import duckdb

    from tasks.load import WarehouseBusy, query

    path = _read_path(db, live)
    try:
        cols, rows = query(path, query_text)
    except (duckdb.Error, WarehouseBusy) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    _print_table(cols, rows)


@app.command()
def search(
    text: Annotated[str, typer.Argument(metavar="QUERY", help="Words to search for in titles and bodies.")],
    db: DbOpt = None,
    limit: Annotated[int, typer.Option(help="How many articles to show.")] = 10,
    live: LiveOpt = False,
) -> None:
    """Full-text search (BM25) over article titles and bodies; prints ranked articles.

    Example: pressbox search "Atalanta Europa League"
    """
    import duckdb

    from tasks.load import search as fts_search

    path = _read_path(db, live)
    try:
        rows = fts_search(path, text, limit)
    except (duckdb.Error, ImportError) as exc:
        console.print(f"[red]search is unavailable: {exc}[/red]")
        raise typer.Exit(1) from None
    _print_table(["score", "published_at", "title", "url", "article_id"], rows)


@app.command()
def export(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Folder to write one file per table into.")],
    format: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",  # noqa: A002
    db: DbOpt = None,
    live: LiveOpt = False,
) -> None:
    """Export every table as Parquet (or CSV) files for other tools.

    Example: pressbox export --format parquet warehouse/export
    """
    from tasks.load import export as export_tables

    try:
        written = export_tables(_read_path(db, live), directory, format)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    for path in written:
        console.print(str(path))


@app.command()
def retag(db: DbOpt = None) -> None:
    """Re-tag stored articles whose tagger_version is not the current one (no refetching).

    Example: pressbox retag --db warehouse/pressbox.duckdb
    """
    _prefect_env()
    from prefect.exceptions import CancelledRun

    from flows.retag import retag as retag_flow
    from tasks.load import WarehouseBusy

    try:
        result = retag_flow(db_path=str(db) if db else None)
    except (WarehouseBusy, CancelledRun) as exc:
        console.print(f"[yellow]{exc}[/yellow]")
        raise typer.Exit(3) from None
    console.print(f"retagged {result['retagged']} articles ({result['mentions']} mentions) "
                  f"with {result['tagger_version']}", highlight=False)


@app.command()
def serve(
    feeds: FeedsOpt = None,
    db: DbOpt = None,
    ingest_cron: Annotated[str | None, typer.Option(help="Cron of the ingest deployment.")] = None,
    maintenance_cron: Annotated[str | None, typer.Option(help="Cron of the nightly retag deployment.")] = None,
) -> None:
    """Serve the scheduled deployments (ingest every 15 minutes, retag nightly) until stopped.

    Works against the ephemeral API or the Prefect server in PREFECT_API_URL.
    Example: pressbox serve --ingest-cron "*/15 * * * *"
    """
    _prefect_env()
    from flows.deployments import build_deployments
    from pressbox.settings import get_settings

    settings = get_settings(feeds_file=feeds, db_path=db, ingest_cron=ingest_cron, maintenance_cron=maintenance_cron)
    from prefect import serve as prefect_serve

    prefect_serve(*build_deployments(settings))


@app.command()
def status(
    db: DbOpt = None,
    runs: Annotated[int, typer.Option("--runs", help="How many recent runs to show.")] = 10,
    live: LiveOpt = False,
) -> None:
    """Show the last runs and each feed's health (last success, consecutive failures, last error).

    Example: pressbox status --runs 5
    """
    from tasks.load import query

    path = _read_path(db, live)
    cols, rows = query(path, """SELECT started_at, status, feeds_ok, feeds_not_modified AS not_modified,
                                       feeds_failed, articles_new, articles_updated, articles_failed, mentions,
                                       round(epoch(finished_at - started_at), 1) AS seconds
                                FROM runs ORDER BY started_at DESC LIMIT ?""", [runs])
    _print_table(cols, rows, "recent runs")
    cols, rows = query(path, """SELECT feed_id, last_status, last_success_at, consecutive_failures,
                                       left(last_error, 80) AS last_error
                                FROM feeds ORDER BY consecutive_failures DESC, feed_id""")
    _print_table(cols, rows, "feeds")


kb_app = typer.Typer(help="The sports knowledge base: build it from open data, look a name up, count it.",
                     no_args_is_help=True)
app.add_typer(kb_app, name="kb")


@kb_app.command("build")
def kb_build(
    sources: Annotated[Path, typer.Option("--sources", help="Folder of the open data sets.")],
    out: Annotated[Path | None, typer.Option("--out", help="Where to write (default: pressbox/kb/generated).")] = None,
) -> None:
    """Import the open data sets into the generated knowledge-base files (same input, same bytes).

    Example: pressbox kb build --sources ../shared/kb-sources
    """
    from pressbox.kbbuild import GENERATED_DIR, build_kb

    try:
        counts = build_kb(sources, out or GENERATED_DIR)
    except FileNotFoundError as exc:
        console.print(f"error: {exc}")
        raise typer.Exit(2) from None
    _print_table(["file", "entities"], sorted(counts.items()), f"written to {out or GENERATED_DIR}")


@kb_app.command("lookup")
def kb_lookup(name: Annotated[str, typer.Argument(help="A name as written in text.")]) -> None:
    """Show what a name resolves to and why: each candidate's id, label, sport, source, qid and alias kind.

    Example: pressbox kb lookup "Iowa"
    """
    from tasks.kb import default_kb, lookup

    rows = lookup(default_kb(), name)
    if not rows:
        console.print(f"{name!r}: not in the knowledge base (the statistical model alone decides)")
        return
    cols = ["id", "label", "name", "sport", "source", "qid", "alias"]
    _print_table(cols, [tuple(r[c] for c in cols) for r in rows], f"{name!r}: alias = name/alias (strong), "
                 "weak (needs the text's support), strict (only when named outright)")


@kb_app.command("stats")
def kb_stats() -> None:
    """Count the knowledge base's entities by label, sport and source.

    Example: pressbox kb stats
    """
    from tasks.kb import default_kb, stats

    for what, counts in stats(default_kb()).items():
        _print_table([what, "entities"], list(counts.items()), f"entities by {what}")


if __name__ == "__main__":
    app()
