-- 0010: quotes (issue 15): every direct quote of an article with its speaker, role and team.
-- Computed from the article's text and mentions (tasks/quotes.py) and replaced with them, so
-- `pressbox retag` recomputes it. Offsets are character offsets into articles.body.

CREATE TABLE quotes (
    article_id        VARCHAR NOT NULL,
    quote_no          INTEGER NOT NULL,   -- 1, 2, ... in text order
    text              VARCHAR NOT NULL,   -- the words inside the quotation marks
    start_char        INTEGER NOT NULL,
    end_char          INTEGER NOT NULL,
    speaker_name      VARCHAR,            -- canonical name (person or body), a description, or NULL
    speaker_entity_id VARCHAR,            -- the speaker's entity (mentions.entity_id), when known
    speaker_kind      VARCHAR NOT NULL,   -- person | organisation | unknown
    role              VARCHAR,            -- manager | coach | player | chairman | executive | official | referee | pundit | other
    team_entity_id    VARCHAR,            -- the team or body the speaker speaks for
    team_name         VARCHAR,            -- its canonical name (the team may not be mentioned by name)
    cue               VARCHAR,            -- the attributing verb or phrase as written: said, told, according to
    PRIMARY KEY (article_id, quote_no)
);
