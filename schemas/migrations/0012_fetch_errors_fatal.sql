-- A fetch_errors row is fatal (the page or feed yielded nothing this run) unless it is a note on a
-- page that did load after a repair: text_repaired, jsonld_invalid, body_truncated, redirect_body_dropped.
ALTER TABLE fetch_errors ADD COLUMN fatal BOOLEAN DEFAULT true;
