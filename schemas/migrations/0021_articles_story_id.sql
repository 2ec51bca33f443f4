-- 0021: articles.story_id (issue 17). Set when the article is loaded; rows loaded before it stay
-- NULL until the article is loaded again (refetched or updated).

ALTER TABLE articles ADD COLUMN story_id VARCHAR;
