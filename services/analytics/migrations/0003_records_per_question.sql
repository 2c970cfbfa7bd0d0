-- Reference Analytics records: one per *question*, so a chat may have several; a
-- record can be backdated, edited and (softly) deleted.
--
-- ra_records, as reports read it (docs/analytics.md, "Reference Analytics records"):
--   id            text   record id (time-ordered)
--   dataset_id    text   the dataset (form) it was recorded in; 'default' for most
--   operator_id   text   the author: the operator who answered the question
--   chat_id       text   the chat it came from; NULL for hand entries (desk, phone, email)
--   department_id text   the chat's department (NULL for most hand entries)
--   "values"      jsonb  field key → value, as stored by kind:
--                          single_choice → the option's text   ("location": "Chat")
--                          multiple_choice → array of option texts
--                          number → JSON number                 ("duration": 12, minutes)
--                          read_scale → JSON integer 1–6        ("read_scale": 3)
--                          datetime → "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" (UTC)
--                          text → string
--                        blank optional fields are absent.
--   answered_at   timestamptz  when the question was answered (now, or backdated):
--                              THE time to report by
--   created_at / created_by    when / by whom it was entered
--   updated_at / updated_by    last change
--   deleted_at / deleted_by    set when deleted: reports must skip these rows
--                              (WHERE deleted_at IS NULL)

DROP INDEX IF EXISTS ra_records_one_per_chat;

ALTER TABLE ra_records
    ADD COLUMN answered_at timestamptz,
    ADD COLUMN created_by text,
    ADD COLUMN updated_by text,
    ADD COLUMN deleted_at timestamptz,
    ADD COLUMN deleted_by text;
UPDATE ra_records SET answered_at = created_at, created_by = operator_id WHERE answered_at IS NULL;
ALTER TABLE ra_records
    ALTER COLUMN answered_at SET NOT NULL,
    ALTER COLUMN answered_at SET DEFAULT now();

CREATE INDEX ra_records_answered ON ra_records (answered_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX ra_records_author_answered ON ra_records (operator_id, answered_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX ra_records_chat_answered ON ra_records (chat_id, answered_at DESC, id DESC) WHERE chat_id IS NOT NULL;
