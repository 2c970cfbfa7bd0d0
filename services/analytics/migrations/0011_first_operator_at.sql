-- The time of the event that named a chat's first operator: a claim that completes a
-- transfer keeps the first claim's claimed_at but names the new owner, so the first
-- operator is the claimed_by of the earliest event, not of the earliest claimed_at.
-- (Run `python -m services.analytics rebuild` to fill it for existing chats.)
ALTER TABLE chat_facts ADD COLUMN first_operator_at timestamptz;
