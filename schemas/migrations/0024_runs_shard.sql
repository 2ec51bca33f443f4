-- 0024: which shard of the feeds a run took (`pressbox run --shard I/N`, tasks/shard.py); NULL = all feeds.
ALTER TABLE runs ADD COLUMN shard VARCHAR;
