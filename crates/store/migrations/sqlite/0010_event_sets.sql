-- Utilisation events packed per person and import (sqlite). Keep in step with the other backend's
-- 0010_event_sets.sql: same table, same columns, same keys.
--
-- One row per (organisation, person, import) holding that person's events from that import,
-- packed four bytes an event-day (format in crates/store/src/event_sets.rs and
-- docs/outcomes.md). The per-event table `utilisation_events` (0003) was twenty times slower
-- to write and to read at population scale; it is kept only so that a database created before
-- this migration can be converted when it is opened (Store::open moves its rows here and
-- empties it). No foreign key to people: the importer checks every person exists.
CREATE TABLE utilisation_event_sets (
    org_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    import_id TEXT NOT NULL,
    -- The first and last event days (ISO 8601), so evaluations skip sets outside their window.
    first_date TEXT NOT NULL,
    last_date TEXT NOT NULL,
    -- The latest A&E attendance or emergency admission, for the outreach list.
    last_unplanned TEXT,
    events BIGINT NOT NULL CHECK (events >= 1),
    packed BLOB NOT NULL,
    PRIMARY KEY (org_id, person_id, import_id)
) WITHOUT ROWID;
