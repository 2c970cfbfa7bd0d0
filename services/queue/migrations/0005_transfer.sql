-- Transfers (LibChat's Transfer Chat, without LibraryH3lp's silent re-claim): the
-- owner of an active chat hands it to another operator or to a department, with a
-- note. The target accepts (or declines); then the target operator — or, for a
-- department, whoever monitoring it claims first — claims it with one conditional
-- UPDATE. The sender stays in the chat as a participant (group chat) or leaves.
-- A transfer is "open" while pending or accepted; at most one per chat.

CREATE TABLE transfers (
    id text PRIMARY KEY,
    chat_id text NOT NULL REFERENCES chats (id),
    state text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'accepted', 'declined', 'cancelled', 'completed', 'ended')),
    from_operator_id text NOT NULL REFERENCES operators (id),
    to_operator_id text REFERENCES operators (id),
    to_department_id text REFERENCES departments (id),
    note text NOT NULL DEFAULT '',
    stay boolean NOT NULL DEFAULT false,
    requested_at timestamptz NOT NULL DEFAULT now(),
    accepted_by text REFERENCES operators (id),
    accepted_at timestamptz,
    finished_by text REFERENCES operators (id),  -- who declined, cancelled or claimed
    finished_at timestamptz,
    CHECK ((to_operator_id IS NULL) <> (to_department_id IS NULL)),
    CHECK ((accepted_by IS NULL) = (accepted_at IS NULL)),
    CHECK (state <> 'accepted' OR accepted_at IS NOT NULL),
    CHECK ((state IN ('pending', 'accepted')) = (finished_at IS NULL))
);

CREATE UNIQUE INDEX transfers_open_per_chat ON transfers (chat_id) WHERE state IN ('pending', 'accepted');
CREATE INDEX transfers_open_to_operator ON transfers (to_operator_id) WHERE state IN ('pending', 'accepted');
CREATE INDEX transfers_open_to_department ON transfers (to_department_id) WHERE state IN ('pending', 'accepted');

-- A transfer as the contract's TransferView shows it (names joined in).
CREATE VIEW transfer_views AS
SELECT t.id, t.chat_id, t.state, t.from_operator_id, f.nickname AS from_operator_name,
       t.to_operator_id, o.nickname AS to_operator_name, t.to_department_id, d.name AS to_department_name,
       t.note, t.stay, t.requested_at, t.accepted_by, t.accepted_at
FROM transfers t
JOIN operators f ON f.id = t.from_operator_id
LEFT JOIN operators o ON o.id = t.to_operator_id
LEFT JOIN departments d ON d.id = t.to_department_id;

-- How many transfers a chat went through (completed ones).
ALTER TABLE chats ADD COLUMN transfer_count integer NOT NULL DEFAULT 0 CHECK (transfer_count >= 0);

-- Operators who stayed in a chat after transferring it: they read and write, only
-- the owner ends it.
CREATE TABLE chat_participants (
    chat_id text NOT NULL REFERENCES chats (id),
    operator_id text NOT NULL REFERENCES operators (id),
    joined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (chat_id, operator_id)
);
CREATE INDEX chat_participants_by_operator ON chat_participants (operator_id);

-- The board lists an operator's own chats whatever their department now.
CREATE INDEX chats_open_by_owner ON chats (claimed_by) WHERE state IN ('active', 'ended');
