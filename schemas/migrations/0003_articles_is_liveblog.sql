-- 0003: articles.is_liveblog (issue: extraction). Rows loaded before it read FALSE until refetched.

ALTER TABLE articles ADD COLUMN is_liveblog BOOLEAN DEFAULT FALSE;  -- declared LiveBlogPosting, or a live headline
