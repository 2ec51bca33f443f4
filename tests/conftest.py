"""Shared fixtures: offline Prefect, a local site on 127.0.0.1, settings, and the shared corpus."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Prefect reads its settings at import: keep it offline and away from the user's ~/.prefect.
_PREFECT_HOME = tempfile.mkdtemp(prefix="pressbox-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
for key in [k for k in os.environ if k.startswith("PRESSBOX_")]:
    del os.environ[key]  # tests state every setting they rely on

import pytest  # noqa: E402

from pressbox.localsite import LocalSite, Route  # noqa: E402
from pressbox.settings import Settings, get_settings  # noqa: E402

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
CORPUS = SHARED / "corpus"
SITE_DIR = Path(__file__).resolve().parent / "site"


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test harness (a temporary API and database) for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def site():
    """A fresh local site; add routes with site.add(path, Route(...))."""
    with LocalSite() as s:
        yield s


@pytest.fixture
def settings_for(tmp_path):
    """Build settings for a test: loopback allowed, fast politeness, a temp warehouse."""

    def make(**overrides) -> Settings:
        base = dict(
            db_path=tmp_path / "wh.duckdb",
            allow_private_hosts="127.0.0.1",
            per_host_interval=0.0,
            per_host_concurrency=4,
            connect_timeout=2.0,
            read_timeout=2.0,
            request_deadline=5.0,
        )
        base.update(overrides)
        return get_settings(**base)

    return make


def site_file(name: str) -> bytes:
    """A written fixture from tests/site."""
    return (SITE_DIR / name).read_bytes()


def corpus_dir(sub: str) -> Path:
    """A folder of ../shared/corpus, or skip the test when the corpus is absent."""
    path = CORPUS / sub
    if not path.is_dir():
        pytest.skip(f"shared corpus not available at {path}")
    return path


__all__ = ["Route", "corpus_dir", "site_file", "SHARED"]
