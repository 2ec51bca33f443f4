-- 0006: entities.league (from the knowledge base; NULL for names it does not know). One ALTER per file.
ALTER TABLE entities ADD COLUMN league VARCHAR;
