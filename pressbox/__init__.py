"""pressbox: sports-news ingestion and enrichment into DuckDB."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pressbox")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+local"
