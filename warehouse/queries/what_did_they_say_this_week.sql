-- What did Gasperini say this week? Every quote of the last 7 days by one person, newest first.
-- Variables: SET VARIABLE person = 'Gasperini'; (a surname or full name, matched ignoring case and
-- accents; the default below is Atalanta's coach on the demo site).
SELECT q.said_at, q.speaker_name, q.role, q.team_name, q.quote, q.title, q.canonical_url
FROM quotes_by_person q
WHERE strip_accents(q.speaker_name) ILIKE '%' || strip_accents(coalesce(getvariable('person'), 'Juric')) || '%'
  AND q.said_at > now() - INTERVAL 7 DAY
ORDER BY q.said_at DESC, q.article_id, q.quote_no;
