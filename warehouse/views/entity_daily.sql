-- entity_daily: how much each entity was covered, day by day.
-- Grain: (day, entity_id). Columns: day (UTC date of publication, else of fetching), entity_id,
-- canonical_name, label (the entity's label), mentions (mentions that day), articles (distinct
-- articles that day).
CREATE OR REPLACE VIEW entity_daily AS
SELECT
    CAST(coalesce(a.published_at, a.fetched_at) AT TIME ZONE 'UTC' AS DATE) AS day,
    e.entity_id,
    e.canonical_name,
    e.label,
    count(*) AS mentions,
    count(DISTINCT m.article_id) AS articles
FROM mentions m
JOIN articles a USING (article_id)
JOIN entities e USING (entity_id)
GROUP BY ALL;
