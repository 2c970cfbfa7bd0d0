-- Dismiss: an operator removes an unanswerable or spam chat from every dashboard with
-- a note. The chat is closed like any other (ended_at, closed_at, ended_by 'operator')
-- and keeps who dismissed it and why, so transcripts and statistics show it as
-- dismissed. The nickname is kept as it was then (like a message's author name).
ALTER TABLE chats ADD COLUMN dismissed_by text REFERENCES operators (id);
ALTER TABLE chats ADD COLUMN dismissed_by_name text;
ALTER TABLE chats ADD COLUMN dismiss_note text;
ALTER TABLE chats ADD CONSTRAINT chats_dismissed_is_closed
    CHECK (dismissed_by IS NULL OR (state = 'closed' AND dismissed_by_name IS NOT NULL AND dismiss_note IS NOT NULL));
