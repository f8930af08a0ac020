-- Utilisation of care, for outcome evaluation (sqlite). Keep in step with ../postgres/0003_outcomes.sql:
-- same tables, same columns, same keys.

-- One row per imported file (or generated batch): idempotency by the file's SHA-256 per
-- organisation, and provenance for every event (events name their import).
CREATE TABLE utilisation_imports (
    org_id TEXT NOT NULL REFERENCES organisations (id),
    id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    file_name TEXT NOT NULL,
    source TEXT NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    events_imported BIGINT NOT NULL,
    imported_at BIGINT NOT NULL,
    imported_by TEXT,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, sha256)
);

-- Utilisation events, counted per person, type, minor flag, day and import (n = how many
-- identical rows). Keyed so that a person's events are stored together in the order the
-- evaluation groups them (one ordered scan, no sort). No foreign key to people: the importer
-- checks every person exists, and a per-row check would halve the bulk import rate.
-- minor is 1 only for self-referred minor A&E attendances (0 for every other type).
CREATE TABLE utilisation_events (
    org_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    event_type TEXT NOT NULL CHECK (event_type IN ('gp_appointment', 'gp_dna', 'ae_attendance', 'emergency_admission', 'outpatient_attendance', 'outpatient_dna')),
    minor BIGINT NOT NULL CHECK (minor IN (0, 1)),
    event_date TEXT NOT NULL,
    import_id TEXT NOT NULL,
    n BIGINT NOT NULL CHECK (n >= 1),
    PRIMARY KEY (org_id, person_id, event_type, minor, event_date, import_id)
) WITHOUT ROWID;
