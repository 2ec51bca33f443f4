"""Feed sharding: `--shard I/N` runs take only the feeds whose stable hash falls in shard I of N.

The hash is sha1 of the feed's URL (as written in the feeds file), so a feed stays in its shard
across runs, machines and Python versions (never Python's salted `hash`). N runs with shards 1/N
.. N/N together take every feed exactly once; each holds its own run lock, so they may run at the
same time (on one DuckDB file their batch loads still take the file's single writer in turn).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from schemas.records import FeedConfig

_SPEC = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class Shard:
    """Shard `index` (1-based) of `count`."""

    index: int
    count: int

    @property
    def spec(self) -> str:
        """The `I/N` spelling (what runs.shard stores)."""
        return f"{self.index}/{self.count}"

    @property
    def slug(self) -> str:
        """A file-name-safe spelling, for the per-shard run lock."""
        return f"shard-{self.index}-of-{self.count}"

    def takes(self, url: str) -> bool:
        """True when the feed at `url` belongs to this shard."""
        return shard_of(url, self.count) == self.index


def shard_of(url: str, count: int) -> int:
    """The 1-based shard of `count` that the feed at `url` falls in (stable: sha1 of the URL)."""
    digest = hashlib.sha1(url.strip().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def parse_shard(text: str | None) -> Shard | None:
    """`"2/4"` -> Shard(2, 4); empty or None -> None (every feed). A bad spelling raises ValueError."""
    if text is None or not str(text).strip():
        return None
    m = _SPEC.fullmatch(str(text))
    if not m:
        raise ValueError(f"shard {text!r} is not I/N (e.g. 1/4)")
    index, count = int(m.group(1)), int(m.group(2))
    if count < 1 or not 1 <= index <= count:
        raise ValueError(f"shard {text!r}: I must be between 1 and N (1-based, e.g. 1/4 .. 4/4)")
    return Shard(index, count)


def shard_feeds(feeds: Sequence[FeedConfig], shard: Shard | None) -> list[FeedConfig]:
    """The feeds a run of `shard` takes (all of them when `shard` is None), in file order."""
    return list(feeds) if shard is None else [f for f in feeds if shard.takes(f.url)]
