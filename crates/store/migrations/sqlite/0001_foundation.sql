-- Foundation schema (SQLite). Keep in step with ../postgres/0001_foundation.sql: same tables,
-- same columns, same keys. Every row carries org_id; every key is a UUID in text form.

CREATE TABLE organisations (
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE people (
    org_id TEXT NOT NULL REFERENCES organisations (id),
    id TEXT NOT NULL,
    nhs_number TEXT,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    search_name TEXT NOT NULL,
    date_of_birth TEXT NOT NULL,
    sex TEXT NOT NULL,
    postcode TEXT,
    email TEXT,
    phone TEXT,
    consent_phone BIGINT NOT NULL CHECK (consent_phone IN (0, 1)),
    consent_sms BIGINT NOT NULL CHECK (consent_sms IN (0, 1)),
    consent_email BIGINT NOT NULL CHECK (consent_email IN (0, 1)),
    consent_post BIGINT NOT NULL CHECK (consent_post IN (0, 1)),
    preferred_language TEXT NOT NULL,
    interpreter_needed BIGINT NOT NULL CHECK (interpreter_needed IN (0, 1)),
    communication_needs TEXT,
    what_matters TEXT,
    deprivation_decile BIGINT,
    gp_practice TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, nhs_number)
);
CREATE INDEX people_by_name ON people (org_id, search_name);
CREATE INDEX people_by_family ON people (org_id, family_name, given_name, id);
CREATE INDEX people_by_dob ON people (org_id, date_of_birth);

CREATE TABLE person_conditions (
    org_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    condition TEXT NOT NULL,
    PRIMARY KEY (org_id, person_id, condition),
    FOREIGN KEY (org_id, person_id) REFERENCES people (org_id, id)
);

CREATE TABLE users (
    org_id TEXT NOT NULL REFERENCES organisations (id),
    id TEXT NOT NULL,
    username TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    person_id TEXT,
    password_hash TEXT NOT NULL,
    active BIGINT NOT NULL CHECK (active IN (0, 1)),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, username),
    FOREIGN KEY (org_id, person_id) REFERENCES people (org_id, id)
);

-- The one global lookup: which organisation a sign-in name belongs to. On a distributed
-- engine this is a small reference table; every other table is distributed by org_id.
CREATE TABLE login_names (
    username TEXT NOT NULL PRIMARY KEY,
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL
);

CREATE TABLE sessions (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);

CREATE TABLE caseload (
    org_id TEXT NOT NULL,
    coach_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, coach_id, person_id),
    FOREIGN KEY (org_id, coach_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, person_id) REFERENCES people (org_id, id)
);
CREATE INDEX caseload_by_person ON caseload (org_id, person_id);

CREATE TABLE audit_heads (
    org_id TEXT NOT NULL PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE audit_log (
    org_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    actor_user_id TEXT,
    actor_role TEXT,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT,
    person_id TEXT,
    source TEXT,
    detail TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (org_id, seq)
);
CREATE INDEX audit_by_person ON audit_log (org_id, person_id, seq);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
