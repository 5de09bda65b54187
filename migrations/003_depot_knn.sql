-- 003: a GiST index on the depots' geography, for the exact nearest-depot
-- search of geo/postgis/nearest.go. Its KNN operator (geography <->,
-- sphere distance) finds candidates in index order, and ST_DWithin on
-- geography (sphere) gathers the rest of them; both use this index. The
-- expression must be written as geom::geography in queries to match it.
CREATE INDEX depots_geog_idx ON depots USING gist ((geom::geography));

---- create above / drop below ----

DROP INDEX depots_geog_idx;
