-- 0005: entities.sport (from the knowledge base; NULL for names it does not know). One ALTER per file.
ALTER TABLE entities ADD COLUMN sport VARCHAR;
