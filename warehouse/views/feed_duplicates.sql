-- feed_duplicates: feed health, the copy side: how much of each feed is news other feeds also ran,
-- and how much is a near-copy of another article's text (syndicated or re-published).
-- Grain: feed_id. Columns: feed_id, articles (with a story), near_duplicates (joined a story as a
-- near-copy of an earlier article's text), syndicated_share (near_duplicates / articles),
-- shared_stories (its articles whose story other feeds ran too), first_to_report (stories it ran
-- before any other feed, among those shared), exclusive_share (articles whose story no other feed ran
-- / articles).
CREATE OR REPLACE VIEW feed_duplicates AS
WITH story_feeds AS (
    SELECT story_id, count(DISTINCT feed_id) AS feeds, arg_min(feed_id, published_at) AS first_feed
    FROM story_signatures
    GROUP BY ALL
)
SELECT
    s.feed_id,
    count(*) AS articles,
    count(*) FILTER (WHERE s.reason = 'near_duplicate') AS near_duplicates,
    round(count(*) FILTER (WHERE s.reason = 'near_duplicate') / count(*), 3) AS syndicated_share,
    count(*) FILTER (WHERE f.feeds > 1) AS shared_stories,
    count(DISTINCT s.story_id) FILTER (WHERE f.feeds > 1 AND f.first_feed = s.feed_id) AS first_to_report,
    round(count(*) FILTER (WHERE f.feeds = 1) / count(*), 3) AS exclusive_share
FROM story_signatures s
JOIN story_feeds f USING (story_id)
GROUP BY s.feed_id;
