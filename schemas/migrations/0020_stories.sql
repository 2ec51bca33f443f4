-- 0020: stories (issue 17): articles that tell the same news, from several outlets and runs.
-- One row per story, recomputed from story_signatures whenever an article joins it.

CREATE TABLE stories (
    story_id      VARCHAR PRIMARY KEY,   -- 's' + 15 hex digits, derived from its first article
    first_seen    TIMESTAMPTZ NOT NULL,  -- earliest publication time of its articles
    last_seen     TIMESTAMPTZ NOT NULL,  -- latest publication time of its articles
    articles      INTEGER NOT NULL,
    outlets       INTEGER NOT NULL,      -- distinct feeds that ran it
    headline      VARCHAR,               -- the earliest article's title
    lead_entities VARCHAR[],             -- the teams and people named in most of its articles
    updated_at    TIMESTAMPTZ NOT NULL
);
