-- 002: the ledger — audit log, change counter, crews' status reports
-- (observations) and the API's bearer tokens.

-- change_counter is one row holding the last audit seq. Every write
-- transaction takes it last, after its other locks (UPDATE … RETURNING
-- locks the row until commit), so that seqs are handed out in commit
-- order: a transaction that got seq n holds the row until it has
-- committed, and the next writer waits for that. A reader that sees seq n
-- therefore sees every seq below it. A sequence could not promise that:
-- nextval is not transactional, and a larger seq could commit, and be
-- read, before a smaller one that commits later. A rolled-back write
-- rolls its increment back too.
CREATE TABLE change_counter (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    seq      bigint NOT NULL DEFAULT 0 CHECK (seq >= 0)
);
INSERT INTO change_counter DEFAULT VALUES;

-- audit has one row per feature (or token) written, in the same
-- transaction as the write. before and after are the whole feature as
-- GeoJSON (with "version" and "updated" members), NULL where there is
-- none; for tokens they never hold the hash. The log is append-only for
-- the application.
CREATE TABLE audit (
    seq        bigint PRIMARY KEY CHECK (seq > 0),
    time       timestamptz NOT NULL,
    actor_id   text NOT NULL,
    actor_name text NOT NULL,
    actor_role text NOT NULL CHECK (actor_role IN ('public', 'crew', 'planner', 'admin')),
    collection text NOT NULL,
    feature_id text COLLATE "C" NOT NULL,
    action     text NOT NULL CHECK (action IN ('create', 'replace', 'patch', 'delete', 'import', 'seed', 'observe', 'revoke')),
    version    bigint NOT NULL CHECK (version >= 0),
    before     jsonb CHECK (jsonb_typeof(before) = 'object'),
    after      jsonb CHECK (jsonb_typeof(after) = 'object')
);
CREATE INDEX audit_feature_idx ON audit (collection, feature_id, seq);
CREATE INDEX audit_time_idx ON audit (time);

-- observations are the crews' status reports on waterlogging points.
-- feature_id has no foreign key on purpose: deleting a point must not
-- delete the reports made on it. They are evidence for the review after a
-- flood (who reported what, when, from where), and the audit log already
-- keeps the point as it was when deleted. at is when the report was made:
-- the phone's observed_at when given (a report queued during an outage),
-- else the time it was received; histories are ordered by it.
CREATE TABLE observations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feature_id  text COLLATE "C" NOT NULL CHECK (feature_id ~ '^[A-Za-z0-9._-]{1,100}$'),
    received    timestamptz NOT NULL,
    observed_at timestamptz,
    at          timestamptz NOT NULL GENERATED ALWAYS AS (coalesce(observed_at, received)) STORED,
    depth_cm    double precision NOT NULL CHECK (depth_cm >= 0 AND depth_cm <= 500),
    status      text NOT NULL CHECK (status IN ('clear', 'ponding', 'closed')),
    note        text NOT NULL DEFAULT '' CHECK (char_length(note) <= 500),
    position    geometry(Point, 4326),
    actor_id    text NOT NULL,
    actor_name  text NOT NULL,
    actor_role  text NOT NULL CHECK (actor_role IN ('public', 'crew', 'planner', 'admin'))
);
CREATE INDEX observations_feature_at_idx ON observations (feature_id, at DESC, id DESC);

-- tokens are the API's bearer tokens: only the SHA-256 of the secret is
-- stored, and looked up through its unique index.
CREATE TABLE tokens (
    id      text COLLATE "C" PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._-]{1,100}$'),
    name    text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    role    text NOT NULL CHECK (role IN ('public', 'crew', 'planner', 'admin')),
    hash    bytea NOT NULL UNIQUE CHECK (length(hash) = 32),
    created timestamptz NOT NULL,
    expires timestamptz CHECK (expires > created),
    revoked timestamptz
);

---- create above / drop below ----

DROP TABLE tokens;
DROP TABLE observations;
DROP TABLE audit;
DROP TABLE change_counter;
