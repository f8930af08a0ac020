-- Service directory, referrals to other services, and versioned care and support plans
-- (PostgreSQL). Keep in step with ../sqlite/0005_plans.sql: same tables, same columns.

-- The directory of services an organisation refers people to. Lists (conditions, modes,
-- languages) are stored as space-separated codes with a leading and trailing space, so that
-- "has this code" is one LIKE '% code %' on both engines.
CREATE TABLE services (
    org_id TEXT NOT NULL REFERENCES organisations (id),
    id TEXT NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    search_text TEXT NOT NULL,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    eligibility TEXT,
    conditions TEXT NOT NULL,
    self_referral BIGINT NOT NULL CHECK (self_referral IN (0, 1)),
    referral_method TEXT,
    email TEXT,
    phone TEXT,
    address TEXT,
    website TEXT,
    opening_times TEXT,
    modes TEXT NOT NULL,
    languages TEXT NOT NULL,
    active BIGINT NOT NULL CHECK (active IN (0, 1)),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX services_by_kind ON services (org_id, kind, name);

-- A referral of a person to a directory service, with its current status; each step is a
-- row of service_referral_steps.
CREATE TABLE service_referrals (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    service_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('drafted', 'sent', 'accepted', 'declined', 'completed', 'withdrawn')),
    reason TEXT NOT NULL,
    notes TEXT,
    respond_by TEXT,
    complete_by TEXT,
    outcome TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, person_id) REFERENCES people (org_id, id),
    FOREIGN KEY (org_id, service_id) REFERENCES services (org_id, id)
);
CREATE INDEX service_referrals_by_person ON service_referrals (org_id, person_id, created_at);
CREATE INDEX service_referrals_by_status ON service_referrals (org_id, status, respond_by, complete_by);

CREATE TABLE service_referral_steps (
    org_id TEXT NOT NULL,
    referral_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    status TEXT NOT NULL,
    on_date TEXT NOT NULL,
    at BIGINT NOT NULL,
    by_user TEXT NOT NULL,
    by_name TEXT NOT NULL,
    note TEXT,
    PRIMARY KEY (org_id, referral_id, seq),
    FOREIGN KEY (org_id, referral_id) REFERENCES service_referrals (org_id, id)
);

-- Every save of a care and support plan is a new row: nothing is overwritten. The primary key
-- on (org_id, person_id, version) is what refuses a second save based on the same version.
CREATE TABLE care_plan_versions (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    author_id TEXT NOT NULL,
    author_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    what_matters TEXT NOT NULL,
    strengths TEXT,
    needs TEXT,
    preferences TEXT,
    goals TEXT,
    actions TEXT NOT NULL,
    support TEXT NOT NULL,
    support_notes TEXT,
    contingency TEXT,
    review_date TEXT NOT NULL,
    agreed BIGINT NOT NULL CHECK (agreed IN (0, 1)),
    agreed_on TEXT,
    PRIMARY KEY (org_id, person_id, version),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, person_id) REFERENCES people (org_id, id)
);
