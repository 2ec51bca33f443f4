-- feed_health: one row per feed: is it working, and how much does it bring?
-- Grain: feed_id. Columns: feed_id, name, url, last_status, last_success_at, last_fetched_at,
-- consecutive_failures, last_error, runs_30d (runs in the last 30 days that fetched this feed),
-- errors_30d (feed-level errors in them), error_rate_30d (errors_30d / runs_30d; NULL before its
-- first fetch), page_errors_30d (failed article pages; notes on loaded pages not counted), articles (all time), articles_per_day_30d
-- (articles of the last 30 days per day the feed has been known, at most 30, at least 1),
-- entries_pending, entries_failed.
CREATE OR REPLACE VIEW feed_health AS
WITH recent_runs AS (
    SELECT run_id FROM runs WHERE started_at > now() - INTERVAL 30 DAY
),
fetches AS (  -- the runs that requested each feed (a feed added last week was not in older runs)
    SELECT feed_id, count(DISTINCT run_id) AS runs, min("at") AS first_fetch
    FROM feed_fetches WHERE "at" > now() - INTERVAL 30 DAY GROUP BY ALL
),
known_since AS (
    SELECT f.feed_id, least((SELECT min("at") FROM feed_fetches ff WHERE ff.feed_id = f.feed_id),
                            (SELECT min(first_seen_at) FROM feed_entries e WHERE e.feed_id = f.feed_id)) AS since
    FROM feeds f
),
feed_errors AS (
    SELECT f.feed_id, count(*) AS n
    FROM fetch_errors x JOIN feeds f ON f.url = x.url
    WHERE x.stage = 'feed' AND x.fatal AND x.run_id IN (SELECT run_id FROM recent_runs)
    GROUP BY ALL
),
page_errors AS (
    SELECT fe.feed_id, count(*) AS n
    FROM fetch_errors x JOIN feed_entries fe ON fe.url = x.url
    WHERE x.stage <> 'feed' AND x.fatal AND x.run_id IN (SELECT run_id FROM recent_runs)
    GROUP BY ALL
),
arts AS (
    SELECT feed_id, count(*) AS total,
           count(*) FILTER (WHERE coalesce(published_at, fetched_at) > now() - INTERVAL 30 DAY) AS last_30d
    FROM articles GROUP BY ALL
),
entries AS (
    SELECT feed_id, count(*) FILTER (WHERE status = 'pending') AS pending,
           count(*) FILTER (WHERE status = 'failed') AS failed
    FROM feed_entries GROUP BY ALL
)
SELECT
    f.feed_id,
    f.name,
    f.url,
    f.last_status,
    f.last_success_at,
    f.last_fetched_at,
    f.consecutive_failures,
    f.last_error,
    coalesce(x.runs, 0) AS runs_30d,
    coalesce(fe.n, 0) AS errors_30d,
    round(coalesce(fe.n, 0) / nullif(x.runs, 0), 3) AS error_rate_30d,
    coalesce(pe.n, 0) AS page_errors_30d,
    coalesce(a.total, 0) AS articles,
    round(coalesce(a.last_30d, 0) / least(30.0, greatest(1.0, coalesce(
        epoch(now() - k.since) / 86400.0, 30.0))), 2) AS articles_per_day_30d,
    coalesce(e.pending, 0) AS entries_pending,
    coalesce(e.failed, 0) AS entries_failed
FROM feeds f
LEFT JOIN fetches x USING (feed_id)
LEFT JOIN known_since k USING (feed_id)
LEFT JOIN feed_errors fe USING (feed_id)
LEFT JOIN page_errors pe USING (feed_id)
LEFT JOIN arts a USING (feed_id)
LEFT JOIN entries e USING (feed_id);
