-- How many batches a run staged in <db>.staging/ instead of loading (the warehouse was held).
ALTER TABLE runs ADD COLUMN batches_staged INTEGER DEFAULT 0;
