-- Chat service: messages with per-chat sequence numbers, canned messages.

-- The last seq handed out in each chat. Bumped with an upsert in the transaction that
-- stores the message, so concurrent sends to one chat queue on this row and the seqs
-- of a chat are 1, 2, 3 … with no gap (a rolled-back send rolls its bump back too).
CREATE TABLE chat_counters (
    chat_id text PRIMARY KEY,
    last_seq bigint NOT NULL CHECK (last_seq > 0)
);

CREATE TABLE messages (
    id text PRIMARY KEY,
    chat_id text NOT NULL,
    seq bigint NOT NULL CHECK (seq > 0),
    cmid text NOT NULL,
    author_kind text NOT NULL CHECK (author_kind IN ('patron', 'operator', 'system')),
    author_id text,
    author_name text NOT NULL,
    body text NOT NULL CHECK (length(body) > 0),
    sent_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT messages_seq_unique UNIQUE (chat_id, seq),
    -- A retried send (same client message id) finds the original instead of a second row.
    CONSTRAINT messages_cmid_unique UNIQUE (chat_id, author_kind, cmid)
);

CREATE TABLE canned_messages (
    id text PRIMARY KEY,
    department_id text NOT NULL,
    title text NOT NULL,
    body text NOT NULL,
    is_welcome boolean NOT NULL DEFAULT false,
    position integer NOT NULL DEFAULT 0
);

CREATE INDEX canned_messages_department ON canned_messages (department_id);
-- At most one welcome message per department.
CREATE UNIQUE INDEX canned_messages_one_welcome ON canned_messages (department_id) WHERE is_welcome;
