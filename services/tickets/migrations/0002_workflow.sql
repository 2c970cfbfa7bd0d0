-- Tickets workflow: owners, departments by name, the chat a ticket came from, the
-- per-ticket reply-address secret, the kept chat transcript, and the thread. A message
-- that was emailed names its mail_outbox row (mail_id) and its Message-ID; an emailed
-- patron answer keeps its own Message-ID (a second delivery is stored once).

ALTER TABLE tickets
    ADD COLUMN department_name text NOT NULL DEFAULT '',
    ADD COLUMN chat_id text,
    ADD COLUMN owner_operator_id text,
    ADD COLUMN owner_operator_name text,
    ADD COLUMN assigned_department text,
    ADD COLUMN last_message_from text NOT NULL DEFAULT 'patron' CHECK (last_message_from IN ('patron', 'staff')),
    ADD COLUMN reply_secret text NOT NULL DEFAULT md5(random()::text),
    ADD COLUMN request_id text,
    ADD COLUMN page_url text,
    ADD COLUMN transcript jsonb NOT NULL DEFAULT '[]';

CREATE UNIQUE INDEX tickets_request_id ON tickets (request_id) WHERE request_id IS NOT NULL;
CREATE INDEX tickets_updated ON tickets (updated_at DESC, id DESC);
CREATE INDEX tickets_owner ON tickets (owner_operator_id) WHERE owner_operator_id IS NOT NULL;
CREATE INDEX tickets_chat ON tickets (chat_id) WHERE chat_id IS NOT NULL;

CREATE TABLE ticket_messages (
    id text PRIMARY KEY,
    ticket_id text NOT NULL REFERENCES tickets (id),
    kind text NOT NULL CHECK (kind IN ('patron', 'reply', 'internal_note', 'system')),
    author text NOT NULL,
    author_id text,
    body text NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    mail_id text,
    mail_message_id text
);

CREATE INDEX ticket_messages_thread ON ticket_messages (ticket_id, sent_at, id);
CREATE UNIQUE INDEX ticket_messages_mail_id ON ticket_messages (mail_message_id) WHERE mail_message_id IS NOT NULL;
