package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"hazardmap/geo"
)

// Features returns the features of c matching q in id order, and the total
// that matched before paging.
func (v *view) Features(ctx context.Context, c string, q geo.Query) ([]*geo.Feature, int, error) {
	t, err := v.s.table(c)
	if err != nil {
		return nil, 0, err
	}
	if err := t.schema.CheckQuery(q); err != nil {
		return nil, 0, err
	}
	sel, ok, err := t.selection(q)
	if err != nil {
		return nil, 0, err
	}
	out := []*geo.Feature{}
	if !ok {
		return out, 0, nil
	}
	var total int
	if err := v.tx.QueryRow(ctx, sel.count, sel.args...).Scan(&total); err != nil {
		return nil, 0, fail(err, "postgis: features %s", c)
	}
	if total <= max(q.Offset, 0) {
		return out, total, nil
	}
	rows, err := v.tx.Query(ctx, sel.page, sel.pageArgs...)
	if err != nil {
		return nil, 0, fail(err, "postgis: features %s", c)
	}
	out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*geo.Feature, error) { return scanFeature(r) })
	if err != nil {
		return nil, 0, fail(err, "postgis: features %s", c)
	}
	return out, total, nil
}

// Statements of Features. bboxCond is always first, so its parameters are
// $1 to $4: the && operator finds candidates in the GiST index, and
// ST_Intersects decides, edges included. Its box is the envelope of the
// diagonal rather than ST_MakeEnvelope, which for a box of zero width or
// height (a point or a line) makes a degenerate polygon that intersects
// nothing.
const (
	countSQL  = `SELECT count(*) FROM {table}`
	selectSQL = `SELECT ` + featureColumns + ` FROM {table}`
	bboxCond  = `geom && ST_MakeEnvelope($1, $2, $3, $4, 4326)
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

// selection returns the statements of q on t, or ok false when q can
// match nothing (a filter value of the wrong type, an empty bbox). A
// filter on an unknown or non-filterable property is an Invalid error.
func (t *table) selection(q geo.Query) (sel selection, ok bool, err error) {
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
	sel.page = t.sql(selectSQL) + where + " ORDER BY id"
	sel.page, sel.pageArgs = paged(sel.page, sel.args, q.Limit, q.Offset)
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
