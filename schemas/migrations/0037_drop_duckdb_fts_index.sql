-- 0037: the DuckDB full-text index (schema fts_main_articles) is no longer built (issue 19): its
-- rebuild read every article after every run. Search is a Tantivy index beside the warehouse,
-- updated with each run's articles (tasks/search.py). The stale schema is dropped so no query
-- reads an index that no longer follows the articles.
DROP SCHEMA IF EXISTS fts_main_articles CASCADE;
