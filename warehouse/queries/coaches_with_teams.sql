-- Who coaches whom: each coach named in the warehouse with the teams the knowledge base says they
-- coach or coached (coaching_spells; current spells first), and how many articles name both.
-- Variables: none. For mere co-mention, see coaches_co_mentioned_with_teams.sql.
WITH named AS (
    SELECT entity_id, count(DISTINCT article_id) AS articles
    FROM mentions
    WHERE label = 'COACH'
    GROUP BY ALL
)
SELECT
    s.coach_name AS coach,
    s.team_name AS team,
    s.start_year,
    s.end_year,
    n.articles AS coach_articles,
    (SELECT count(DISTINCT c.article_id)
     FROM mentions c JOIN mentions t ON t.article_id = c.article_id
     WHERE c.entity_id = s.coach_entity_id AND t.entity_id = s.team_entity_id) AS articles_naming_both
FROM coaching_spells s
JOIN named n ON n.entity_id = s.coach_entity_id
ORDER BY n.articles DESC, coach, s.end_year IS NOT NULL, s.end_year DESC, team
LIMIT 50;
