-- 0023: story_keys (issue 17): the index story assignment looks candidates up in (LSH bands of the
-- MinHash, teams, the subject's surname, match keys), with the publication time to bound the window.

CREATE TABLE story_keys (
    "key"        VARCHAR NOT NULL,
    article_id   VARCHAR NOT NULL,
    published_at TIMESTAMPTZ NOT NULL
);
