-- The audit trail of Reference Analytics records: one row per create, update and
-- delete, written in the same transaction as the change. before/after are the record
-- as services.analytics.ra.snapshot() renders it (dataset_id, operator_id, chat_id,
-- department_id, answered_at, values, deleted); `changed` lists what differs.

CREATE TABLE ra_record_audit (
    id bigserial PRIMARY KEY,
    record_id text NOT NULL REFERENCES ra_records (id),
    action text NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    actor_id text NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    before jsonb,
    after jsonb,
    changed jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX ra_record_audit_record ON ra_record_audit (record_id, id);
