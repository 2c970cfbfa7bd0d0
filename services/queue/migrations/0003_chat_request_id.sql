-- Idempotent chat creation: the patron page sends a random request id with its
-- question and the same id again when it retries (a lost answer, a timeout). One
-- chat per request id, so a retry finds the chat the first attempt created.
ALTER TABLE chats ADD COLUMN request_id text CHECK (request_id ~ '^[A-Za-z0-9_-]{16,64}$');
CREATE UNIQUE INDEX chats_by_request_id ON chats (request_id) WHERE request_id IS NOT NULL;
