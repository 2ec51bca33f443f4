"""Record types and the DuckDB migrations that hold them."""
