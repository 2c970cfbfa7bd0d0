-- The actor's nickname at the time of each audit entry (for people reading the trail;
-- actor_id stays the reference).
ALTER TABLE ra_record_audit ADD COLUMN actor_name text;
