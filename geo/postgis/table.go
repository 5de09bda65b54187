package postgis

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"hazardmap/geo"
	"hazardmap/geo/geojson"
)

// table is what the store knows of one collection's table. It is built
// from geo.Schemas() alone and not changed after Open.
type table struct {
	schema *geo.Schema
	// ident is the quoted table name (the collection id).
	ident string
	// columns maps each Filterable scalar property to its quoted generated
	// column; StringList filters use the GIN index on properties instead.
	columns map[string]string
}

func newTable(sc *geo.Schema) *table {
	t := &table{schema: sc, ident: pgx.Identifier{sc.ID}.Sanitize(), columns: map[string]string{}}
	for _, p := range sc.Properties {
		if p.Filterable && columnType(p.Type) != "" {
			t.columns[p.Name] = pgx.Identifier{p.Name}.Sanitize()
		}
	}
	return t
}

// columnType returns the SQL type of the generated column of a Filterable
// property of type typ, or "" when it has none.
func columnType(typ geo.Type) string {
	switch typ {
	case geo.String:
		return "text"
	case geo.Integer:
		return "bigint"
	case geo.Number:
		return "double precision"
	case geo.Boolean:
		return "boolean"
	}
	return ""
}

// sql returns the statement q with {table} replaced by the quoted table
// name. Only the identifier is put into the text; values stay parameters.
func (t *table) sql(q string) string {
	return strings.ReplaceAll(q, "{table}", t.ident)
}

// featureColumns are the columns scanFeature reads, in its order.
const featureColumns = `id, version, ST_AsBinary(geom), properties, updated`

// scanFeature reads one row of featureColumns, after the columns that
// lead are scanned into (such as a count).
func scanFeature(row pgx.Row, lead ...any) (*geo.Feature, error) {
	var (
		id          string
		version     int64
		updated     time.Time
		geom, props []byte
	)
	if err := row.Scan(append(lead, &id, &version, &geom, &props, &updated)...); err != nil {
		return nil, err
	}
	f, err := decodeFeature(id, geom, props)
	if err != nil {
		return nil, err
	}
	f.Version, f.Updated = version, updated.UTC()
	return f, nil
}

// decodeFeature returns the feature id with geometry geom (WKB, nil for
// none) and properties props (JSON).
func decodeFeature(id string, geom, props []byte) (*geo.Feature, error) {
	f := &geo.Feature{ID: id}
	if geom != nil {
		g, err := wkb.Unmarshal(geom)
		if err != nil {
			return nil, fmt.Errorf("decode geometry of %q: %w", id, err)
		}
		f.Geometry = g
	}
	if err := json.Unmarshal(props, &f.Properties); err != nil {
		return nil, fmt.Errorf("decode properties of %q: %w", id, err)
	}
	if f.Properties == nil {
		f.Properties = map[string]any{}
	}
	return f, nil
}

// row is a prepared feature as statement parameters: WKB (nil for a null
// geometry, which ST_GeomFromWKB turns into NULL), JSON text, and the
// feature's GeoJSON for every view (geojson.EncodeViews), the columns doc
// and doc_views (migrations/006).
type row struct {
	id    string
	geom  []byte
	props string
	doc   string
	views []*string // the lesser views; nil where the same as doc
}

// encode returns the parameters that store f, which t.schema.Prepare
// returned (canonical properties, normalized geometry).
func (t *table) encode(f *geo.Feature) (row, error) {
	if err := geo.CheckPropertiesText(f.Properties); err != nil {
		return row{}, err
	}
	r := row{id: f.ID}
	if f.Geometry != nil {
		b, err := wkb.Marshal(f.Geometry)
		if err != nil {
			return row{}, fmt.Errorf("encode geometry of %q: %w", f.ID, err)
		}
		r.geom = b
	}
	b, err := json.Marshal(f.Properties)
	if err != nil {
		return row{}, fmt.Errorf("encode properties of %q: %w", f.ID, err)
	}
	r.props = string(b)
	docs, err := geojson.EncodeViews(t.schema, f)
	if err != nil {
		return row{}, err
	}
	r.doc = string(docs[len(docs)-1])
	r.views = make([]*string, len(docs)-1)
	for i, d := range docs[:len(docs)-1] {
		if d != nil {
			v := string(d)
			r.views[i] = &v
		}
	}
	return r, nil
}

// replaceArgs returns the parameters of replaceSQL that store r in place
// of the row at version, at time now.
func (r row) replaceArgs(version int64, now time.Time) []any {
	return []any{r.id, version, r.geom, r.props, now, r.doc, r.views}
}

// box returns the parameters of bboxCond for b, or ok false when b can
// match nothing: a NaN, or a minimum above its maximum (the API rejects
// such boxes; ST_MakeEnvelope would silently swap the corners).
func box(b orb.Bound) (args []any, ok bool) {
	if !(b.Min[0] <= b.Max[0] && b.Min[1] <= b.Max[1]) {
		return nil, false
	}
	return []any{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}, true
}
