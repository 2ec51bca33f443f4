-- results: one line per match, the way a results page prints it.
-- Grain: one row per match (matches.match_id). Columns: date (the match date read from the reports),
-- competition (canonical name), home, score ('2-1', home first; the score most reports state),
-- away, articles (reports that state the score), match_id, date_certain, penalties (shoot-out),
-- conflicting (some report states another score), reported (articles whose subject is this result).
CREATE OR REPLACE VIEW results AS
SELECT
    m.match_date AS date,
    coalesce(c.canonical_name, m.competition) AS competition,
    coalesce(h.canonical_name, m.home_name) AS home,
    m.home_score || '-' || m.away_score AS score,
    coalesce(w.canonical_name, m.away_name) AS away,
    m.reports AS articles,
    m.match_id,
    m.date_certain,
    m.penalties,
    m.conflicting,
    (SELECT count(*) FROM match_reports r WHERE r.match_id = m.match_id AND r.reported) AS reported
FROM matches m
LEFT JOIN entities h ON h.entity_id = m.home_entity_id
LEFT JOIN entities w ON w.entity_id = m.away_entity_id
LEFT JOIN entities c ON c.entity_id = m.competition_entity_id;
