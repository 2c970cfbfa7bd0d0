-- queue service: departments, operators (memberships, status, monitored departments)
-- and the chat lifecycle queued -> active -> ended -> closed.
-- Runs with search_path = queue.

CREATE TABLE departments (
    id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),  -- slug, safe as a NATS subject token
    name text NOT NULL
);

CREATE TABLE operators (
    id text PRIMARY KEY,                        -- refdesk.ids.new_id()
    username text NOT NULL UNIQUE,              -- trimmed, lower-cased
    full_name text NOT NULL,
    nickname text NOT NULL,                     -- shown to patrons
    password_hash text NOT NULL,                -- Argon2id ($argon2id$...)
    is_admin boolean NOT NULL DEFAULT false,
    status text NOT NULL DEFAULT 'offline' CHECK (status IN ('online', 'offline')),
    status_changed_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE memberships (
    operator_id text NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    department_id text NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    PRIMARY KEY (operator_id, department_id)
);

-- An operator can only monitor a department they belong to (the composite foreign key).
CREATE TABLE monitored_departments (
    operator_id text NOT NULL,
    department_id text NOT NULL,
    PRIMARY KEY (operator_id, department_id),
    FOREIGN KEY (operator_id, department_id) REFERENCES memberships (operator_id, department_id) ON DELETE CASCADE
);
CREATE INDEX monitored_departments_by_department ON monitored_departments (department_id);

CREATE TABLE chats (
    id text PRIMARY KEY,
    department_id text NOT NULL REFERENCES departments (id),
    state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'active', 'ended', 'closed')),
    patron_name text NOT NULL,
    patron_email text,
    question text NOT NULL,
    page_url text,
    queued_at timestamptz NOT NULL DEFAULT now(),
    claimed_at timestamptz,
    ended_at timestamptz,
    closed_at timestamptz,
    claimed_by text REFERENCES operators (id),
    ended_by text CHECK (ended_by IN ('patron', 'operator')),
    CHECK ((claimed_by IS NULL) = (claimed_at IS NULL)),
    CHECK ((ended_by IS NULL) = (ended_at IS NULL)),
    CHECK (state <> 'queued' OR (claimed_by IS NULL AND ended_at IS NULL)),
    CHECK (state <> 'active' OR (claimed_by IS NOT NULL AND ended_at IS NULL)),
    CHECK (state NOT IN ('ended', 'closed') OR ended_at IS NOT NULL),
    CHECK ((state = 'closed') = (closed_at IS NOT NULL))
);

-- The department queue and the board: open chats of a department, oldest first.
CREATE INDEX chats_open_by_department ON chats (department_id, queued_at, id) WHERE state IN ('queued', 'active');
