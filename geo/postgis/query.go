package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"hazardmap/geo"
	"hazardmap/geo/geojson"
)

// Features returns the features of c matching q in id order, and the total
// that matched before paging, both from one statement (countedPage).
func (v *view) Features(ctx context.Context, c string, q geo.Query) ([]*geo.Feature, int, error) {
	out := []*geo.Feature{}
	total, err := v.countedPage(ctx, c, q, featureColumns, func(r pgx.Rows, lead []any) error {
		f, err := scanFeature(r, lead...)
		out = append(out, f)
		return err
	})
	if err != nil {
		return nil, 0, fail(err, "postgis: features %s", c)
	}
	return out, total, nil
}

// AppendFeatures appends the stored GeoJSON (doc, or the one in doc_views
// of the view of role) of the features of c that q selects: PostgreSQL
// sends the texts as they are, and they are appended from the connection's
// read buffer. A feature without them (written by an older hazardmap or
// by hand: see migrations/006) is encoded here.
func (v *view) AppendFeatures(ctx context.Context, buf []byte, c string, q geo.Query, role geo.Role) ([]byte, int, int, error) {
	t, err := v.s.table(c)
	if err != nil {
		return buf, 0, 0, err
	}
	cols := docColumns()[geo.ViewIndex(role)]
	n := 0
	total, err := v.countedPage(ctx, c, q, cols, func(r pgx.Rows, lead []any) error {
		if n > 0 {
			buf = append(buf, ',')
		}
		n++
		// The leading columns are the same on every row: scanned from the
		// first, skipped after.
		if raw := r.RawValues(); n > 1 && raw[len(lead)+1] != nil {
			buf = append(buf, raw[len(lead)+1]...)
			return nil
		}
		var (
			id               string
			doc, geom, props []byte
		)
		if err := r.Scan(append(lead, &id, &doc, &geom, &props)...); err != nil {
			return err
		}
		if n == 1 {
			// Room for the page at once, guessed from its first feature
			// and the count of the rows to come, rather than doubling.
			rows := max(*lead[0].(*int64)-int64(max(q.Offset, 0)), 1)
			if q.Limit > 0 {
				rows = min(rows, int64(q.Limit))
			}
			buf = slices.Grow(buf, int(rows)*(max(len(doc), 256)+1))
		}
		if doc != nil {
			buf = append(buf, doc...)
			return nil
		}
		f, err := decodeFeature(id, geom, props)
		if err != nil {
			return err
		}
		buf, err = geojson.AppendFeature(buf, t.schema.Redact(f, role))
		return err
	})
	if err != nil {
		return buf, 0, 0, fail(err, "postgis: features %s", c)
	}
	return buf, n, total, nil
}

// docColumns returns the columns of AppendFeatures for each view of
// geo.Views: the stored GeoJSON of the view, and geom and properties only
// where it is missing.
var docColumns = sync.OnceValue(func() []string {
	views := geo.Views()
	out := make([]string, len(views))
	for i := range views {
		doc := "doc"
		if i < len(views)-1 {
			doc = "coalesce(doc_views[" + strconv.Itoa(i+1) + "], doc)"
		}
		out[i] = "id, " + doc + ", CASE WHEN doc IS NULL THEN ST_AsBinary(geom) END, CASE WHEN doc IS NULL THEN properties END"
	}
	return out
})

// countedPage reads the page of c that q selects, with the columns cols
// after three leading ones, calling scan on each row, which scans the
// leading columns into lead and then its own; it returns the total that
// matched before paging. The leading columns are the count of the
// matches (count(*) OVER (), computed before LIMIT) and the collection's
// stamp (version, updated), so the page, its total and its stamp come from
// one statement: one scan and one round trip; the view keeps the stamp
// for Stamp. Only a page past the end, which has no row to carry the
// count, takes a count of its own.
func (v *view) countedPage(ctx context.Context, c string, q geo.Query, cols string, scan func(r pgx.Rows, lead []any) error) (int, error) {
	t, err := v.s.table(c)
	if err != nil {
		return 0, err
	}
	if err := t.schema.CheckQuery(q); err != nil {
		return 0, err
	}
	sel, ok, err := t.selection(q, cols)
	if err != nil || !ok {
		return 0, err
	}
	rows, err := v.tx.Query(ctx, sel.page, append([]any{planned}, append(sel.pageArgs, c)...)...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var (
		total   int64
		st      geo.Stamp
		updated *time.Time
		n       int
	)
	lead := []any{&total, &st.Version, &updated}
	for rows.Next() {
		if err := scan(rows, lead[:len(lead):len(lead)]); err != nil {
			return 0, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if n > 0 {
		if updated != nil {
			st.Updated = updated.UTC()
		}
		v.remember(c, st)
	}
	if n == 0 && max(q.Offset, 0) > 0 {
		err = v.tx.QueryRow(ctx, sel.count, append([]any{planned}, sel.args...)...).Scan(&total)
	}
	return int(total), err
}

// planned runs a statement of Features planned for its own parameters
// (pgx's unnamed statement, sent with them in one round trip), never from
// a cached generic plan: a generic plan cannot fold the box's envelope
// (bboxCond) into a constant, so it builds the envelope again for every
// candidate row it tests. On 100 000 points a random 0.06° box's index
// scan took 3.8 ms with the generic plan and 1.4 ms planned for its box,
// and pgbench ran the page statement at 157–205 a second against 313 with
// PostgreSQL's plan_cache_mode = force_custom_plan (planning each time
// costs 0.3 ms). The parameters are sent as text, typed by their Go types
// (float8, int8, text, bool), which are the types of their columns.
const planned = pgx.QueryExecModeExec

// Statements of Features. bboxCond is always first, so its parameters are
// $1 to $4: the && operator finds candidates in the GiST index, and
// ST_Intersects decides, edges included. Its box is the envelope of the
// diagonal rather than ST_MakeEnvelope, which for a box of zero width or
// height (a point or a line) makes a degenerate polygon that intersects
// nothing.
const (
	countSQL = `SELECT count(*) FROM {table}`
	bboxCond = `geom && ST_MakeEnvelope($1, $2, $3, $4, 4326)
  AND ST_Intersects(geom, ST_SetSRID(ST_Envelope(ST_MakeLine(ST_MakePoint($1, $2), ST_MakePoint($3, $4))), 4326))`
	// listCond, followed by a parameter such as {"categories": ["flood"]},
	// keeps features whose string list contains the value. Unlike
	// properties->'categories' ? 'flood' it can use the GIN index on
	// properties.
	listCond = `properties @> `
)

// selection is a Features query as SQL: the count of matches and one page.
type selection struct {
	count    string
	args     []any
	page     string
	pageArgs []any
}

// selection returns the statements of q on t, the page with the count of
// the matches (count(*) OVER ()) and the columns cols, or ok false when q
// can match nothing (a filter value of the wrong type, an empty bbox). A
// filter on an unknown or non-filterable property is an Invalid error.
func (t *table) selection(q geo.Query, cols string) (sel selection, ok bool, err error) {
	var conds []string
	if q.BBox != nil {
		args, ok := box(*q.BBox)
		if !ok {
			return sel, false, nil
		}
		sel.args = append(sel.args, args...)
		conds = append(conds, bboxCond)
	}
	param := func(v any) string {
		sel.args = append(sel.args, v)
		return "$" + strconv.Itoa(len(sel.args))
	}
	if iv := q.Datetime; iv != nil {
		if !iv.Start.IsZero() {
			conds = append(conds, "updated >= "+param(iv.Start))
		}
		if !iv.End.IsZero() {
			conds = append(conds, "updated <= "+param(iv.End))
		}
	}
	for _, f := range q.Filters {
		p, found := t.schema.Property(f.Property)
		if !found || !p.Filterable {
			return sel, false, geo.InvalidField(f.Property, "not a filterable property of %s (filterable: %s)",
				t.schema.ID, strings.Join(t.schema.Filterable(), ", "))
		}
		v, ok := filterValue(p, f.Value)
		if !ok {
			return sel, false, nil
		}
		if p.Type == geo.StringList {
			conds = append(conds, listCond+param(v)+"::jsonb")
			continue
		}
		col, has := t.columns[p.Name]
		if !has {
			return sel, false, geo.InvalidField(f.Property, "cannot filter on a %s", p.Type)
		}
		conds = append(conds, col+" = "+param(v))
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	sel.count = t.sql(countSQL) + where
	// The page is chosen, and the matches counted, over narrow rows (id
	// and ctid); only the rows of the page are then read whole, by ctid,
	// from the heap pages the scan has just visited. Sorting the matches
	// with their documents would move every one of them (twice as slow
	// for a page of 1000 of 2000 matches). A ctid names the same row
	// version throughout one statement.
	inner, args := paged(t.sql(`SELECT ctid AS c, id AS i, count(*) OVER () AS n FROM {table}`)+where+" ORDER BY id", sel.args, q.Limit, q.Offset)
	// The last parameter, after args, is the collection, for its stamp.
	sel.page = `SELECT s.n, st.v, st.u, ` + cols + ` FROM (` + inner + `) AS s JOIN ` + t.ident + ` ON ` + t.ident + `.ctid = s.c ` +
		`LEFT JOIN (SELECT version AS v, updated AS u FROM collection_state WHERE collection = $` + strconv.Itoa(len(args)+1) + `) AS st ON true ORDER BY s.i`
	sel.pageArgs = args
	return sel, true, nil
}

// paged returns the statement query with LIMIT and OFFSET parameters
// appended (each only when positive) and its arguments, a copy of args
// followed by theirs.
func paged(query string, args []any, limit, offset int) (string, []any) {
	out := append([]any(nil), args...)
	if limit > 0 {
		out = append(out, int64(limit))
		query += " LIMIT $" + strconv.Itoa(len(out))
	}
	if offset > 0 {
		out = append(out, int64(offset))
		query += " OFFSET $" + strconv.Itoa(len(out))
	}
	return query, out
}

// filterValue returns the statement parameter that compares property p
// with v, or ok false when v is not of p's canonical type (string, float64
// or bool, as geo.Filter has it) and so matches nothing, as
// geo.Filter.Matches has it.
func filterValue(p geo.Property, v any) (arg any, ok bool) {
	switch p.Type {
	case geo.String:
		s, ok := v.(string)
		return s, ok
	case geo.Integer:
		n, ok := v.(float64)
		if !ok || n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return nil, false
		}
		return int64(n), true
	case geo.Number:
		n, ok := v.(float64)
		if !ok || math.IsNaN(n) || math.IsInf(n, 0) {
			return nil, false
		}
		return n, true
	case geo.Boolean:
		b, ok := v.(bool)
		return b, ok
	case geo.StringList:
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		doc, err := json.Marshal(map[string][]string{p.Name: {s}})
		return string(doc), err == nil
	}
	return nil, false
}

// Feature returns one feature, or a NotFound error.
func (s *Store) Feature(ctx context.Context, c, id string) (*geo.Feature, error) {
	if err := geo.CheckText("id", id); err != nil {
		return nil, err
	}
	t, err := s.table(c)
	if err != nil {
		return nil, err
	}
	var f *geo.Feature
	err = s.read(ctx, func(tx pgx.Tx) error {
		f, err = getFeature(ctx, tx, t, id, false)
		return err
	})
	if err != nil {
		return nil, fail(err, "postgis: feature %s/%s", c, id)
	}
	return f, nil
}

// Statements of getFeature.
const (
	getSQL          = `SELECT ` + featureColumns + ` FROM {table} WHERE id = $1`
	getForUpdateSQL = getSQL + ` FOR UPDATE`
)

// getFeature reads feature id of t, locking its row when forUpdate, or
// returns a NotFound error.
func getFeature(ctx context.Context, tx pgx.Tx, t *table, id string, forUpdate bool) (*geo.Feature, error) {
	q := getSQL
	if forUpdate {
		q = getForUpdateSQL
	}
	f, err := scanFeature(tx.QueryRow(ctx, t.sql(q), id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound(t, id)
	}
	return f, err
}

func notFound(t *table, id string) error {
	return geo.Errorf(geo.NotFound, "no feature %q in %s", id, t.schema.ID)
}
