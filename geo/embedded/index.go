package embedded

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"

	"hazardmap/geo"
)

// This file is the in-memory index of a collection: what a query needs to
// choose a page without reading any feature. The features themselves, as
// GeoJSON, stay in bbolt (record.go). A query finds its candidates in an
// R-tree of the features' bounds (github.com/tidwall/rtree, the tree of
// Tile38), tests them exactly, counts them all (numberMatched) and reads
// only the page's features from the file.

// item is what the index keeps of one feature.
type item struct {
	id      string
	version int64
	updated int64 // microseconds since 1970, UTC
	located bool
	bound   orb.Bound // of the geometry, when located
	// shape is the geometry when it is located and not a point, for the
	// exact bbox test; a point's bound is the point.
	shape orb.Geometry
	// filters holds the values of the schema's Filterable properties, in
	// its order; nil where absent or null.
	filters []any
}

// collection is the index of one collection.
type collection struct {
	schema *geo.Schema
	byID   map[string]*item
	sorted []*item // by id, in byte order
	tree   rtree.RTreeG[*item]
	state  state
}

func newCollection(sc *geo.Schema) *collection {
	return &collection{schema: sc, byID: map[string]*item{}}
}

// bulkApply is the number of changes from which apply sorts the whole
// index once rather than inserting each entry in place.
const bulkApply = 64

// apply puts (e non-nil) or removes the entries of ids; es[i] goes with
// ids[i].
func (col *collection) apply(ids []string, es []*item) {
	bulk := len(ids) >= bulkApply
	for i, id := range ids {
		old := col.byID[id]
		if old != nil && old.located {
			col.tree.Delete(old.bound.Min, old.bound.Max, old)
		}
		e := es[i]
		if e == nil {
			delete(col.byID, id)
		} else {
			col.byID[id] = e
			if e.located {
				col.tree.Insert(e.bound.Min, e.bound.Max, e)
			}
		}
		if bulk {
			continue
		}
		at, found := slices.BinarySearchFunc(col.sorted, id, func(x *item, id string) int { return strings.Compare(x.id, id) })
		switch {
		case e == nil && found:
			col.sorted = slices.Delete(col.sorted, at, at+1)
		case e != nil && found:
			col.sorted[at] = e
		case e != nil:
			col.sorted = slices.Insert(col.sorted, at, e)
		}
	}
	if bulk {
		col.sorted = col.sorted[:0]
		for _, e := range col.byID {
			col.sorted = append(col.sorted, e)
		}
		slices.SortFunc(col.sorted, byID)
	}
}

func byID(a, b *item) int { return strings.Compare(a.id, b.id) }

// info returns the state of the collection.
func (col *collection) info() geo.CollectionInfo {
	in := geo.CollectionInfo{ID: col.schema.ID, Count: len(col.sorted), Located: col.tree.Len(),
		Version: col.state.Version, Updated: col.state.Updated}
	if in.Located > 0 {
		min, max := col.tree.Bounds()
		in.Extent = &orb.Bound{Min: min, Max: max}
	}
	return in
}

// scanShare is the share of a collection above which a bbox query walks
// the whole index in id order rather than sorting the R-tree's candidates:
// sorting most of a large layer costs more than testing every bound.
const scanShare = 8

// match returns the entries that q selects, in id order, and how many
// matched before paging. q has passed Schema.CheckQuery.
func (col *collection) match(q geo.Query) (page []*item, total int) {
	keep := col.filter(q)
	lo, hi := max(q.Offset, 0), -1
	if q.Limit > 0 {
		hi = lo + q.Limit
		page = make([]*item, 0, min(q.Limit, len(col.sorted)))
	}
	take := func(e *item) {
		if total >= lo && (hi < 0 || total < hi) {
			page = append(page, e)
		}
		total++
	}
	if q.BBox != nil {
		b := *q.BBox
		pc := candidates.Get().(*[]*item)
		defer func() { clear(*pc); candidates.Put(pc) }()
		cands := (*pc)[:0]
		col.tree.Search(b.Min, b.Max, func(_, _ [2]float64, e *item) bool {
			cands = append(cands, e)
			return len(cands) <= len(col.sorted)/scanShare
		})
		*pc = cands
		if len(cands) <= len(col.sorted)/scanShare {
			slices.SortFunc(cands, byID)
			for _, e := range cands {
				if intersects(e, b) && keep(e) {
					take(e)
				}
			}
			return page, total
		}
		inner := keep
		keep = func(e *item) bool { return e.located && e.bound.Intersects(b) && intersects(e, b) && inner(e) }
	}
	for _, e := range col.sorted {
		if keep(e) {
			take(e)
		}
	}
	return page, total
}

// candidates recycles the slices of a bbox query's candidates.
var candidates = sync.Pool{New: func() any { return new([]*item) }}

// intersects is the exact test of geo.Intersects for an entry whose bound
// intersects b.
func intersects(e *item, b orb.Bound) bool {
	if e.shape == nil {
		return b.Contains(e.bound.Min)
	}
	return geo.Intersects(e.shape, b)
}

// filter returns the test of q's datetime and property filters.
func (col *collection) filter(q geo.Query) func(*item) bool {
	type cond struct {
		at int
		f  geo.Filter
	}
	var conds []cond
	names := col.schema.Filterable()
	for _, f := range q.Filters {
		conds = append(conds, cond{slices.Index(names, f.Property), f}) // CheckQuery: it is there
	}
	iv := q.Datetime
	if iv == nil && len(conds) == 0 {
		return func(*item) bool { return true }
	}
	return func(e *item) bool {
		if iv != nil && !iv.Contains(time.UnixMicro(e.updated).UTC()) {
			return false
		}
		for _, c := range conds {
			if c.at < 0 || c.at >= len(e.filters) || !c.f.MatchesValue(e.filters[c.at]) {
				return false
			}
		}
		return true
	}
}
