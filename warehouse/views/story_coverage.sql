-- story_coverage: one row per story: who ran it, how many articles, and when.
-- Grain: story_id. Columns: story_id, headline (the earliest article's title), first_seen,
-- last_seen (publication times), hours_running (last_seen - first_seen, in hours), articles,
-- outlets (distinct feeds), feeds (their ids, first to run it first), near_duplicates (articles
-- that joined as a near-copy of another's text), lead_entities (teams and people named most).
CREATE OR REPLACE VIEW story_coverage AS
WITH per_feed AS (
    SELECT story_id, feed_id, min(published_at) AS first_at
    FROM story_signatures
    GROUP BY ALL
),
feeds AS (
    SELECT story_id, list(feed_id ORDER BY first_at, feed_id) AS feeds
    FROM per_feed
    GROUP BY ALL
),
copies AS (
    SELECT story_id, count(*) FILTER (WHERE reason = 'near_duplicate') AS near_duplicates
    FROM story_signatures
    GROUP BY ALL
)
SELECT
    s.story_id,
    s.headline,
    s.first_seen,
    s.last_seen,
    round(epoch(s.last_seen - s.first_seen) / 3600.0, 1) AS hours_running,
    s.articles,
    s.outlets,
    f.feeds,
    coalesce(c.near_duplicates, 0) AS near_duplicates,
    s.lead_entities
FROM stories s
LEFT JOIN feeds f USING (story_id)
LEFT JOIN copies c USING (story_id);
