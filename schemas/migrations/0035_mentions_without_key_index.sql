-- 0035: mentions without its PRIMARY KEY index (issue 19). The key (article_id, start_char,
-- end_char) is kept by the loader: an article's mentions are deleted and inserted again in one
-- transaction (tasks/load.py _replace_mentions, duplicates dropped within the batch), so re-running
-- a flow never duplicates a row. The index cost grew with the table (every append checked and
-- grew an ART over all mentions, millions of rows after a year) while nothing read through it.
-- DuckDB cannot drop a primary key, so the table is rebuilt with the same columns, in order.

CREATE TABLE mentions_new (
    article_id VARCHAR NOT NULL,
    entity_id  VARCHAR NOT NULL,
    surface    VARCHAR NOT NULL,
    label      VARCHAR NOT NULL,
    start_char INTEGER NOT NULL,
    end_char   INTEGER NOT NULL
);
INSERT INTO mentions_new SELECT article_id, entity_id, surface, label, start_char, end_char FROM mentions
ORDER BY article_id, start_char;
DROP TABLE mentions;
ALTER TABLE mentions_new RENAME TO mentions;
