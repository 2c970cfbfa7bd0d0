-- Screenshare requests with the patron's consent. A request is 'pending' until the
-- patron answers; the meeting link is made only when they accept (so no link exists
-- before consent). Kept so that a patron who reloads the widget gets the prompt again.
CREATE TABLE screenshare_requests (
    id text PRIMARY KEY,
    chat_id text NOT NULL,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'accepted', 'declined')),
    operator_id text NOT NULL,
    operator_name text NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    answered_at timestamptz,
    join_url text,
    host_url text,
    provider text,
    CHECK ((state = 'pending') = (answered_at IS NULL)),
    CHECK ((state = 'accepted') = (join_url IS NOT NULL))
);

CREATE INDEX screenshare_requests_by_chat ON screenshare_requests (chat_id, requested_at DESC);
-- At most one pending request per chat: asking again while one waits answers that one.
CREATE UNIQUE INDEX screenshare_requests_one_pending ON screenshare_requests (chat_id) WHERE state = 'pending';
