-- quotes_by_person: every direct quote whose speaker is a person, with the article it is from.
-- Grain: (article_id, quote_no). Columns: speaker_entity_id, speaker_name, role, team_entity_id,
-- team_name, said_at (publication time, else fetch time), article_id, quote_no, quote (the words),
-- cue (the attributing verb), title, canonical_url, site_name. Filter by speaker_name or
-- speaker_entity_id; quotes of one person across articles share speaker_entity_id when the tagger
-- linked the name to the knowledge base.
CREATE OR REPLACE VIEW quotes_by_person AS
SELECT
    q.speaker_entity_id,
    q.speaker_name,
    q.role,
    q.team_entity_id,
    q.team_name,
    coalesce(a.published_at, a.fetched_at) AS said_at,
    q.article_id,
    q.quote_no,
    q.text AS quote,
    q.cue,
    a.title,
    a.canonical_url,
    a.site_name
FROM quotes q
JOIN articles a USING (article_id)
WHERE q.speaker_kind = 'person';
