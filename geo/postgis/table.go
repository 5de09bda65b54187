package postgis

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"hazardmap/geo"
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

// scanFeature reads one row of featureColumns.
func scanFeature(row pgx.Row) (*geo.Feature, error) {
	var (
		f           geo.Feature
		geom, props []byte
	)
	if err := row.Scan(&f.ID, &f.Version, &geom, &props, &f.Updated); err != nil {
		return nil, err
	}
	f.Updated = f.Updated.UTC()
	if geom != nil {
		g, err := wkb.Unmarshal(geom)
		if err != nil {
			return nil, fmt.Errorf("decode geometry of %q: %w", f.ID, err)
		}
		f.Geometry = g
	}
	if err := json.Unmarshal(props, &f.Properties); err != nil {
		return nil, fmt.Errorf("decode properties of %q: %w", f.ID, err)
	}
	if f.Properties == nil {
		f.Properties = map[string]any{}
	}
	return &f, nil
}

// row is a prepared feature as statement parameters: WKB (nil for a null
// geometry, which ST_GeomFromWKB turns into NULL) and JSON text.
type row struct {
	id    string
	geom  []byte
	props string
}

// encode returns the parameters that store f, which schema.Prepare
// returned (canonical properties, normalized geometry).
func encode(f *geo.Feature) (row, error) {
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
	return r, nil
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
