-- Internal notes: staff-only messages inside a patron chat (LibChat's "Message Patron /
-- Internal Note" toggle). They take a seq like any message, so the staff transcript is
-- one ordered conversation; every read for a patron filters them out here, in SQL.
ALTER TABLE messages ADD COLUMN internal boolean NOT NULL DEFAULT false;
ALTER TABLE messages ADD CONSTRAINT messages_patrons_write_no_notes CHECK (NOT (internal AND author_kind = 'patron'));
