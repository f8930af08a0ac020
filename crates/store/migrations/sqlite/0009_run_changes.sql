-- Course runs changed after they were created (sqlite). Keep in step with ../postgres/0009_run_changes.sql.

-- A cancelled run keeps its row (and its sessions, attendance and feedback) for the record;
-- everyone who had a place or was waiting is withdrawn and told, in the same transaction.
ALTER TABLE edu_runs ADD COLUMN cancelled_at BIGINT;
ALTER TABLE edu_runs ADD COLUMN cancel_reason TEXT;
