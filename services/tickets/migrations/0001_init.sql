-- Tickets service: questions answered later (by email).

CREATE TABLE tickets (
    id text PRIMARY KEY,
    department_id text NOT NULL,
    status text NOT NULL DEFAULT 'New' CHECK (status IN ('New', 'Open', 'Pending', 'Closed')),
    subject text NOT NULL,
    patron_name text NOT NULL,
    patron_email text,
    question text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX tickets_department_status ON tickets (department_id, status);
