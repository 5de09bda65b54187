-- 005: water levels — the gauges collection, their readings, alerts and
-- the deliveries of alerts; the sensor role; the actions of readings and
-- alerts in the audit log.

CREATE TABLE gauges (
    id         text COLLATE "C" PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._-]{1,100}$'),
    version    bigint NOT NULL CHECK (version > 0),
    geom       geometry(Geometry, 4326),
    properties jsonb NOT NULL CHECK (jsonb_typeof(properties) = 'object'),
    updated    timestamptz NOT NULL,
    township   text GENERATED ALWAYS AS (properties->>'township') STORED,
    kind       text GENERATED ALWAYS AS (properties->>'kind') STORED,
    river      text GENERATED ALWAYS AS (properties->>'river') STORED
);
CREATE INDEX gauges_geom_idx ON gauges USING gist (geom);
CREATE INDEX gauges_properties_idx ON gauges USING gin (properties jsonb_path_ops);
CREATE INDEX gauges_township_idx ON gauges (township);
CREATE INDEX gauges_kind_idx ON gauges (kind);
CREATE INDEX gauges_river_idx ON gauges (river);
INSERT INTO collection_state (collection) VALUES ('gauges');

-- The sensor role (geo.RoleSensor), between public and crew.
ALTER TABLE audit DROP CONSTRAINT audit_actor_role_check,
    ADD CONSTRAINT audit_actor_role_check CHECK (actor_role IN ('public', 'sensor', 'crew', 'planner', 'admin'));
ALTER TABLE observations DROP CONSTRAINT observations_actor_role_check,
    ADD CONSTRAINT observations_actor_role_check CHECK (actor_role IN ('public', 'sensor', 'crew', 'planner', 'admin'));
ALTER TABLE tokens DROP CONSTRAINT tokens_role_check,
    ADD CONSTRAINT tokens_role_check CHECK (role IN ('public', 'sensor', 'crew', 'planner', 'admin'));
ALTER TABLE location_proposals DROP CONSTRAINT location_proposals_actor_role_check,
    ADD CONSTRAINT location_proposals_actor_role_check CHECK (actor_role IN ('public', 'sensor', 'crew', 'planner', 'admin'));
ALTER TABLE location_proposals DROP CONSTRAINT location_proposals_decider_role_check,
    ADD CONSTRAINT location_proposals_decider_role_check CHECK (decider_role IN ('public', 'sensor', 'crew', 'planner', 'admin'));
ALTER TABLE signin_codes DROP CONSTRAINT signin_codes_issuer_role_check,
    ADD CONSTRAINT signin_codes_issuer_role_check CHECK (issuer_role IN ('public', 'sensor', 'crew', 'planner', 'admin'));
-- The actions of readings and alerts (geo.Actions).
ALTER TABLE audit DROP CONSTRAINT audit_action_check,
    ADD CONSTRAINT audit_action_check CHECK (action IN ('create', 'replace', 'patch', 'delete', 'import', 'seed', 'observe', 'revoke',
        'link', 'propose', 'accept', 'reject', 'reading', 'open', 'acknowledge', 'escalate', 'resolve'));

-- readings: one row per level of a gauge at a time. The primary key
-- (gauge_id, at) is at once the rule "one reading per gauge and time"
-- (a second one is a unique violation, a Conflict), the index of a
-- chart (a range of one gauge's times) and of the latest reading (the
-- last entry of a gauge's range: ORDER BY at DESC LIMIT 1 reads one
-- index entry). gauge_id has no foreign key, like observations: the
-- series outlives a gauge deleted by mistake. id comes from an identity
-- column and has no index of its own (nothing looks a reading up by id).
CREATE TABLE readings (
    id         bigint GENERATED ALWAYS AS IDENTITY,
    gauge_id   text COLLATE "C" NOT NULL CHECK (gauge_id ~ '^[A-Za-z0-9._-]{1,100}$'),
    at         timestamptz NOT NULL,
    level      double precision NOT NULL CHECK (level BETWEEN -500 AND 9000),
    source     text NOT NULL CHECK (source IN ('manual', 'telemetry', 'import')),
    note       text NOT NULL DEFAULT '' CHECK (char_length(note) <= 500),
    received   timestamptz NOT NULL,
    actor_id   text NOT NULL,
    actor_name text NOT NULL,
    actor_role text NOT NULL CHECK (actor_role IN ('public', 'sensor', 'crew', 'planner', 'admin')),
    PRIMARY KEY (gauge_id, at)
);

-- alerts: the whole geo.Alert as jsonb (its steps are its history), with
-- the columns that queries and the rule below need. The partial unique
-- index is the rule "at most one unresolved alert per gauge and kind":
-- when the evaluators of two API instances open the same alert at once,
-- one INSERT … ON CONFLICT DO NOTHING inserts and the other finds the
-- first one's row (it waits for that transaction to end), so an alert is
-- never opened — nor delivered — twice.
CREATE TABLE alerts (
    id       text COLLATE "C" PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._-]{1,100}$'),
    gauge_id text COLLATE "C" NOT NULL,
    kind     text NOT NULL CHECK (kind IN ('over_flood_limit', 'over_warning', 'over_guaranteed', 'rising_fast', 'silent')),
    state    text NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    opened   timestamptz NOT NULL,
    version  bigint NOT NULL CHECK (version > 0),
    alert    jsonb NOT NULL CHECK (jsonb_typeof(alert) = 'object')
);
CREATE UNIQUE INDEX alerts_one_unresolved_idx ON alerts (gauge_id, kind) WHERE state <> 'resolved';
CREATE INDEX alerts_opened_idx ON alerts (opened DESC, id DESC);
CREATE INDEX alerts_gauge_idx ON alerts (gauge_id, opened DESC);

-- deliveries: each attempt to deliver an alert's step over an outbound
-- channel, with its result. A log written by the system (no audit).
CREATE TABLE deliveries (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id      text COLLATE "C" NOT NULL,
    alert_version bigint NOT NULL CHECK (alert_version > 0),
    channel       text NOT NULL CHECK (char_length(channel) BETWEEN 1 AND 100),
    ok            boolean NOT NULL,
    attempts      integer NOT NULL CHECK (attempts > 0),
    detail        text NOT NULL,
    batch         integer NOT NULL CHECK (batch > 0),
    at            timestamptz NOT NULL
);
CREATE INDEX deliveries_alert_idx ON deliveries (alert_id, id);

---- create above / drop below ----

DROP TABLE deliveries;
DROP TABLE alerts;
DROP TABLE readings;
ALTER TABLE audit DROP CONSTRAINT audit_action_check,
    ADD CONSTRAINT audit_action_check CHECK (action IN ('create', 'replace', 'patch', 'delete', 'import', 'seed', 'observe', 'revoke',
        'link', 'propose', 'accept', 'reject'));
ALTER TABLE signin_codes DROP CONSTRAINT signin_codes_issuer_role_check,
    ADD CONSTRAINT signin_codes_issuer_role_check CHECK (issuer_role IN ('public', 'crew', 'planner', 'admin'));
ALTER TABLE location_proposals DROP CONSTRAINT location_proposals_decider_role_check,
    ADD CONSTRAINT location_proposals_decider_role_check CHECK (decider_role IN ('public', 'crew', 'planner', 'admin'));
ALTER TABLE location_proposals DROP CONSTRAINT location_proposals_actor_role_check,
    ADD CONSTRAINT location_proposals_actor_role_check CHECK (actor_role IN ('public', 'crew', 'planner', 'admin'));
ALTER TABLE tokens DROP CONSTRAINT tokens_role_check,
    ADD CONSTRAINT tokens_role_check CHECK (role IN ('public', 'crew', 'planner', 'admin'));
ALTER TABLE observations DROP CONSTRAINT observations_actor_role_check,
    ADD CONSTRAINT observations_actor_role_check CHECK (actor_role IN ('public', 'crew', 'planner', 'admin'));
ALTER TABLE audit DROP CONSTRAINT audit_actor_role_check,
    ADD CONSTRAINT audit_actor_role_check CHECK (actor_role IN ('public', 'crew', 'planner', 'admin'));
DELETE FROM collection_state WHERE collection = 'gauges';
DROP TABLE gauges;
