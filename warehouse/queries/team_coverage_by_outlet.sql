-- A team's coverage by outlet: articles per feed and publisher.
-- Variables: SET VARIABLE team = 'Arsenal F.C.'; (default below when unset).
SELECT t.feed_name, t.site_name, count(DISTINCT t.article_id) AS articles, max(t.published_at) AS latest
FROM article_entities t
WHERE t.canonical_name = coalesce(getvariable('team'), 'Arsenal F.C.')
GROUP BY ALL
ORDER BY articles DESC, t.feed_name;
