-- 0008: who coaches (or coached) whom, from the knowledge base; rewritten whenever the warehouse is prepared.
CREATE TABLE coaching_spells (
    coach_entity_id VARCHAR NOT NULL,
    team_entity_id  VARCHAR NOT NULL,
    start_year      INTEGER,
    end_year        INTEGER,
    coach_name      VARCHAR,
    team_name       VARCHAR,
    source          VARCHAR
);
