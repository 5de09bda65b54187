-- 004: field mode — idempotency keys, one-time sign-in codes, the
-- accuracy and photo of a status report, location proposals.

-- The audit log records four more actions (geo.Actions).
ALTER TABLE audit DROP CONSTRAINT audit_action_check;
ALTER TABLE audit ADD CONSTRAINT audit_action_check CHECK (action IN (
    'create', 'replace', 'patch', 'delete', 'import', 'seed', 'observe', 'revoke',
    'link', 'propose', 'accept', 'reject'));

-- idempotency_keys remembers the Idempotency-Key of each write and its
-- answer (geo.IdempotencyStore). The primary key is the unique constraint
-- that lets one request of several with the same key claim it. A claim is
-- committed on its own (status NULL: in flight until expires, the end of
-- its lease); the write it answers sets status, header and body in its own
-- transaction, so the write and the record of its answer commit together.
-- expires is then claimed + 7 days; pruning deletes by the expires index.
CREATE TABLE idempotency_keys (
    key         text COLLATE "C" PRIMARY KEY CHECK (key ~ '^[ -~]{1,255}$'),
    fingerprint bytea NOT NULL CHECK (length(fingerprint) = 32),
    nonce       bytea NOT NULL CHECK (length(nonce) = 16),
    claimed     timestamptz NOT NULL,
    expires     timestamptz NOT NULL CHECK (expires > claimed),
    status      integer CHECK (status BETWEEN 200 AND 299),
    header      jsonb CHECK (jsonb_typeof(header) = 'object'),
    body        bytea CHECK (length(body) <= 2097152),
    CHECK ((status IS NULL) = (header IS NULL) AND (status IS NULL) = (body IS NULL))
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires);

-- signin_codes are one-time sign-in codes (geo.SignInStore): a token to
-- come, with its id, name, role and lifetime; only the code's SHA-256 is
-- stored. Exchanging a code sets used and inserts the token in one
-- transaction; the UPDATE … WHERE used IS NULL is what makes it single use.
CREATE TABLE signin_codes (
    hash        bytea PRIMARY KEY CHECK (length(hash) = 32),
    token_id    text COLLATE "C" NOT NULL UNIQUE CHECK (token_id ~ '^[A-Za-z0-9._-]{1,100}$'),
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    role        text NOT NULL CHECK (role IN ('crew', 'planner', 'admin')),
    token_ttl   interval CHECK (token_ttl > interval '0'),
    created     timestamptz NOT NULL,
    expires     timestamptz NOT NULL CHECK (expires > created AND expires <= created + interval '24 hours'),
    used        timestamptz,
    revoked     timestamptz,
    issuer_id   text NOT NULL,
    issuer_name text NOT NULL,
    issuer_role text NOT NULL CHECK (issuer_role IN ('public', 'crew', 'planner', 'admin'))
);

-- A status report may say how accurate its position is.
ALTER TABLE observations
    ADD COLUMN accuracy_m double precision CHECK (accuracy_m > 0 AND accuracy_m <= 100000),
    ADD CONSTRAINT observations_accuracy_needs_position CHECK (accuracy_m IS NULL OR position IS NOT NULL);

-- photos holds the one photo a report may have, cleaned by the server
-- (geo.CleanPhoto): bytea in a table of its own rather than large
-- objects, so that a photo is written and rolled back with its report,
-- dumped and replicated with everything else, and never orphaned; 2 MiB
-- is far below bytea's limit. JPEG does not compress: STORAGE EXTERNAL
-- keeps it out of line without trying.
CREATE TABLE photos (
    observation_id bigint PRIMARY KEY REFERENCES observations (id),
    feature_id     text COLLATE "C" NOT NULL,
    data           bytea NOT NULL CHECK (length(data) BETWEEN 1 AND 2097152),
    width          integer NOT NULL CHECK (width BETWEEN 1 AND 2048),
    height         integer NOT NULL CHECK (height BETWEEN 1 AND 2048),
    sha256         bytea NOT NULL CHECK (length(sha256) = 32)
);
ALTER TABLE photos ALTER COLUMN data SET STORAGE EXTERNAL;

-- location_proposals are crews' proposed positions for features that have
-- none or a poor one (geo.FieldStore). position is WGS-84 as the phone's
-- Geolocation API gives it. No foreign key to the feature: like reports,
-- proposals outlive a deleted feature as evidence.
CREATE TABLE location_proposals (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    collection   text NOT NULL,
    feature_id   text COLLATE "C" NOT NULL CHECK (feature_id ~ '^[A-Za-z0-9._-]{1,100}$'),
    position     geometry(Point, 4326) NOT NULL,
    accuracy_m   double precision NOT NULL CHECK (accuracy_m > 0 AND accuracy_m <= 100000),
    method       text NOT NULL CHECK (method IN ('auto', 'accepted', 'dragged')),
    note         text NOT NULL DEFAULT '' CHECK (char_length(note) <= 500),
    observed_at  timestamptz,
    received     timestamptz NOT NULL,
    actor_id     text NOT NULL,
    actor_name   text NOT NULL,
    actor_role   text NOT NULL CHECK (actor_role IN ('public', 'crew', 'planner', 'admin')),
    status       text NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected', 'superseded')),
    decided      timestamptz,
    decider_id   text,
    decider_name text,
    decider_role text CHECK (decider_role IN ('public', 'crew', 'planner', 'admin')),
    reason       text NOT NULL DEFAULT '' CHECK (char_length(reason) <= 500),
    CHECK ((status = 'pending') = (decided IS NULL))
);
CREATE INDEX location_proposals_status_idx ON location_proposals (status, id);
CREATE INDEX location_proposals_feature_idx ON location_proposals (collection, feature_id, id);

---- create above / drop below ----

DROP TABLE location_proposals;
DROP TABLE photos;
ALTER TABLE observations DROP CONSTRAINT observations_accuracy_needs_position, DROP COLUMN accuracy_m;
DROP TABLE signin_codes;
DROP TABLE idempotency_keys;
ALTER TABLE audit DROP CONSTRAINT audit_action_check;
ALTER TABLE audit ADD CONSTRAINT audit_action_check CHECK (action IN (
    'create', 'replace', 'patch', 'delete', 'import', 'seed', 'observe', 'revoke'));
