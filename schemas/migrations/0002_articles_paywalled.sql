-- 0002: articles.paywalled (issue: extraction). One ALTER per migration: DuckDB cannot commit two
-- ALTERs of one table in one transaction. Rows loaded before it read FALSE until refetched.

ALTER TABLE articles ADD COLUMN paywalled BOOLEAN DEFAULT FALSE;  -- declared isAccessibleForFree: false, or a stub body
