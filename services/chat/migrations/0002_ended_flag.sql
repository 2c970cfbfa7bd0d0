-- Chat service: remember that a chat's end was recorded, so the chat service itself
-- refuses patron and operator messages after it (not only the gateway).

-- Set in the transaction that stores the "The chat was ended by …" system message;
-- read under the same row lock that hands out seqs, so a send either gets a seq below
-- the end marker or is refused.
ALTER TABLE chat_counters ADD COLUMN ended boolean NOT NULL DEFAULT false;

-- Chats whose end was recorded before this migration (their end message then had
-- the cmid "ev:<event id>").
UPDATE chat_counters AS c SET ended = true
WHERE EXISTS (
    SELECT 1 FROM messages AS m
    WHERE m.chat_id = c.chat_id AND m.author_kind = 'system'
      AND (m.cmid = 'ev:ended' OR m.body LIKE 'The chat was ended by %')
);
