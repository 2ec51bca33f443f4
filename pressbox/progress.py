"""Progress of a run: a bar on a terminal, nothing extra elsewhere (the flow logs a line per step)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class Reporter:
    """Receives a run's progress; the default one ignores it (log lines say enough)."""

    def feeds(self, total: int) -> None:
        """A run starts fetching `total` feeds."""

    def feed_done(self, feed_id: str, status: str) -> None:
        """One feed was fetched and parsed (or failed)."""

    def articles(self, total: int) -> None:
        """`total` article pages are to be fetched."""

    def articles_done(self, n: int) -> None:
        """`n` more articles went through extract/tag/load."""

    def close(self) -> None:
        """The run is over."""


class RichReporter(Reporter):
    """Two progress bars (feeds, articles) on a terminal."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(TextColumn("{task.description:<9}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), transient=False)
        self._progress.start()
        self._feeds = self._articles = None

    def feeds(self, total: int) -> None:
        self._feeds = self._progress.add_task("feeds", total=total)

    def feed_done(self, feed_id: str, status: str) -> None:
        if self._feeds is not None:
            self._progress.advance(self._feeds)

    def articles(self, total: int) -> None:
        self._articles = self._progress.add_task("articles", total=total)

    def articles_done(self, n: int) -> None:
        if self._articles is not None:
            self._progress.advance(self._articles, n)

    def close(self) -> None:
        self._progress.stop()


_current: Reporter = Reporter()


def current() -> Reporter:
    """The reporter of the run in progress in this process."""
    return _current


@contextlib.contextmanager
def reporting(reporter: Reporter) -> Iterator[Reporter]:
    """Install a reporter for the runs made inside the block."""
    global _current
    previous, _current = _current, reporter
    try:
        yield reporter
    finally:
        reporter.close()
        _current = previous
