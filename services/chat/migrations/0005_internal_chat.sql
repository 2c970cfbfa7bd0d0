-- Chat service: Internal Chat — rooms of operators (All Staff, one standing room per
-- department, direct rooms of two), their messages and each operator's read marker.

-- last_seq is the room's counter: bumped (row lock) in the transaction that stores a
-- message, so a room's seqs are 1, 2, 3 … with no gap.
CREATE TABLE internal_rooms (
    id text PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('all_staff', 'department', 'direct')),
    department_id text,
    member_a text,                      -- direct rooms: the two operator ids, member_a < member_b
    member_b text,
    last_seq bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    last_posted_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'department') = (department_id IS NOT NULL)),
    CHECK ((kind = 'direct') = (member_a IS NOT NULL AND member_b IS NOT NULL)),
    CHECK (member_a < member_b)
);
-- One All Staff room, one room per department, one room per pair of operators.
CREATE UNIQUE INDEX internal_rooms_one_all_staff ON internal_rooms (kind) WHERE kind = 'all_staff';
CREATE UNIQUE INDEX internal_rooms_one_per_department ON internal_rooms (department_id) WHERE kind = 'department';
CREATE UNIQUE INDEX internal_rooms_one_per_pair ON internal_rooms (member_a, member_b) WHERE kind = 'direct';
CREATE INDEX internal_rooms_by_member_b ON internal_rooms (member_b) WHERE kind = 'direct';

CREATE TABLE internal_messages (
    id text PRIMARY KEY,
    room_id text NOT NULL REFERENCES internal_rooms (id),
    seq bigint NOT NULL CHECK (seq > 0),
    cmid text NOT NULL,
    author_id text NOT NULL,
    author_name text NOT NULL,
    body text NOT NULL CHECK (length(body) > 0),
    sent_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT internal_messages_seq_unique UNIQUE (room_id, seq),
    -- A retried send (same client message id from the same operator) finds the original.
    CONSTRAINT internal_messages_cmid_unique UNIQUE (room_id, author_id, cmid)
);

-- Where each operator has read each room up to (no row = nothing read).
CREATE TABLE internal_reads (
    room_id text NOT NULL REFERENCES internal_rooms (id),
    operator_id text NOT NULL,
    last_read_seq bigint NOT NULL DEFAULT 0 CHECK (last_read_seq >= 0),
    PRIMARY KEY (room_id, operator_id)
);
