-- Presence: when a gateway last said the operator had a dashboard open. An Online
-- operator whose dashboards have all gone quiet for the presence timeout is set
-- Offline by the queue service, so patrons never wait for someone who left.
ALTER TABLE operators ADD COLUMN last_seen_at timestamptz;
UPDATE operators SET last_seen_at = now() WHERE status = 'online';
