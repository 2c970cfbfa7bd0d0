-- Reference Analytics datasets edited by admins: six field kinds, a default value, a
-- number range, archived fields (left out of the form, kept for old records) and
-- archived datasets.
--
-- dataset_fields.kind: single_choice | multiple_choice | text | number | datetime |
-- read_scale ('choice' fields of 0001 become 'single_choice').
-- dataset_fields.default_value: the JSON value a new form starts with (or null).

ALTER TABLE datasets
    ADD COLUMN description text NOT NULL DEFAULT '',
    ADD COLUMN archived boolean NOT NULL DEFAULT false,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

ALTER TABLE dataset_fields DROP CONSTRAINT IF EXISTS dataset_fields_kind_check;
UPDATE dataset_fields SET kind = 'single_choice' WHERE kind = 'choice';
ALTER TABLE dataset_fields
    ADD CONSTRAINT dataset_fields_kind_check
        CHECK (kind IN ('single_choice', 'multiple_choice', 'text', 'number', 'datetime', 'read_scale')),
    ADD COLUMN default_value jsonb,
    ADD COLUMN min_value double precision DEFAULT 0,
    ADD COLUMN max_value double precision,
    ADD COLUMN archived boolean NOT NULL DEFAULT false;
