-- 0015: match facts (issue 16): one row per match, one per article that states its score, and the
-- scorers each article names. Reports of one match from several outlets and runs meet in one row.

CREATE TABLE matches (
    match_id              VARCHAR PRIMARY KEY,  -- sha1 of match_date + the two team ids (either order)
    match_date            DATE,
    date_certain          BOOLEAN NOT NULL DEFAULT FALSE,
    sport                 VARCHAR,
    home_entity_id        VARCHAR,
    away_entity_id        VARCHAR,
    home_name             VARCHAR NOT NULL,
    away_name             VARCHAR NOT NULL,
    home_score            INTEGER NOT NULL,     -- the majority of the reports (see match_reports)
    away_score            INTEGER NOT NULL,
    neutral               BOOLEAN NOT NULL DEFAULT FALSE,
    competition_entity_id VARCHAR,
    competition           VARCHAR,
    extra_time            BOOLEAN NOT NULL DEFAULT FALSE,
    penalties             VARCHAR,
    reports               INTEGER NOT NULL,     -- articles that state this match's score
    conflicting           BOOLEAN NOT NULL DEFAULT FALSE,  -- some report states another score
    updated_at            TIMESTAMPTZ NOT NULL
);

CREATE TABLE match_reports (
    article_id            VARCHAR NOT NULL,
    match_id              VARCHAR NOT NULL,
    reported              BOOLEAN NOT NULL,     -- the article is about this result (else a mention in passing)
    home_entity_id        VARCHAR,
    away_entity_id        VARCHAR,
    home_name             VARCHAR NOT NULL,
    away_name             VARCHAR NOT NULL,
    home_score            INTEGER NOT NULL,     -- as this article states it
    away_score            INTEGER NOT NULL,
    neutral               BOOLEAN NOT NULL,
    sport                 VARCHAR,
    competition_entity_id VARCHAR,
    competition           VARCHAR,
    match_date            DATE,
    date_certain          BOOLEAN NOT NULL,
    extra_time            BOOLEAN NOT NULL,
    penalties             VARCHAR,
    start_char            INTEGER,              -- where the score is stated, in title + blank line + body
    PRIMARY KEY (article_id, match_id)
);

CREATE TABLE match_scorers (
    match_id         VARCHAR NOT NULL,
    article_id       VARCHAR NOT NULL,
    player_name      VARCHAR NOT NULL,
    player_entity_id VARCHAR,
    team_entity_id   VARCHAR,
    minute           INTEGER,
    kind             VARCHAR NOT NULL  -- goal | penalty | own goal | try | conversion | penalty goal | drop goal
);
