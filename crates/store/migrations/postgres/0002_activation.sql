-- Activation measurement (PostgreSQL). Keep in step with ../sqlite/0002_activation.sql.

-- Instrument definitions as data, per organisation and immutable per version: a stored
-- assessment always names the exact row it was scored with.
CREATE TABLE instruments (
    org_id TEXT NOT NULL REFERENCES organisations (id),
    id TEXT NOT NULL,
    instrument_key TEXT NOT NULL,
    version TEXT NOT NULL,
    title TEXT NOT NULL,
    definition TEXT NOT NULL,
    active BIGINT NOT NULL CHECK (active IN (0, 1)),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, instrument_key, version)
);

CREATE TABLE assessments (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    instrument_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('in_progress', 'completed')),
    mode TEXT NOT NULL,
    recorded_by TEXT,
    answers TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    completed_at BIGINT,
    items_answered BIGINT,
    raw_score BIGINT,
    measure DOUBLE PRECISION,
    standard_error DOUBLE PRECISION,
    score DOUBLE PRECISION,
    score_se DOUBLE PRECISION,
    level BIGINT,
    flags TEXT,
    not_scored_reason TEXT,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, person_id) REFERENCES people (org_id, id),
    FOREIGN KEY (org_id, instrument_id) REFERENCES instruments (org_id, id)
);
CREATE INDEX assessments_by_person ON assessments (org_id, person_id, completed_at);

-- Organisation settings held as data (re-measurement interval, recommendation rules, …).
CREATE TABLE org_settings (
    org_id TEXT NOT NULL REFERENCES organisations (id),
    setting_key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, setting_key)
);
