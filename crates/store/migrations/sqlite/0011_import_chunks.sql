-- Imports written in chunks (sqlite). Keep in step with ../postgres/0011_import_chunks.sql:
-- same columns.
--
-- A large import is written as many short transactions so that it never holds the writer (or
-- SQLite's write lock) for long: see crates/store/src/outcomes/write.rs. Its event sets are
-- invisible until its last transaction sets `complete` to 1: every reader of
-- utilisation_event_sets leaves out the sets of incomplete imports. Until then the import's
-- `sha256` is a placeholder ('pending ' || id), so that UNIQUE (org_id, sha256) lets only one
-- import of the same file complete. `written_at` (wall clock, microseconds) is stamped by every
-- chunk; NULL while an incomplete import is being removed. An incomplete import not written to
-- for ten minutes was abandoned (its process died): the next import, or the next start-up,
-- removes it and its sets. Imports written before this migration are complete.
ALTER TABLE utilisation_imports ADD COLUMN complete BIGINT NOT NULL DEFAULT 1 CHECK (complete IN (0, 1));
ALTER TABLE utilisation_imports ADD COLUMN written_at BIGINT;
