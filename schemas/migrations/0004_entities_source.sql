-- 0004: entities.source (from the knowledge base; NULL for names it does not know). One ALTER per file.
ALTER TABLE entities ADD COLUMN source VARCHAR;
