-- One row per feed per run that requested it: the denominator of feed_health's error rate.
CREATE TABLE feed_fetches (
    run_id VARCHAR NOT NULL,
    feed_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,        -- ok | not_modified | error
    http_status INTEGER,
    "at" TIMESTAMPTZ NOT NULL
);
