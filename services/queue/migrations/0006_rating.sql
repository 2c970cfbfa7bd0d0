-- The patron's rating of an ended chat (1–5) with an optional comment; rating again
-- replaces it. rated_at: when the latest rating was given (UTC).
ALTER TABLE chats
    ADD COLUMN rating smallint CHECK (rating BETWEEN 1 AND 5),
    ADD COLUMN rating_comment text,
    ADD COLUMN rated_at timestamptz;
