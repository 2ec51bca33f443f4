-- Articles about a team in a competition.
-- Variables: SET VARIABLE team = 'Liverpool F.C.'; SET VARIABLE competition = 'Premier League';
-- (canonical names, as in entities.canonical_name; the defaults below are used when unset).
SELECT a.published_at, a.title, a.canonical_url
FROM articles a
WHERE a.article_id IN (
        SELECT article_id FROM article_entities
        WHERE canonical_name = coalesce(getvariable('team'), 'Liverpool F.C.'))
  AND a.article_id IN (
        SELECT article_id FROM article_entities
        WHERE canonical_name = coalesce(getvariable('competition'), 'Premier League'))
ORDER BY a.published_at DESC;
