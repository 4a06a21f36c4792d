-- offboard's own tables on PostgreSQL. JSON is TEXT (not jsonb) so that it is kept byte for
-- byte: audit hashes cover it.

CREATE TABLE hr_events (
    id          BIGSERIAL   PRIMARY KEY,
    event_id    TEXT        NOT NULL UNIQUE,
    source      TEXT        NOT NULL,
    type        TEXT        NOT NULL,
    digest      TEXT        NOT NULL,
    body        TEXT        NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    case_id     BIGINT      NOT NULL DEFAULT 0,
    outcome     TEXT        NOT NULL DEFAULT ''
);

CREATE TABLE cases (
    id           BIGSERIAL   PRIMARY KEY,
    worker_id    TEXT        NOT NULL,
    email        TEXT        NOT NULL,
    email_norm   TEXT        NOT NULL,
    person       TEXT        NOT NULL,
    state        TEXT        NOT NULL,
    urgent       BOOLEAN     NOT NULL,
    source       TEXT        NOT NULL,
    event_id     TEXT        NOT NULL,
    reason       TEXT        NOT NULL,
    effective_at TIMESTAMPTZ NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    ticket_key   TEXT        NOT NULL,
    plans        TEXT        NOT NULL,
    systems      TEXT        NOT NULL,
    job_id       BIGINT      NOT NULL DEFAULT 0
);
CREATE INDEX cases_worker_id ON cases (worker_id, id);
CREATE INDEX cases_email_norm ON cases (email_norm, id);
CREATE INDEX cases_state ON cases (state, id);

CREATE TABLE steps (
    id          BIGSERIAL   PRIMARY KEY,
    case_id     BIGINT      NOT NULL REFERENCES cases (id),
    seq         INTEGER     NOT NULL,
    action      TEXT        NOT NULL,
    depends_on  TEXT        NOT NULL,
    state       TEXT        NOT NULL,
    attempts    INTEGER     NOT NULL,
    last_error  TEXT        NOT NULL,
    applied_at  TIMESTAMPTZ,
    verified_at TIMESTAMPTZ,
    evidence    TEXT,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX steps_case_id ON steps (case_id, seq);

-- Append-only: the code has no statement that updates or deletes these rows.
CREATE TABLE audit_records (
    seq       BIGINT      PRIMARY KEY,
    at        TIMESTAMPTZ NOT NULL,
    actor     TEXT        NOT NULL,
    case_id   BIGINT      NOT NULL,
    kind      TEXT        NOT NULL,
    message   TEXT        NOT NULL,
    data      TEXT,
    prev_hash TEXT        NOT NULL,
    hash      TEXT        NOT NULL
);
CREATE INDEX audit_records_case_id ON audit_records (case_id, seq);

-- The chain's head, kept apart from the records so that deleting the newest records shows.
-- Appends lock this row, which serialises them across replicas.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT  NOT NULL,
    hash TEXT    NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

CREATE TABLE ticket_updates (
    id         BIGSERIAL   PRIMARY KEY,
    case_id    BIGINT      NOT NULL REFERENCES cases (id),
    kind       TEXT        NOT NULL,
    payload    TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    done_at    TIMESTAMPTZ,
    attempts   INTEGER     NOT NULL DEFAULT 0,
    last_error TEXT        NOT NULL DEFAULT ''
);
CREATE INDEX ticket_updates_pending ON ticket_updates (case_id, id) WHERE done_at IS NULL;

-- One delivery of a case's ticket updates at a time, across replicas: a lease that expires,
-- so a crashed holder cannot block the ticket for ever.
CREATE TABLE ticket_leases (
    case_id     BIGINT      PRIMARY KEY REFERENCES cases (id),
    holder      TEXT        NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
