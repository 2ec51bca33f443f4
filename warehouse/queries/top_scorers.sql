-- Top scorers as the reports name them (each goal or try counted once per match, whatever the number of reports).
SELECT player_name, kind, count(*) AS scores, count(DISTINCT match_id) AS matches
FROM (SELECT DISTINCT match_id, player_name, kind, minute FROM match_scorers)
GROUP BY ALL
ORDER BY scores DESC, player_name
LIMIT 20;
