-- Self-management education (postgres). Keep in step with ../sqlite/0007_education.sql.

-- The catalogue: what is offered. Conditions and languages are space-separated keys
-- (conditions.rs keys, ISO 639-1 codes); topics one per line.
CREATE TABLE edu_programmes (
    org_id TEXT NOT NULL REFERENCES organisations (id),
    id TEXT NOT NULL,
    title TEXT COLLATE "C" NOT NULL,
    summary TEXT NOT NULL,
    provider TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('online', 'one_to_one', 'group')),
    sessions BIGINT NOT NULL CHECK (sessions >= 1),
    session_minutes BIGINT NOT NULL,
    completion_min BIGINT NOT NULL CHECK (completion_min >= 1 AND completion_min <= sessions),
    audience TEXT NOT NULL,
    topics TEXT NOT NULL,
    languages TEXT NOT NULL,
    accessibility TEXT,
    conditions TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (org_id, id)
);

-- One cohort of a group or one-to-one programme. `enrolled` counts the places taken; it is
-- changed only inside the transaction that holds the run row (see store/src/education.rs).
CREATE TABLE edu_runs (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    programme_id TEXT NOT NULL,
    label TEXT COLLATE "C" NOT NULL,
    venue TEXT,
    joining TEXT,
    capacity BIGINT NOT NULL CHECK (capacity >= 1),
    enrolled BIGINT NOT NULL CHECK (enrolled >= 0 AND enrolled <= capacity),
    first_starts_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, programme_id) REFERENCES edu_programmes (org_id, id)
);
CREATE INDEX edu_runs_programme ON edu_runs (org_id, programme_id);

CREATE TABLE edu_sessions (
    org_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    n BIGINT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL CHECK (ends_at > starts_at),
    PRIMARY KEY (org_id, run_id, n),
    FOREIGN KEY (org_id, run_id) REFERENCES edu_runs (org_id, id)
);

CREATE TABLE edu_facilitators (
    org_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (org_id, run_id, user_id),
    FOREIGN KEY (org_id, run_id) REFERENCES edu_runs (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX edu_facilitators_user ON edu_facilitators (org_id, user_id);

-- A person's place on a run, or on its waiting list. One row per person and run: withdrawing
-- and enrolling again reuses it. `joined_at` orders the waiting list (first come, first served).
CREATE TABLE edu_enrolments (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('enrolled', 'waiting', 'withdrawn')),
    route TEXT NOT NULL CHECK (route IN ('referral', 'self')),
    referred_by TEXT,
    joined_at BIGINT NOT NULL,
    promoted_at BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, run_id, person_id),
    FOREIGN KEY (org_id, run_id) REFERENCES edu_runs (org_id, id),
    FOREIGN KEY (org_id, person_id) REFERENCES people (org_id, id)
);
CREATE INDEX edu_enrolments_person ON edu_enrolments (org_id, person_id);
CREATE INDEX edu_enrolments_waiting ON edu_enrolments (org_id, run_id, status, joined_at);

CREATE TABLE edu_attendance (
    org_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    n BIGINT NOT NULL,
    person_id TEXT NOT NULL,
    present BIGINT NOT NULL CHECK (present IN (0, 1)),
    recorded_by TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, run_id, n, person_id),
    FOREIGN KEY (org_id, run_id, n) REFERENCES edu_sessions (org_id, run_id, n)
);

CREATE TABLE edu_feedback (
    org_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    rating BIGINT NOT NULL CHECK (rating >= 1 AND rating <= 5),
    helped TEXT,
    better TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, run_id, person_id),
    FOREIGN KEY (org_id, run_id) REFERENCES edu_runs (org_id, id)
);

-- What a person is told (e.g. a place came free): shown on their home and courses pages.
CREATE TABLE edu_notices (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX edu_notices_person ON edu_notices (org_id, person_id, created_at);

-- Online self-paced content: modules of pages; resources one "label|https-url" a line.
CREATE TABLE edu_pages (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    programme_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    module_title TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    video_url TEXT,
    resources TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, programme_id, position),
    FOREIGN KEY (org_id, programme_id) REFERENCES edu_programmes (org_id, id)
);

CREATE TABLE edu_progress (
    org_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    page_id TEXT NOT NULL,
    programme_id TEXT NOT NULL,
    completed_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, person_id, page_id),
    FOREIGN KEY (org_id, page_id) REFERENCES edu_pages (org_id, id),
    FOREIGN KEY (org_id, person_id) REFERENCES people (org_id, id)
);
CREATE INDEX edu_progress_programme ON edu_progress (org_id, programme_id);
