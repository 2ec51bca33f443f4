-- 0001: the warehouse contract (feeds, feed_entries, articles, entities, mentions, runs, fetch_errors).
-- Append-only: never edit an applied migration; add 0002_*.sql instead.

CREATE TABLE feeds (
    feed_id          VARCHAR PRIMARY KEY,
    url              VARCHAR NOT NULL,
    name             VARCHAR,
    sport            VARCHAR,
    league           VARCHAR,
    language         VARCHAR,
    etag             VARCHAR,
    last_modified    VARCHAR,
    last_fetched_at  TIMESTAMPTZ,
    last_status      VARCHAR,       -- ok | not_modified | error
    last_http_status INTEGER,
    last_success_at  TIMESTAMPTZ,
    last_error       VARCHAR,
    consecutive_failures INTEGER DEFAULT 0
);

-- Every feed item ever seen, and how far its page got. Pending rows are retried by later runs.
CREATE TABLE feed_entries (
    feed_id        VARCHAR NOT NULL,
    entry_key      VARCHAR NOT NULL,
    url            VARCHAR NOT NULL,
    canonical_url  VARCHAR NOT NULL,
    title          VARCHAR,
    summary        VARCHAR,
    author         VARCHAR,
    published_at   TIMESTAMPTZ,
    updated_at     TIMESTAMPTZ,
    language       VARCHAR,
    first_seen_at  TIMESTAMPTZ NOT NULL,
    last_seen_at   TIMESTAMPTZ NOT NULL,
    status         VARCHAR NOT NULL,  -- pending | done | failed | gone
    attempts       INTEGER NOT NULL DEFAULT 0,
    article_id     VARCHAR,
    last_error     VARCHAR,
    PRIMARY KEY (feed_id, entry_key)
);

CREATE TABLE articles (
    article_id        VARCHAR PRIMARY KEY,    -- sha1 of canonical_url
    url               VARCHAR NOT NULL,       -- the link the feed gave
    canonical_url     VARCHAR NOT NULL UNIQUE,
    feed_id           VARCHAR,                -- the feed it was first found in
    title             VARCHAR,
    body              VARCHAR NOT NULL,
    summary           VARCHAR,
    author            VARCHAR,
    published_at      TIMESTAMPTZ,
    fetched_at        TIMESTAMPTZ NOT NULL,
    language          VARCHAR,
    site_name         VARCHAR,
    image_url         VARCHAR,
    content_hash      VARCHAR NOT NULL,
    extraction_method VARCHAR NOT NULL,
    word_count        INTEGER NOT NULL,
    tagger_version    VARCHAR,
    date_source       VARCHAR,
    http_status       INTEGER,
    first_loaded_at   TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);

CREATE TABLE entities (
    entity_id      VARCHAR PRIMARY KEY,
    canonical_name VARCHAR NOT NULL,
    label          VARCHAR NOT NULL,
    wikidata_id    VARCHAR,
    aliases        VARCHAR[]
);

CREATE TABLE mentions (
    article_id VARCHAR NOT NULL,
    entity_id  VARCHAR NOT NULL,
    surface    VARCHAR NOT NULL,
    label      VARCHAR NOT NULL,
    start_char INTEGER NOT NULL,
    end_char   INTEGER NOT NULL,
    PRIMARY KEY (article_id, start_char, end_char)
);

CREATE TABLE runs (
    run_id           VARCHAR PRIMARY KEY,
    flow_run_id      VARCHAR,
    started_at       TIMESTAMPTZ NOT NULL,
    finished_at      TIMESTAMPTZ,
    status           VARCHAR NOT NULL,   -- running | completed | failed
    feeds_ok         INTEGER DEFAULT 0,
    feeds_failed     INTEGER DEFAULT 0,
    feeds_not_modified INTEGER DEFAULT 0,
    entries_new      INTEGER DEFAULT 0,
    articles_new     INTEGER DEFAULT 0,
    articles_updated INTEGER DEFAULT 0,
    articles_unchanged INTEGER DEFAULT 0,
    articles_failed  INTEGER DEFAULT 0,
    mentions         INTEGER DEFAULT 0,
    pressbox_version VARCHAR,
    tagger_version   VARCHAR,
    error            VARCHAR
);

CREATE TABLE fetch_errors (
    run_id      VARCHAR NOT NULL,
    url         VARCHAR NOT NULL,
    stage       VARCHAR NOT NULL,     -- feed | robots | page | extract | tag | load
    error_type  VARCHAR NOT NULL,
    message     VARCHAR,
    http_status INTEGER,
    "at"        TIMESTAMPTZ NOT NULL  -- quoted: AT is a keyword in DuckDB
);
