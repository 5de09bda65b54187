package embedded

import (
	"context"
	"slices"
	"sync"

	"github.com/paulmach/orb"

	"hazardmap/geo"
)

// depotIndex caches a geo.Index of the located depots together with what
// the filters of geo.DepotFilter need to know of each depot (readiness and
// categories, computed once per snapshot rather than per candidate). It
// is rebuilt on the first query after a write to the depots collection
// (the collection's version moved). Views (Read) share it under the
// store's read lock, so it has a lock of its own.
type depotIndex struct {
	mu   sync.Mutex
	snap *depotSnapshot // nil until the first query
}

// depotSnapshot is the index of one version of the depots collection.
type depotSnapshot struct {
	version    int64
	ix         *geo.Index
	ready      map[string]bool
	categories map[string][]string
}

// depots returns the index of the depots as they are now, building it if
// the collection has changed since the last one. The caller holds mu (for
// reading, at least).
func (s *Store) depots() (*depotSnapshot, error) {
	col := s.collections[geo.Depots]
	di := &s.depotIndex
	di.mu.Lock()
	defer di.mu.Unlock()
	if di.snap != nil && di.snap.version == col.state.Version {
		return di.snap, nil
	}
	snap := &depotSnapshot{version: col.state.Version, ready: map[string]bool{}, categories: map[string][]string{}}
	var ids []string
	for _, e := range col.sorted { // id order, so ties fall back to it too
		if e.located && e.shape == nil && geo.ValidPoint(e.bound.Min) {
			ids = append(ids, e.id)
		}
	}
	fs, err := s.read(geo.Depots, ids)
	if err != nil {
		return nil, err
	}
	items := make([]geo.IndexItem, 0, len(fs))
	for _, f := range fs {
		id := f.ID
		items = append(items, geo.IndexItem{ID: id, Point: f.Geometry.(orb.Point)})
		snap.ready[id] = geo.DepotReadiness(f.Properties).Ready
		for _, c := range geo.DepotCategories() {
			if geo.HasCategory(f.Properties, c) {
				snap.categories[id] = append(snap.categories[id], c)
			}
		}
	}
	snap.ix = geo.NewIndex(items)
	di.snap = snap
	return snap, nil
}

// keep returns the geo.Index filter of f on this snapshot, nil for none.
func (snap *depotSnapshot) keep(f geo.DepotFilter) func(id string) bool {
	if f.IsZero() {
		return nil
	}
	return func(id string) bool {
		if f.Ready != nil && snap.ready[id] != *f.Ready {
			return false
		}
		return f.Category == "" || slices.Contains(snap.categories[id], f.Category)
	}
}

// NearestDepots answers q from the in-memory index of the depots (a k-d
// tree over their Earth-centred coordinates, exact by ellipsoidal
// distance: see geo.Index). The filter is applied inside the search, so
// depots it rejects cost no distance computation.
func (v *view) NearestDepots(ctx context.Context, q geo.NearestQuery) ([][]geo.Neighbor, error) {
	s, err := v.store()
	if err != nil {
		return nil, err
	}
	if err := q.Check(); err != nil {
		return nil, err
	}
	snap, err := s.depots()
	if err != nil {
		return nil, err
	}
	keep := snap.keep(q.Filter)
	out := make([][]geo.Neighbor, len(q.Points))
	for i, p := range q.Points {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		ns := snap.ix.Nearest(p, q.K, keep)
		if ns == nil {
			ns = []geo.Neighbor{}
		}
		out[i] = ns
	}
	return out, nil
}
