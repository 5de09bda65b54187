-- 001: the collections of geo.Schemas() and their state.
--
-- CREATE EXTENSION needs a superuser (or a role the DBA allowed); where the
-- application role may not create extensions, the DBA runs this statement
-- once beforehand and IF NOT EXISTS makes it a no-op here.
CREATE EXTENSION IF NOT EXISTS postgis;

-- Every collection table has the same five stored columns:
--   id          COLLATE "C" so that ORDER BY id is byte order, as in Go and
--               in the embedded store, whatever the database's locale;
--   version     counts writes to the feature, from 1;
--   geom        NULL where the location is unknown;
--   properties  the feature's properties as validated by its geo.Schema;
--   updated     time of the last write;
-- then one STORED generated column per Filterable scalar property, typed so
-- that filters compare values, not JSON text (Integer properties are bigint:
-- geo allows integers up to 2^53). A GIN index (jsonb_path_ops, which
-- serves the @> operator) on properties answers the StringList filters.

CREATE TABLE waterlogging_points (
    id         text COLLATE "C" PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._-]{1,100}$'),
    version    bigint NOT NULL CHECK (version > 0),
    geom       geometry(Geometry, 4326),
    properties jsonb NOT NULL CHECK (jsonb_typeof(properties) = 'object'),
    updated    timestamptz NOT NULL,
    township   text GENERATED ALWAYS AS (properties->>'township') STORED,
    kind       text GENERATED ALWAYS AS (properties->>'kind') STORED,
    duty_unit  text GENERATED ALWAYS AS (properties->>'duty_unit') STORED,
    status     text GENERATED ALWAYS AS (properties->>'status') STORED
);
CREATE INDEX waterlogging_points_geom_idx ON waterlogging_points USING gist (geom);
CREATE INDEX waterlogging_points_properties_idx ON waterlogging_points USING gin (properties jsonb_path_ops);
CREATE INDEX waterlogging_points_township_idx ON waterlogging_points (township);
CREATE INDEX waterlogging_points_kind_idx ON waterlogging_points (kind);
CREATE INDEX waterlogging_points_duty_unit_idx ON waterlogging_points (duty_unit);
CREATE INDEX waterlogging_points_status_idx ON waterlogging_points (status);

CREATE TABLE relocation_sites (
    id         text COLLATE "C" PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._-]{1,100}$'),
    version    bigint NOT NULL CHECK (version > 0),
    geom       geometry(Geometry, 4326),
    properties jsonb NOT NULL CHECK (jsonb_typeof(properties) = 'object'),
    updated    timestamptz NOT NULL,
    township   text GENERATED ALWAYS AS (properties->>'township') STORED,
    town       text GENERATED ALWAYS AS (properties->>'town') STORED,
    status     text GENERATED ALWAYS AS (properties->>'status') STORED
);
CREATE INDEX relocation_sites_geom_idx ON relocation_sites USING gist (geom);
CREATE INDEX relocation_sites_properties_idx ON relocation_sites USING gin (properties jsonb_path_ops);
CREATE INDEX relocation_sites_township_idx ON relocation_sites (township);
CREATE INDEX relocation_sites_town_idx ON relocation_sites (town);
CREATE INDEX relocation_sites_status_idx ON relocation_sites (status);

CREATE TABLE depots (
    id          text COLLATE "C" PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._-]{1,100}$'),
    version     bigint NOT NULL CHECK (version > 0),
    geom        geometry(Geometry, 4326),
    properties  jsonb NOT NULL CHECK (jsonb_typeof(properties) = 'object'),
    updated     timestamptz NOT NULL,
    township    text GENERATED ALWAYS AS (properties->>'township') STORED,
    level       text GENERATED ALWAYS AS (properties->>'level') STORED,
    floor       bigint GENERATED ALWAYS AS ((properties->>'floor')::bigint) STORED,
    entrance_ok boolean GENERATED ALWAYS AS ((properties->>'entrance_ok')::boolean) STORED,
    manual_door boolean GENERATED ALWAYS AS ((properties->>'manual_door')::boolean) STORED,
    damp        boolean GENERATED ALWAYS AS ((properties->>'damp')::boolean) STORED
);
CREATE INDEX depots_geom_idx ON depots USING gist (geom);
CREATE INDEX depots_properties_idx ON depots USING gin (properties jsonb_path_ops);
CREATE INDEX depots_township_idx ON depots (township);
CREATE INDEX depots_level_idx ON depots (level);
CREATE INDEX depots_floor_idx ON depots (floor);
CREATE INDEX depots_entrance_ok_idx ON depots (entrance_ok);
CREATE INDEX depots_manual_door_idx ON depots (manual_door);
CREATE INDEX depots_damp_idx ON depots (damp);

-- One row per collection. version and updated change in the same
-- transaction as every write to the collection (so version identifies the
-- collection's data for caches and ETags, across every API instance);
-- seeded records that the seed data was offered once, so that features
-- deleted later are not brought back.
CREATE TABLE collection_state (
    collection text PRIMARY KEY,
    version    bigint NOT NULL DEFAULT 0,
    updated    timestamptz,
    seeded     boolean NOT NULL DEFAULT false
);
INSERT INTO collection_state (collection) VALUES
    ('waterlogging_points'),
    ('relocation_sites'),
    ('depots');

---- create above / drop below ----

DROP TABLE collection_state;
DROP TABLE depots;
DROP TABLE relocation_sites;
DROP TABLE waterlogging_points;
-- The postgis extension stays: other schemas may use it.
