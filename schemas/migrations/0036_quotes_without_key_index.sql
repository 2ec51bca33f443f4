-- 0036: quotes without its PRIMARY KEY index (issue 19), for the reason of 0035: the loader keeps
-- the key (article_id, quote_no) by replacing an article's quotes in one transaction
-- (tasks/load.py _replace_quotes). Same columns, same order.

CREATE TABLE quotes_new (
    article_id        VARCHAR NOT NULL,
    quote_no          INTEGER NOT NULL,
    text              VARCHAR NOT NULL,
    start_char        INTEGER NOT NULL,
    end_char          INTEGER NOT NULL,
    speaker_name      VARCHAR,
    speaker_entity_id VARCHAR,
    speaker_kind      VARCHAR NOT NULL,
    role              VARCHAR,
    team_entity_id    VARCHAR,
    team_name         VARCHAR,
    cue               VARCHAR
);
INSERT INTO quotes_new SELECT article_id, quote_no, text, start_char, end_char, speaker_name, speaker_entity_id,
       speaker_kind, role, team_entity_id, team_name, cue FROM quotes ORDER BY article_id, quote_no;
DROP TABLE quotes;
ALTER TABLE quotes_new RENAME TO quotes;
