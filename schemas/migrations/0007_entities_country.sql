-- 0007: entities.country (from the knowledge base; NULL for names it does not know). One ALTER per file.
ALTER TABLE entities ADD COLUMN country VARCHAR;
