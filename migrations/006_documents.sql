-- 006: every feature also kept as the GeoJSON the API sends.
--
-- doc is the feature as geojson.AppendFeature (Go) writes it, with every
-- property; doc_views holds it for each lesser view of the data (what the
-- public sees, what crews see: geo.Views but the last, in that order),
-- NULL where that is the same as doc. The store writes them with every
-- write, so a page of items is these texts joined: PostgreSQL sends them
-- as they are and nothing is decoded or encoded per request, and both
-- stores send the same bytes. NULL doc means "not encoded yet": the store
-- encodes such a row from geom and properties when it reads it, and
-- Migrate fills them in. document_format names the encoding they were
-- written in (the encoder and the views); Migrate writes them all afresh
-- when it changes. A collection added later needs both columns and the
-- trigger in its own migration.

ALTER TABLE waterlogging_points ADD COLUMN doc text, ADD COLUMN doc_views text[];
ALTER TABLE relocation_sites ADD COLUMN doc text, ADD COLUMN doc_views text[];
ALTER TABLE depots ADD COLUMN doc text, ADD COLUMN doc_views text[];
ALTER TABLE gauges ADD COLUMN doc text, ADD COLUMN doc_views text[];

CREATE TABLE document_format (
    one         boolean PRIMARY KEY DEFAULT true CHECK (one),
    fingerprint text NOT NULL
);

-- A write that changes a feature without writing its documents (an older
-- hazardmap during a rolling upgrade, or someone editing the table by
-- hand, say in QGIS) must not leave them stale: it clears them, and the
-- feature is encoded afresh from geom and properties when read.
CREATE FUNCTION hazardmap_clear_stale_doc() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.doc IS NOT DISTINCT FROM OLD.doc
       AND (NEW.id IS DISTINCT FROM OLD.id OR NEW.geom IS DISTINCT FROM OLD.geom
            OR NEW.properties IS DISTINCT FROM OLD.properties) THEN
        NEW.doc := NULL;
        NEW.doc_views := NULL;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER waterlogging_points_doc BEFORE UPDATE ON waterlogging_points
    FOR EACH ROW EXECUTE FUNCTION hazardmap_clear_stale_doc();
CREATE TRIGGER relocation_sites_doc BEFORE UPDATE ON relocation_sites
    FOR EACH ROW EXECUTE FUNCTION hazardmap_clear_stale_doc();
CREATE TRIGGER depots_doc BEFORE UPDATE ON depots
    FOR EACH ROW EXECUTE FUNCTION hazardmap_clear_stale_doc();
CREATE TRIGGER gauges_doc BEFORE UPDATE ON gauges
    FOR EACH ROW EXECUTE FUNCTION hazardmap_clear_stale_doc();

---- create above / drop below ----

DROP TRIGGER gauges_doc ON gauges;
DROP TRIGGER depots_doc ON depots;
DROP TRIGGER relocation_sites_doc ON relocation_sites;
DROP TRIGGER waterlogging_points_doc ON waterlogging_points;
DROP FUNCTION hazardmap_clear_stale_doc();
DROP TABLE document_format;
ALTER TABLE gauges DROP COLUMN doc, DROP COLUMN doc_views;
ALTER TABLE depots DROP COLUMN doc, DROP COLUMN doc_views;
ALTER TABLE relocation_sites DROP COLUMN doc, DROP COLUMN doc_views;
ALTER TABLE waterlogging_points DROP COLUMN doc, DROP COLUMN doc_views;
