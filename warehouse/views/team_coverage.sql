-- team_coverage: one row per team, with who and what it is covered with.
-- Grain: entity_id (label TEAM). Columns: entity_id, canonical_name, articles, mentions,
-- first_seen, last_seen (publication times), coaches (who coaches or coached it, from coaching_spells:
-- current first, then by end year), top_teams, co_mentioned_coaches, top_competitions (up to five
-- names each named in the same articles, most articles first: co-mention, not a relation).
CREATE OR REPLACE VIEW team_coverage AS
WITH team_articles AS (
    SELECT m.entity_id, m.article_id, count(*) AS mentions
    FROM mentions m
    WHERE m.label = 'TEAM'
    GROUP BY ALL
),
co AS (
    SELECT t.entity_id, m.label, e.canonical_name, count(DISTINCT m.article_id) AS n
    FROM team_articles t
    JOIN mentions m ON m.article_id = t.article_id AND m.entity_id <> t.entity_id
    JOIN entities e ON e.entity_id = m.entity_id
    WHERE m.label IN ('TEAM', 'COACH', 'COMPETITION')
    GROUP BY ALL
),
spells AS (
    SELECT team_entity_id AS entity_id,
           list(coach_name ORDER BY end_year IS NOT NULL, end_year DESC, coach_name) AS coaches
    FROM coaching_spells
    GROUP BY ALL
),
ranked AS (
    SELECT entity_id, label, list(canonical_name ORDER BY n DESC, canonical_name) AS names
    FROM co
    GROUP BY ALL
)
SELECT
    t.entity_id,
    e.canonical_name,
    count(DISTINCT t.article_id) AS articles,
    sum(t.mentions) AS mentions,
    min(coalesce(a.published_at, a.fetched_at)) AS first_seen,
    max(coalesce(a.published_at, a.fetched_at)) AS last_seen,
    any_value(sp.coaches) AS coaches,
    any_value(rt.names[1:5]) AS top_teams,
    any_value(rc.names[1:5]) AS co_mentioned_coaches,
    any_value(rp.names[1:5]) AS top_competitions
FROM team_articles t
JOIN entities e ON e.entity_id = t.entity_id
JOIN articles a ON a.article_id = t.article_id
LEFT JOIN spells sp ON sp.entity_id = t.entity_id
LEFT JOIN ranked rt ON rt.entity_id = t.entity_id AND rt.label = 'TEAM'
LEFT JOIN ranked rc ON rc.entity_id = t.entity_id AND rc.label = 'COACH'
LEFT JOIN ranked rp ON rp.entity_id = t.entity_id AND rp.label = 'COMPETITION'
GROUP BY t.entity_id, e.canonical_name;
