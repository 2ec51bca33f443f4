-- The matches with the most coverage: how many articles report each result, and who scored.
SELECT r.date, r.competition, r.home, r.score, r.away, r.articles,
       list(DISTINCT s.player_name ORDER BY s.player_name) FILTER (WHERE s.player_name IS NOT NULL) AS scorers
FROM results r
LEFT JOIN match_scorers s USING (match_id)
GROUP BY ALL
ORDER BY r.articles DESC, r.date DESC
LIMIT 20;
