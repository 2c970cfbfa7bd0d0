-- Chat facts for reports (docs/analytics.md): everything a report needs per chat, folded
-- order-free from QUEUE_EVENTS, CHAT_EVENTS and TICKETS_EVENTS (services/analytics/facts.py),
-- the keys of the events already applied (each applied once), and operators' status
-- changes (coverage). Run `python -m services.analytics rebuild` after upgrading to fill
-- the new columns from the streams.

ALTER TABLE chat_facts
    ADD COLUMN department_at timestamptz,
    ADD COLUMN page_url text,
    ADD COLUMN first_operator_id text,
    ADD COLUMN owner_at timestamptz,
    ADD COLUMN dismissed_at timestamptz,
    ADD COLUMN dismissed_by text,
    ADD COLUMN operators text[] NOT NULL DEFAULT '{}',
    ADD COLUMN transfers integer NOT NULL DEFAULT 0,
    ADD COLUMN messages_patron integer NOT NULL DEFAULT 0,
    ADD COLUMN messages_operator integer NOT NULL DEFAULT 0,
    ADD COLUMN messages_system integer NOT NULL DEFAULT 0,
    ADD COLUMN internal_notes integer NOT NULL DEFAULT 0,
    ADD COLUMN rating integer,
    ADD COLUMN rating_comment text,
    ADD COLUMN rated_at timestamptz,
    ADD COLUMN ticket_ids text[] NOT NULL DEFAULT '{}',
    ADD COLUMN ticketed_at timestamptz,
    ADD COLUMN outcome text NOT NULL DEFAULT 'open'
        CHECK (outcome IN ('answered', 'missed', 'dismissed', 'open'));

CREATE INDEX chat_facts_queued ON chat_facts (queued_at);

-- Keys of applied events (facts.event_key): "chat:<event_id>", "message:<message id>",
-- "status:<event_id>", "ticket:<ticket id>".
CREATE TABLE fact_events (
    key text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- Every operator status change (OperatorStatusEvent): coverage = time Online while
-- monitoring a department, up to the operator's next change.
CREATE TABLE operator_status_log (
    event_id text PRIMARY KEY,
    operator_id text NOT NULL,
    occurred_at timestamptz NOT NULL,
    status text NOT NULL,
    monitored text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX operator_status_log_time ON operator_status_log (operator_id, occurred_at);
