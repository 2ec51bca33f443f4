-- co_mentions: pairs of sports entities named in the same article.
-- Grain: (entity_a, entity_b), each pair once (entity_a < entity_b). Columns: entity_a, name_a,
-- label_a, entity_b, name_b, label_b, articles (articles naming both), last_seen (latest such
-- article's publication time).
CREATE OR REPLACE VIEW co_mentions AS
WITH pairs AS (
    SELECT DISTINCT article_id, entity_id
    FROM mentions
    WHERE label IN ('TEAM', 'COACH', 'PLAYER', 'COMPETITION', 'VENUE')
)
SELECT
    a.entity_id AS entity_a,
    ea.canonical_name AS name_a,
    ea.label AS label_a,
    b.entity_id AS entity_b,
    eb.canonical_name AS name_b,
    eb.label AS label_b,
    count(*) AS articles,
    max(coalesce(ar.published_at, ar.fetched_at)) AS last_seen
FROM pairs a
JOIN pairs b ON a.article_id = b.article_id AND a.entity_id < b.entity_id
JOIN entities ea ON ea.entity_id = a.entity_id
JOIN entities eb ON eb.entity_id = b.entity_id
JOIN articles ar ON ar.article_id = a.article_id
GROUP BY ALL;
