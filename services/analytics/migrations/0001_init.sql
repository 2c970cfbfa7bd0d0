-- analytics schema: Reference Analytics datasets and records, and chat facts derived
-- from the queue's and the chat service's events. Times are timestamptz (UTC).

CREATE TABLE datasets (
    id text PRIMARY KEY,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The fields of a dataset's form, shown in `position` order.
CREATE TABLE dataset_fields (
    dataset_id text NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    key text NOT NULL,
    label text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('choice', 'text', 'number')),
    required boolean NOT NULL DEFAULT false,
    options jsonb NOT NULL DEFAULT '[]',
    unit text,
    position integer NOT NULL DEFAULT 0,
    PRIMARY KEY (dataset_id, key)
);

-- One Reference Analytics record per chat and dataset (saving again corrects it);
-- records without a chat (entered by hand) are unconstrained.
CREATE TABLE ra_records (
    id text PRIMARY KEY,
    dataset_id text NOT NULL REFERENCES datasets (id),
    operator_id text NOT NULL,
    chat_id text,
    department_id text,
    "values" jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ra_records_one_per_chat ON ra_records (dataset_id, chat_id) WHERE chat_id IS NOT NULL;
CREATE INDEX ra_records_newest ON ra_records (created_at DESC, id DESC);
CREATE INDEX ra_records_operator ON ra_records (operator_id, created_at DESC);
CREATE INDEX ra_records_chat ON ra_records (chat_id);

-- What the event streams told us about each chat. Every column but chat_id may be
-- unknown for a while: the two streams are consumed independently, in any order.
-- wait_seconds = claimed_at - queued_at, duration_seconds = ended_at - claimed_at,
-- first_response_seconds = first_response_at - claimed_at (seconds).
CREATE TABLE chat_facts (
    chat_id text PRIMARY KEY,
    department_id text,
    patron_name text,
    operator_id text,
    state text CHECK (state IN ('queued', 'active', 'ended', 'closed')),
    queued_at timestamptz,
    claimed_at timestamptz,
    first_response_at timestamptz,
    ended_at timestamptz,
    closed_at timestamptz,
    ended_by text CHECK (ended_by IN ('patron', 'operator')),
    message_count integer NOT NULL DEFAULT 0,
    wait_seconds double precision,
    duration_seconds double precision,
    first_response_seconds double precision,
    missed boolean NOT NULL DEFAULT false,
    observed_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chat_facts_newest ON chat_facts (queued_at DESC NULLS LAST, chat_id DESC);
CREATE INDEX chat_facts_department ON chat_facts (department_id, queued_at DESC NULLS LAST);
CREATE INDEX chat_facts_operator ON chat_facts (operator_id, queued_at DESC NULLS LAST);
