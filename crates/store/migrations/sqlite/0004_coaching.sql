-- Health coaching (sqlite). Keep in step with ../postgres/0004_coaching.sql: same tables, same
-- columns, same keys. Every row carries org_id, which leads every key and index.

-- A coach's caseload limit and working hours (`mon=09:00-17:00;tue=…`, Europe/London).
CREATE TABLE coach_profiles (
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    caseload_limit BIGINT NOT NULL CHECK (caseload_limit >= 0),
    hours TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);

-- Referrals into coaching and the waiting list. priority orders the list (smaller first):
-- urgency, then activation at referral (lowest first); then received_at.
CREATE TABLE coaching_referrals (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    source TEXT NOT NULL,
    referrer TEXT,
    reason TEXT NOT NULL,
    urgency TEXT NOT NULL CHECK (urgency IN ('urgent', 'soon', 'routine')),
    activation_level BIGINT,
    priority BIGINT NOT NULL,
    pref_modes TEXT NOT NULL,
    pref_times TEXT,
    pref_language TEXT,
    status TEXT NOT NULL CHECK (status IN ('waiting', 'allocated', 'accepted', 'withdrawn')),
    coach_id TEXT,
    episode_id TEXT,
    received_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    allocated_at BIGINT,
    allocated_by TEXT,
    decided_at BIGINT,
    last_decline_reason TEXT,
    withdraw_reason TEXT,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, person_id) REFERENCES people (org_id, id)
);
CREATE INDEX coaching_referrals_queue ON coaching_referrals (org_id, status, priority, received_at, id);
CREATE INDEX coaching_referrals_by_person ON coaching_referrals (org_id, person_id);
CREATE INDEX coaching_referrals_by_coach ON coaching_referrals (org_id, coach_id, status);

-- A coaching episode: from a coach accepting a referral to discharge.
CREATE TABLE coaching_episodes (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    coach_id TEXT NOT NULL,
    referral_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    max_sessions BIGINT NOT NULL,
    opened_at BIGINT NOT NULL,
    closed_at BIGINT,
    closed_by TEXT,
    summary TEXT,
    onward TEXT,
    remeasure_due TEXT,
    reopened_at BIGINT,
    reopened_by TEXT,
    reopen_reason TEXT,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, person_id) REFERENCES people (org_id, id),
    FOREIGN KEY (org_id, coach_id) REFERENCES users (org_id, id)
);
CREATE INDEX coaching_episodes_by_coach ON coaching_episodes (org_id, coach_id, status);
CREATE INDEX coaching_episodes_by_person ON coaching_episodes (org_id, person_id);

-- Sessions. starts_at/ends_at are UTC microseconds; status 'booked', 'attended',
-- 'did_not_attend', 'cancelled_by_person', 'cancelled_by_coach'.
CREATE TABLE coaching_sessions (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    episode_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    coach_id TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    mode TEXT NOT NULL,
    place TEXT,
    status TEXT NOT NULL,
    length_reason TEXT,
    extra_reason TEXT,
    notes TEXT,
    notes_shared BIGINT NOT NULL CHECK (notes_shared IN (0, 1)),
    cancel_reason TEXT,
    booked_by TEXT NOT NULL,
    booked_at BIGINT NOT NULL,
    recorded_by TEXT,
    recorded_at BIGINT,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, episode_id) REFERENCES coaching_episodes (org_id, id),
    CHECK (ends_at > starts_at)
);
CREATE INDEX coaching_sessions_by_coach ON coaching_sessions (org_id, coach_id, starts_at);
CREATE INDEX coaching_sessions_by_person ON coaching_sessions (org_id, person_id, starts_at);
CREATE INDEX coaching_sessions_by_episode ON coaching_sessions (org_id, episode_id, starts_at);

-- Goals in the person's own words.
CREATE TABLE goals (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    episode_id TEXT,
    own_words TEXT NOT NULL,
    category TEXT NOT NULL,
    what TEXT,
    how_much TEXT,
    when_text TEXT,
    how_often TEXT,
    importance BIGINT NOT NULL CHECK (importance BETWEEN 0 AND 10),
    confidence BIGINT NOT NULL CHECK (confidence BETWEEN 0 AND 10),
    outcome TEXT,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, person_id) REFERENCES people (org_id, id)
);
CREATE INDEX goals_by_person ON goals (org_id, person_id);
CREATE INDEX goals_by_episode ON goals (org_id, episode_id);

-- A goal's action plan: small steps.
CREATE TABLE goal_steps (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    goal_id TEXT NOT NULL,
    step TEXT NOT NULL,
    done BIGINT NOT NULL CHECK (done IN (0, 1)),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, goal_id) REFERENCES goals (org_id, id)
);
CREATE INDEX goal_steps_by_goal ON goal_steps (org_id, goal_id, created_at);

-- Progress reviews (goal attainment −2 … +2), usually at a session.
CREATE TABLE goal_reviews (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    goal_id TEXT NOT NULL,
    session_id TEXT,
    attainment BIGINT NOT NULL CHECK (attainment BETWEEN -2 AND 2),
    note TEXT,
    reviewed_at BIGINT NOT NULL,
    reviewed_by TEXT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, goal_id) REFERENCES goals (org_id, id)
);
CREATE INDEX goal_reviews_by_goal ON goal_reviews (org_id, goal_id, reviewed_at);

-- Private calendar feed addresses: only the SHA-256 of the secret is kept.
CREATE TABLE calendar_feeds (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, token_hash),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
