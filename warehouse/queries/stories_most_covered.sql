-- The stories of the last week that the most outlets ran, with who ran them and how long they ran.
-- Variables: SET VARIABLE days = 7; (default below when unset).
SELECT headline, outlets, articles, feeds, first_seen, hours_running, lead_entities
FROM story_coverage
WHERE last_seen > now() - to_days(CAST(coalesce(getvariable('days'), 7) AS INTEGER))
ORDER BY outlets DESC, articles DESC, first_seen DESC
LIMIT 20;
