"""The `pressbox` command line: one group, kebab-case verbs, a runnable example in each --help."""

from __future__ import annotations

import csv
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:  # imported where used: `pressbox --help` must not pay for Prefect
    from prefect.states import State

    from pressbox.settings import Settings
    from tasks.lake import Lake

app = typer.Typer(help="pressbox: sports-news feeds -> articles -> sports entities -> DuckDB.",
                  no_args_is_help=True, add_completion=False)
# Piped output (cron logs, scripts) gets wide tables rather than columns squeezed to 80 characters.
console = Console(width=None if sys.stdout.isatty() else 200)

err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 200)

FeedsOpt = Annotated[Path | None, typer.Option("--feeds", help="TOML feeds file (default: feeds.toml).")]
DbOpt = Annotated[Path | None, typer.Option(
    "--db", help="DuckDB warehouse file (default: the warehouse setting, else warehouse/pressbox.duckdb).")]


def _db(db: Path | None) -> dict[str, object]:
    """Settings overrides for --db: a file named on the command line beats a warehouse setting (a lake)."""
    return {"db_path": db, "warehouse": str(db) if db else None}
ShardOpt = Annotated[str | None, typer.Option(
    "--shard", help="I/N: take only the feeds in shard I of N (stable hash of the feed URL; README \"Scaling out\").")]

# `pressbox run` exit codes (README "Exit codes"): cron and scripts read the outcome from these.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_SKIPPED, EXIT_PARTIAL = 0, 1, 2, 3, 4
RUN_EXIT = {"completed": EXIT_OK, "partial": EXIT_PARTIAL, "failed": EXIT_FAILED}


def _fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print one red line on stderr; return the Exit to raise (2: the person can fix it)."""
    err_console.print(f"[red]{message}[/red]", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _settings(**overrides: object) -> Settings:
    """Settings from arguments, environment and pressbox.toml; a bad key or value is one line, exit 2."""
    from pydantic import ValidationError

    from pressbox.settings import describe_error, get_settings

    try:
        return get_settings(**overrides)
    except ValidationError as exc:
        raise _fail(describe_error(exc)) from None


def _check_feeds(settings: Settings) -> None:
    """Read the feeds file now, so a wrong path or bad entry is one line before Prefect starts."""
    from tasks.feeds import FeedsFileError, load_feeds_file

    try:
        load_feeds_file(Path(settings.feeds_file))
    except FeedsFileError as exc:
        raise _fail(str(exc)) from None


@contextmanager
def _prefect(settings: Settings, *, serve: bool = False, preload: str = "flows.ingest") -> Iterator[str | None]:
    """A Prefect API for the flows this command runs: PREFECT_API_URL when set (checked first),
    else a server of this process's own that dies with it (pressbox/prefect_server.py); the
    `preload` module (Prefect and the flows) is imported while that server boots."""
    import importlib

    from pressbox.prefect_server import ApiUnavailable, configured_api_url, prefect_api

    user_api = configured_api_url()
    try:
        with prefect_api(settings.home / "prefect" if serve else None, scheduler=serve,
                         timeout=settings.prefect_startup_timeout, template=settings.home / "prefect-template",
                         while_starting=lambda: importlib.import_module(preload)) as url:
            yield url
    except ApiUnavailable as exc:
        raise _fail(str(exc), EXIT_USAGE if user_api else EXIT_FAILED) from None


def _prefect_env() -> None:
    """Offline-friendly Prefect defaults (no analytics calls); the user's own settings win.

    On a terminal the progress bars tell the story, so Prefect only logs warnings; elsewhere
    (cron, CI, a pipe) its log lines are the record: one per feed, one per batch.
    """
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING" if _tty() else "INFO")
    # if anything still falls back to Prefect's in-process ephemeral API, give it time on a busy machine
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")


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
        f"{c.get('articles_failed', 0)}; mentions {c.get('mentions', 0)}; batches staged {c.get('batches_staged', 0)}"
    )
    for f in summary["feeds"]:
        if f["error"]:
            console.print(f"  feed {f['feed_id']}: {f['status']} — {f['error']}")
    for note in summary.get("notes", []):
        console.print(f"  {note}", highlight=False)
    if summary.get("error"):
        console.print(f"  {summary['status']}: {summary['error']}", highlight=False)


@app.command()
def run(feeds: FeedsOpt = None, db: DbOpt = None, shard: ShardOpt = None) -> None:
    """Run one ingest flow now and print a summary. Exit code: 0 completed, 4 partial (some feeds
    failed or batches were staged), 1 failed, 3 skipped (another run holds the warehouse), 2 usage.

    Example: pressbox run --feeds feeds.toml --db warehouse/pressbox.duckdb  (or --shard 1/4 on one of four machines)
    """
    _prefect_env()
    settings = _settings(feeds_file=feeds, **_db(db), shard=shard)
    _check_feeds(settings)
    from tasks import executor
    from tasks.pool import start_fork_server

    start_fork_server()  # workers' imports overlap Prefect's start-up (tasks/pool.py)
    # with PRESSBOX_EXECUTOR=dask, the run's LocalCluster starts and loads the model meanwhile too
    with executor.warm(settings), _prefect(settings):
        from flows.ingest import ingest

        with _reporter():
            state = ingest(settings=settings, return_state=True)
        code = _report_run(state)
    raise typer.Exit(code)


def _report_run(state: State) -> int:
    """Print a finished ingest run's summary (or why it stopped); returns its exit code."""
    from tasks.load import WarehouseBusy

    if state.is_cancelled():
        console.print(f"[yellow]{state.message}[/yellow]", highlight=False)
        return EXIT_SKIPPED
    result = state.result(raise_on_failure=False)
    if isinstance(result, WarehouseBusy):
        console.print(f"[yellow]{result}[/yellow]", highlight=False)
        return EXIT_SKIPPED
    if isinstance(result, BaseException) or not isinstance(result, dict):
        err_console.print(f"[red]run failed: {type(result).__name__}: {result}[/red]", highlight=False)
        return EXIT_FAILED
    _print_summary(result)
    return RUN_EXIT.get(result["status"], EXIT_FAILED)


@app.command()
def demo(
    db: Annotated[Path | None, typer.Option("--db", help="DuckDB warehouse (default: warehouse/demo.duckdb).")] = None,
) -> None:
    """Serve the bundled sample site on 127.0.0.1, ingest it, and show what was loaded.

    Example: pressbox demo
    """
    _prefect_env()
    from pressbox import sample_site

    db_path = db or DEMO_DB
    with sample_site.serve() as site, tempfile.TemporaryDirectory() as tmp:
        feeds_file = Path(tmp) / "feeds.toml"
        feeds_file.write_text(sample_site.feeds_toml(site.base_url), encoding="utf-8")
        console.print(f"demo site serving on {site.base_url}; warehouse {db_path}")
        from flows.ingest import ingest

        settings = _settings(**_db(db_path), feeds_file=feeds_file, allow_private_hosts="127.0.0.1",
                             per_host_interval=0.0, per_host_concurrency=4)
        with _prefect(settings), _reporter():
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
    hint = "" if db_path == DEMO_DB else f" --db {db_path}"
    console.print(f"next: pressbox sql \"SELECT count(*) FROM articles\"{hint}; pressbox search \"Atalanta\"{hint}; "
                  f"pressbox status{hint}" + ("" if hint else " (with no warehouse of your own yet, these read "
                                               "the demo's)"), highlight=False)


@app.command()
def extract(
    files: Annotated[list[Path], typer.Argument(help="HTML files (.html or .html.gz).")],
    url: Annotated[str | None, typer.Option(help="The page's URL (helps metadata and links).")] = None,
) -> None:
    """Extract article fields from HTML files; prints one JSON object a line.

    Example: pressbox extract page.html --url https://example.com/story
    """
    import gzip

    if missing := [str(p) for p in files if not p.is_file()]:
        raise _fail(f"no such file: {', '.join(missing)}")
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


InputOpt = Annotated[Path, typer.Option("--input", help="JSONL of {\"id\", \"text\"}.")]
OutputOpt = Annotated[Path, typer.Option("--output", help="JSONL to write.")]
ModelOpt = Annotated[str | None, typer.Option(help="spaCy model (default: the spacy_model setting).")]


def _read_jsonl(path: Path) -> list[dict]:
    """The JSON objects of a JSONL file, blank lines skipped."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    """Write one JSON object a line."""
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def _tagger(model: str | None):
    """The flow's tagger (the spacy_model setting unless a model is named)."""
    from pressbox.settings import get_settings
    from tasks.tag import get_tagger

    return get_tagger(model or get_settings().spacy_model)


@app.command()
def tag(input: InputOpt, output: OutputOpt, model: ModelOpt = None) -> None:  # noqa: A002
    """Tag sports entities in texts, through the same code the flow uses.

    Example: pressbox tag --input texts.jsonl --output tags.jsonl
    """
    tagger = _tagger(model)
    docs = _read_jsonl(input)
    tagged = tagger.tag_texts(d.get("text") or "" for d in docs)
    _write_jsonl(output, ({"id": doc["id"], "entities": [t.as_json() for t in tags]}
                          for doc, tags in zip(docs, tagged, strict=True)))
    console.print(f"tagged {len(docs)} texts -> {output} ({tagger.version})", highlight=False)


@app.command()
def quotes(input: InputOpt, output: OutputOpt, model: ModelOpt = None) -> None:  # noqa: A002
    """Find direct quotes and who said them (role, team), through the same code the flow uses.

    Example: pressbox quotes --input texts.jsonl --output quotes.jsonl
    """
    from tasks.quotes import extract_quotes, quote_json

    tagger = _tagger(model)
    docs = _read_jsonl(input)
    found = [extract_quotes(doc.get("text") or "", tagger.mentions(tags), tagger.kb)
             for doc, tags in zip(docs, tagger.tag_texts(d.get("text") or "" for d in docs), strict=True)]
    _write_jsonl(output, ({"id": doc["id"], "quotes": [quote_json(q) for q in qs]}
                          for doc, qs in zip(docs, found, strict=True)))
    console.print(f"{sum(map(len, found))} quotes in {len(docs)} texts -> {output} ({tagger.version})", highlight=False)


@app.command()
def matches(input: InputOpt, output: OutputOpt, model: ModelOpt = None) -> None:  # noqa: A002
    """Read match facts (report or not, scores, home/away, competition, scorers), as the flow does.

    Example: pressbox matches --input texts.jsonl --output matches.jsonl
    """
    from tasks.matches import as_json, match_texts

    docs = _read_jsonl(input)
    facts = match_texts(_tagger(model), [d.get("text") or "" for d in docs])
    _write_jsonl(output, ({"id": doc["id"], **as_json(is_report, found)}
                          for doc, (is_report, found) in zip(docs, facts, strict=True)))
    console.print(f"read matches in {len(docs)} texts -> {output}", highlight=False)


@app.command()
def stories(
    input: Annotated[Path, typer.Option("--input", help="JSONL of {\"id\", \"title\", \"text\" or \"summary\", \"published\"}.")],  # noqa: A002, E501
    output: Annotated[Path, typer.Option("--output", help="JSONL to write: {\"id\", \"cluster\"}.")],
    model: ModelOpt = None,
) -> None:
    """Group items that tell the same story, through the same code the flow uses.

    Example: pressbox stories --input items.jsonl --output clusters.jsonl
    """
    from pressbox.settings import get_settings
    from tasks.stories import cluster_items, story_params

    settings = get_settings()
    items = _read_jsonl(input)
    assigned = cluster_items(items, _tagger(model), story_params(settings))
    _write_jsonl(output, ({"id": a.article_id, "cluster": a.story_id} for a in assigned))
    console.print(f"{len(items)} items -> {len({a.story_id for a in assigned})} stories -> {output}", highlight=False)


def _read_path(db: Path | None, live: bool) -> Path | Lake:
    """The file a reading command opens: the analyst snapshot when there is one, else the warehouse.

    With no --db and no db_path setting, and no warehouse of one's own yet, it is the demo's
    (`make demo` writes warehouse/demo.duckdb): a new user's next command just works.
    """
    from tasks.lake import is_lake, target
    from tasks.paths import snapshot_path  # not tasks.load: `pressbox search` never imports DuckDB

    settings = _settings()
    if db is None and is_lake(warehouse := target(settings)):
        return warehouse  # readers attach a lake read-only: its last committed snapshot, never a lock
    path = Path(db or warehouse)
    chosen = db is not None or {"db_path", "warehouse"} & settings.model_fields_set
    if not chosen and not _exists(path) and _exists(DEMO_DB):
        err_console.print(f"no warehouse at {path} yet: reading the demo's, {DEMO_DB} (--db to choose)",
                          highlight=False)
        path = DEMO_DB
    snap = snapshot_path(path)
    if not live and snap.exists():
        return snap
    if not path.exists():
        raise _fail(f"no warehouse at {path}; run `pressbox run` (or `pressbox demo`) first")
    return path


def _exists(db_path: Path) -> bool:
    """A warehouse or its snapshot is there."""
    from tasks.load import snapshot_path

    return db_path.exists() or snapshot_path(db_path).exists()


LiveOpt = Annotated[bool, typer.Option("--live", help="Read the warehouse itself, not the analyst snapshot.")]
AllowFilesOpt = Annotated[bool, typer.Option(
    "--allow-files", help="Let the SQL read and write files and load extensions (off: the warehouse only).")]
FORMATS = ("table", "csv", "json")


def _emit(cols: list[str], rows: list[tuple], fmt: str) -> None:
    """Rows as a table (terminal), or unclipped CSV / JSON (pipes, scripts)."""
    if fmt == "table":
        _print_table(cols, rows)
    elif fmt == "csv":
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(cols)
        for r in rows:
            out.writerow([json.dumps(v, default=str, ensure_ascii=False) if isinstance(v, list | dict) else
                          "" if v is None else v for v in r])
    else:
        for r in rows:
            sys.stdout.write(json.dumps(dict(zip(cols, r, strict=True)), default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


@app.command()
def sql(
    query_text: Annotated[str | None, typer.Argument(
        metavar="[QUERY]", help="SQL to run read-only; `-` reads it from stdin.")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="Read the SQL from this file.")] = None,
    format: Annotated[str, typer.Option("--format", help="table, csv or json (one object a line).")] = "table",  # noqa: A002
    db: DbOpt = None,
    live: LiveOpt = False,
    allow_files: AllowFilesOpt = False,
) -> None:
    """Run a read-only SQL query against the warehouse (its analyst snapshot) and print the rows.

    Example: pressbox sql "SELECT label, count(*) FROM mentions GROUP BY label"
    Also: pressbox sql --file warehouse/queries/most_mentioned_this_week.sql --format csv
    """
    import duckdb

    from tasks.load import WarehouseBusy, query

    if format not in FORMATS:
        raise _fail(f"unknown --format {format!r} (table, csv or json)")
    if (query_text is None) == (file is None):
        raise _fail("give the SQL as QUERY, as `-` (stdin), or with --file PATH (one of them)")
    if file is not None:
        if not file.is_file():
            raise _fail(f"no such file: {file}")
        query_text = file.read_text(encoding="utf-8")
    elif query_text == "-":
        query_text = sys.stdin.read()
    path = _read_path(db, live)
    try:
        cols, rows = query(path, query_text, sandboxed=not allow_files)
    except (duckdb.Error, WarehouseBusy) as exc:
        raise _fail(str(exc).splitlines()[0] if format != "table" else str(exc), EXIT_FAILED) from None
    _emit(cols, rows, format)


def snippet(title: str | None, body: str | None, words: list[str], width: int = 160) -> str:
    """The passage of an article around the first query word it contains (else its opening)."""
    text = " ".join((body or "").split())
    for word in sorted(words, key=len, reverse=True):
        m = re.search(rf"\b{re.escape(word)}", text, re.IGNORECASE)
        if m:
            start = max(0, m.start() - width // 3)
            if start:  # begin at a word boundary
                start = text.find(" ", start) + 1 or start
            end = min(len(text), start + width)
            return ("…" if start else "") + text[start:end].strip() + ("…" if end < len(text) else "")
    if text:
        return text[:width] + ("…" if len(text) > width else "")
    return title or ""


@app.command()
def search(
    text: Annotated[str, typer.Argument(metavar="QUERY", help="Words to search for in titles and bodies.")],
    db: DbOpt = None,
    limit: Annotated[int, typer.Option(help="How many articles to show.")] = 10,
    live: LiveOpt = False,
) -> None:
    """Full-text search (BM25) over article titles and bodies; prints ranked articles with a snippet.

    Example: pressbox search "Atalanta Europa League"
    """
    from tasks.search import search as index_search

    path = _read_path(db, live)
    try:
        rows = index_search(path, text, limit)  # the index stores each body: no warehouse read
    except (FileNotFoundError, ImportError, ValueError, OSError) as exc:
        raise _fail(f"search is unavailable: {exc}", EXIT_FAILED) from None
    if not rows:
        console.print(f"no article matches {text!r}", highlight=False)
        return
    words = [w for w in re.findall(r"\w+", text) if len(w) > 1] or [text]
    table = Table(show_lines=True)
    for c in ("score", "published_at", "title", "snippet", "url"):
        table.add_column(c)
    for score, published_at, title, url, _aid, body in rows:
        table.add_row(str(score), str(published_at or ""), title or "", snippet(title, body, words), url)
    console.print(table)


@app.command()
def export(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Folder to write one file per table into.")],
    format: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",  # noqa: A002
    db: DbOpt = None,
    live: LiveOpt = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite export files already in DIR.")] = False,
) -> None:
    """Export every table as Parquet (or CSV) files for other tools (lists as JSON arrays in CSV).

    Example: pressbox export --format parquet warehouse/export
    """
    from tasks.load import export as export_tables

    try:
        written = export_tables(_read_path(db, live), directory, format, overwrite=force)
    except (ValueError, FileExistsError) as exc:
        raise _fail(str(exc)) from None
    for path in written:
        console.print(str(path))


@app.command()
def retag(db: DbOpt = None) -> None:
    """Re-tag stored articles whose tagger_version is not the current one (no refetching).

    Example: pressbox retag --db warehouse/pressbox.duckdb
    """
    _prefect_env()
    settings = _settings(**_db(db))
    with _prefect(settings, preload="flows.retag"):
        from prefect.exceptions import CancelledRun

        from flows.retag import retag as retag_flow
        from tasks.load import WarehouseBusy

        try:
            result = retag_flow(settings=settings)
        except (WarehouseBusy, CancelledRun) as exc:
            console.print(f"[yellow]{exc}[/yellow]")
            raise typer.Exit(EXIT_SKIPPED) from None
    console.print(f"retagged {result['retagged']} articles ({result['mentions']} mentions) "
                  f"with {result['tagger_version']}; {result['left']} left", highlight=False)


@app.command()
def serve(
    feeds: FeedsOpt = None,
    db: DbOpt = None,
    ingest_cron: Annotated[str | None, typer.Option(help="Cron of the ingest deployment.")] = None,
    maintenance_cron: Annotated[str | None, typer.Option(help="Cron of the nightly retag deployment.")] = None,
    shard: ShardOpt = None,
) -> None:
    """Serve the scheduled deployments (ingest every 15 minutes, retag nightly) until stopped.

    Uses the Prefect server in PREFECT_API_URL; without one it starts its own on 127.0.0.1 (database
    in the pressbox home, UI address printed) and stops it with serve (Ctrl-C or SIGTERM).
    Example: pressbox serve --ingest-cron "*/15 * * * *"
    """
    _prefect_env()
    settings = _settings(feeds_file=feeds, **_db(db), ingest_cron=ingest_cron, maintenance_cron=maintenance_cron,
                         shard=shard)
    _check_feeds(settings)
    from pressbox.prefect_server import stop_on_sigterm

    stop_on_sigterm()  # until Prefect's runner installs its own: a SIGTERM during start-up still stops the server
    try:
        with _prefect(settings, serve=True, preload="flows.deployments") as own:
            if own:
                console.print(f"Prefect UI: {own.removesuffix('/api')} (a local server, stopped with serve)",
                              highlight=False)
            from prefect import serve as prefect_serve

            from flows.deployments import build_deployments

            prefect_serve(*build_deployments(settings))
    except KeyboardInterrupt:
        pass


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
    from tasks.kb import tagger_version
    from tasks.load import count_stale

    version = tagger_version(_settings(db_path=db).spacy_model)
    console.print(f"{count_stale(path, version)} articles carry an older tagger version than {version} "
                  "(the nightly retag replaces them, newest first)", highlight=False)


DEMO_DB = Path(__file__).resolve().parent.parent / "warehouse" / "demo.duckdb"
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
