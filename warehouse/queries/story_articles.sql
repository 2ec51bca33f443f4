-- Every article of the most covered story (or of one story: SET VARIABLE story = 's...';), in the
-- order they were published, with how each joined the story and through which earlier article.
SELECT a.published_at, a.feed_id, a.title, s.reason, s.similarity, v.title AS linked_to, a.canonical_url
FROM articles a
JOIN story_signatures s USING (article_id)
LEFT JOIN articles v ON v.article_id = s.via_article_id
WHERE a.story_id = coalesce(getvariable('story'),
                            (SELECT story_id FROM stories ORDER BY outlets DESC, articles DESC, first_seen DESC
                             LIMIT 1))
ORDER BY a.published_at, a.article_id;
