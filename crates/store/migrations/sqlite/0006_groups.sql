-- Peer support (SQLite). Keep in step with ../postgres/0006_groups.sql.

-- A peer-support group: formal (run by trained staff and volunteers) or informal (a named peer
-- leader), its focus, where it meets, who may join, and when: a recurrence rule (RFC 5545
-- subset, local Europe/London times) from `first_date`, with closures. Sessions are not stored
-- until one is touched (see group_sessions).
CREATE TABLE peer_groups (
    org_id TEXT NOT NULL REFERENCES organisations (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('formal', 'informal')),
    peer_leader TEXT,
    focus TEXT NOT NULL,
    interest TEXT,
    mode TEXT NOT NULL CHECK (mode IN ('in_person', 'online')),
    venue TEXT,
    place TEXT,
    joining_details TEXT,
    who_may_join TEXT NOT NULL,
    code_of_conduct TEXT,
    first_date TEXT NOT NULL,
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL,
    rrule TEXT NOT NULL,
    closures TEXT NOT NULL,
    capacity BIGINT NOT NULL CHECK (capacity > 0),
    walk_in_places BIGINT NOT NULL CHECK (walk_in_places >= 0),
    attendees_per_volunteer BIGINT NOT NULL CHECK (attendees_per_volunteer > 0),
    required_training TEXT NOT NULL,
    active BIGINT NOT NULL CHECK (active IN (0, 1)),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (org_id, id)
);

CREATE TABLE group_members (
    org_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, group_id, person_id),
    FOREIGN KEY (org_id, group_id) REFERENCES peer_groups (org_id, id),
    FOREIGN KEY (org_id, person_id) REFERENCES people (org_id, id)
);
CREATE INDEX group_members_by_person ON group_members (org_id, person_id);

-- One occurrence, stored the first time it is touched (signed in, booked, cancelled or moved),
-- keyed by the date the rule gave it. The counters are the capacity guarantee: every admission
-- is a conditional UPDATE of this row (`... WHERE walk_ins + booked < capacity`), so exactly
-- `capacity` people get in however many devices sign people in at once.
CREATE TABLE group_sessions (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    original_date TEXT NOT NULL,
    session_date TEXT NOT NULL,
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('scheduled', 'cancelled')),
    note TEXT,
    capacity BIGINT NOT NULL CHECK (capacity > 0),
    walk_in_places BIGINT NOT NULL CHECK (walk_in_places >= 0),
    booked BIGINT NOT NULL CHECK (booked >= 0),
    walk_ins BIGINT NOT NULL CHECK (walk_ins >= 0),
    signed_in BIGINT NOT NULL CHECK (signed_in >= 0),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, group_id, original_date),
    FOREIGN KEY (org_id, group_id) REFERENCES peer_groups (org_id, id)
);
CREATE INDEX group_sessions_by_date ON group_sessions (org_id, session_date);

CREATE TABLE session_bookings (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('booked', 'cancelled')),
    booked_at BIGINT NOT NULL,
    cancelled_at BIGINT,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, session_id) REFERENCES group_sessions (org_id, id),
    FOREIGN KEY (org_id, person_id) REFERENCES people (org_id, id)
);
CREATE UNIQUE INDEX session_bookings_one ON session_bookings (org_id, session_id, person_id);
CREATE INDEX session_bookings_by_person ON session_bookings (org_id, person_id);

-- Who came: a registered person (person_id) or a walk-in known only by first name.
CREATE TABLE session_attendance (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    person_id TEXT,
    first_name TEXT NOT NULL,
    walk_in BIGINT NOT NULL CHECK (walk_in IN (0, 1)),
    had_booking BIGINT NOT NULL CHECK (had_booking IN (0, 1)),
    contact TEXT,
    signed_in_at BIGINT NOT NULL,
    signed_in_by TEXT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, session_id) REFERENCES group_sessions (org_id, id)
);
CREATE UNIQUE INDEX session_attendance_once ON session_attendance (org_id, session_id, person_id);
CREATE INDEX session_attendance_by_person ON session_attendance (org_id, person_id);

-- Activities within a session (one-to-one chats, creative workshops, talks), each with its own
-- smaller capacity and facilitator; places per session are a counter row like the session's.
CREATE TABLE group_activities (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    name TEXT NOT NULL,
    capacity BIGINT NOT NULL CHECK (capacity > 0),
    facilitator TEXT,
    active BIGINT NOT NULL CHECK (active IN (0, 1)),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, group_id) REFERENCES peer_groups (org_id, id)
);

CREATE TABLE session_activity_places (
    org_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    capacity BIGINT NOT NULL CHECK (capacity > 0),
    taken BIGINT NOT NULL CHECK (taken >= 0),
    PRIMARY KEY (org_id, session_id, activity_id)
);

CREATE TABLE activity_signups (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    attendance_id TEXT NOT NULL,
    signed_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, session_id, activity_id, attendance_id)
);

-- People who run sessions: training records with expiry, and the rota.
CREATE TABLE training_records (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    course TEXT NOT NULL,
    completed_on TEXT NOT NULL,
    expires_on TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX training_by_user ON training_records (org_id, user_id);

CREATE TABLE rota_entries (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    session_date TEXT NOT NULL,
    user_id TEXT NOT NULL,
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL,
    duty TEXT NOT NULL CHECK (duty IN ('staff', 'volunteer')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX rota_by_session ON rota_entries (org_id, group_id, session_date);
CREATE INDEX rota_by_user ON rota_entries (org_id, user_id, session_date);
