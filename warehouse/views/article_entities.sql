-- article_entities: one row per article x entity, for "who was covered, where, when".
-- Grain: (article_id, entity_id). Columns: article_id, title, canonical_url, published_at,
-- feed_id, feed_name, site_name, entity_id, canonical_name, label (the label the mentions in this
-- article carry; the most frequent one if they differ), mentions (count in the article),
-- first_char (offset of the first mention).
CREATE OR REPLACE VIEW article_entities AS
SELECT
    a.article_id,
    a.title,
    a.canonical_url,
    a.published_at,
    a.feed_id,
    f.name AS feed_name,
    a.site_name,
    m.entity_id,
    e.canonical_name,
    mode(m.label) AS label,
    count(*) AS mentions,
    min(m.start_char) AS first_char
FROM mentions m
JOIN articles a USING (article_id)
JOIN entities e USING (entity_id)
LEFT JOIN feeds f ON f.feed_id = a.feed_id
GROUP BY ALL;
