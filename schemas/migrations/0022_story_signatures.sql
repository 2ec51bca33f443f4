-- 0022: story_signatures (issue 17): what story assignment reads of each article, so a new run finds
-- the story of tonight's article among this morning's without reading a body again.

CREATE TABLE story_signatures (
    article_id     VARCHAR PRIMARY KEY,
    story_id       VARCHAR NOT NULL,
    feed_id        VARCHAR,
    published_at   TIMESTAMPTZ NOT NULL,  -- publication time (fetch time when the article has none)
    title          VARCHAR,
    minhash        BLOB NOT NULL,         -- MinHash of the title and body's word 3-grams (64 x uint32)
    teams          VARCHAR[],             -- TEAM entity ids named in the headline or lead
    title_teams    VARCHAR[],
    subject        VARCHAR,               -- main person: first named in the headline (not its speaker), else the lead
    subject_in_title BOOLEAN NOT NULL,    -- the headline names the subject (else only the lead does)
    scores         VARCHAR[],             -- scores stated in the headline or lead ('4-1')
    match_keys     VARCHAR[],             -- matches reported (match-facts stage), 'date|team|team'
    generic        BOOLEAN NOT NULL,      -- a programme's title naming nothing: joins by near-duplicate text only
    preview        BOOLEAN NOT NULL,
    reason         VARCHAR NOT NULL,      -- new | near_duplicate | same_match | same_person | kept
    via_article_id VARCHAR,               -- the earlier article it was linked to
    similarity     DOUBLE,                -- estimated Jaccard of the two texts
    assigned_at    TIMESTAMPTZ NOT NULL
);
