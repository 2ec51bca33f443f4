-- Who is mentioned most this week? Sports entities by articles in the last 7 days
-- (publication time, else fetch time). Variables: none.
SELECT e.canonical_name, e.label, count(DISTINCT m.article_id) AS articles, count(*) AS mentions
FROM mentions m
JOIN entities e USING (entity_id)
JOIN articles a USING (article_id)
WHERE coalesce(a.published_at, a.fetched_at) > now() - INTERVAL 7 DAY
  AND e.label IN ('TEAM', 'COACH', 'PLAYER', 'COMPETITION', 'VENUE')
GROUP BY ALL
ORDER BY articles DESC, mentions DESC, e.canonical_name
LIMIT 20;
