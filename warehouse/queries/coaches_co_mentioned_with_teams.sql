-- Which coaches are named in the same articles as which teams (co-mention, not who coaches whom: see coaches_with_teams.sql)? Most articles first.
-- Variables: none.
SELECT
    CASE WHEN label_a = 'COACH' THEN name_a ELSE name_b END AS coach,
    CASE WHEN label_a = 'COACH' THEN name_b ELSE name_a END AS team,
    articles,
    last_seen
FROM co_mentions
WHERE (label_a = 'COACH' AND label_b = 'TEAM') OR (label_a = 'TEAM' AND label_b = 'COACH')
ORDER BY articles DESC, coach, team
LIMIT 50;
