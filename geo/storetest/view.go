package storetest

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/paulmach/orb"

	"hazardmap/geo"
)

// The cases of this file check Store.Read: everything read through one
// View is of one snapshot, while writes go on.

// viewCases are the cases of this file, run by Run like the others.
func viewCases() []struct {
	name string
	run  func(t *testing.T, s geo.Store)
} {
	return []struct {
		name string
		run  func(t *testing.T, s geo.Store)
	}{
		{"ViewIsOneSnapshot", viewIsOneSnapshot},
		{"ViewEndsWithRead", viewEndsWithRead},
	}
}

// snapshotWrites is how many times the writer of viewIsOneSnapshot writes
// each of its two collections.
const snapshotWrites = 60

// snapshotReaders is how many goroutines read while it writes.
const snapshotReaders = 3

// snapshotAt is where the depot of viewIsOneSnapshot stands at version k:
// its position encodes the version, so that a nearest-depot answer names
// the version it was read at.
func snapshotAt(k int64) orb.Point {
	return geo.Normalize(orb.Point{113.3 + float64(k)*1e-4, 34.8}).(orb.Point)
}

// viewIsOneSnapshot has one writer change a depot and a waterlogging point
// in turn, each write bumping its collection's version, while readers
// read, in one View each, the versions of both collections, the depot's
// feature, its collection's state, and the nearest depot with and without
// a readiness filter. Each write moves the depot (its position encodes
// its version) and toggles it damp (not ready) or dry, so every one of
// those reads names the version it saw, and in one snapshot they must all
// name the same. The depots are written first, so the two versions may
// differ by one but never more, nor the other way round.
func viewIsOneSnapshot(t *testing.T, s geo.Store) {
	d := depot("d", snapshotAt(1), 1)
	d.Properties["damp"] = false
	mustCreate(t, s, geo.Depots, d)
	mustCreate(t, s, geo.WaterloggingPoints, point("p", orb.Point{113.4, 34.8}, "clear"))
	dampAt := func(k int64) bool { return k%2 == 0 }
	// The toggle must change the readiness, or the filtered answer would
	// say nothing about the version.
	if !geo.DepotReadiness(d.Properties).Ready {
		t.Fatalf("fixture depot is not ready: %+v", geo.DepotReadiness(d.Properties))
	}

	write := func(i int) error {
		k := int64(i + 1)
		p := geo.Patch{Properties: map[string]any{"damp": dampAt(k + 1)}, SetGeometry: true, Geometry: snapshotAt(k + 1)}
		if _, err := s.Patch(ctx, geo.Depots, "d", k, p); err != nil {
			return fmt.Errorf("Patch(depots/d, version %d) = %w", k, err)
		}
		if _, err := s.Patch(ctx, geo.WaterloggingPoints, "p", k, geo.Patch{Properties: map[string]any{"depth_cm": float64(k)}}); err != nil {
			return fmt.Errorf("Patch(waterlogging_points/p, version %d) = %w", k, err)
		}
		return nil
	}
	reads := WhileWriting(t, snapshotWrites, write, snapshotReaders, func(r int) error {
		return s.Read(ctx, func(v geo.View) error { return checkSnapshot(v, r%2 == 0, dampAt) })
	})
	t.Logf("%d writes to each collection; reads %v", snapshotWrites, reads)
}

// WhileWriting calls write(0), write(1), … write(writes-1) in one
// goroutine while each of readers goroutines calls read(r), r its
// number, over and over: at least once, and until the writer is done. It
// reports the first error of any of them (t.Errorf), which stops them
// all, and returns how many reads each reader made. It measures no time:
// how the calls interleave is up to the scheduler, so a check of a
// snapshot is only as strong as its reads are many.
func WhileWriting(t *testing.T, writes int, write func(i int) error, readers int, read func(r int) error) []int {
	t.Helper()
	var (
		done   atomic.Bool
		failed atomic.Bool
		wg     sync.WaitGroup
	)
	fail := func(format string, args ...any) {
		if failed.CompareAndSwap(false, true) {
			t.Errorf(format, args...)
		}
	}
	wg.Go(func() {
		defer done.Store(true)
		for i := 0; i < writes && !failed.Load(); i++ {
			if err := write(i); err != nil {
				fail("write %d: %v", i, err)
				return
			}
		}
	})
	reads := make([]int, readers)
	for r := range readers {
		wg.Go(func() {
			for first := true; first || (!done.Load() && !failed.Load()); first = false {
				if err := read(r); err != nil {
					fail("reader %d, read %d: %v", r, reads[r], err)
					return
				}
				reads[r]++
			}
		})
	}
	wg.Wait()
	return reads
}

// checkSnapshot reads the state of viewIsOneSnapshot through v and
// returns an error unless it is of one version. pointsFirst reads the
// waterlogging point's version before the depots, else after.
func checkSnapshot(v geo.View, pointsFirst bool, dampAt func(int64) bool) error {
	var points geo.Stamp
	stampPoints := func() error {
		var err error
		points, err = v.Stamp(ctx, geo.WaterloggingPoints)
		return err
	}
	if pointsFirst {
		if err := stampPoints(); err != nil {
			return err
		}
	}
	st, err := v.Stamp(ctx, geo.Depots)
	if err != nil {
		return err
	}
	runtime.Gosched() // let the writer in between the reads
	fs, n, err := v.Features(ctx, geo.Depots, geo.Query{})
	if err != nil {
		return err
	}
	if n != 1 || len(fs) != 1 {
		return fmt.Errorf("Features(depots) = %d of %d, want the one depot", len(fs), n)
	}
	d := fs[0]
	if d.Version != st.Version || !d.Updated.Equal(st.Updated) {
		return fmt.Errorf("depot at version %d updated %v; Stamp(depots) = %d %v", d.Version, d.Updated, st.Version, st.Updated)
	}
	if !orb.Equal(d.Geometry, snapshotAt(d.Version)) || d.Properties["damp"] != dampAt(d.Version) {
		return fmt.Errorf("depot at version %d: at %v, damp %v; want %v, %v", d.Version, d.Geometry, d.Properties["damp"], snapshotAt(d.Version), dampAt(d.Version))
	}
	runtime.Gosched()
	yes := true
	for _, q := range []geo.NearestQuery{
		{Points: []orb.Point{{113.2, 34.8}}, K: 1},
		{Points: []orb.Point{{113.2, 34.8}}, K: 1, Filter: geo.DepotFilter{Ready: &yes}},
	} {
		lists, err := v.NearestDepots(ctx, q)
		if err != nil {
			return err
		}
		var want []orb.Point
		if q.Filter.Keep(d.Properties) {
			want = []orb.Point{d.Geometry.(orb.Point)}
		}
		var got []orb.Point
		for _, n := range lists[0] {
			got = append(got, n.Point)
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("NearestDepots(%+v) = %v; the depot at version %d is at %v, damp %v", q.Filter, got, d.Version, d.Geometry, d.Properties["damp"])
		}
	}
	runtime.Gosched()
	in, err := v.Collection(ctx, geo.Depots)
	if err != nil {
		return err
	}
	if in.Version != st.Version || !in.Updated.Equal(st.Updated) || in.Count != 1 || in.Extent == nil || !in.Extent.Equal(d.Geometry.Bound()) {
		return fmt.Errorf("Collection(depots) = %+v; Stamp says version %d updated %v, the depot is at %v", in, st.Version, st.Updated, d.Geometry)
	}
	if !pointsFirst {
		if err := stampPoints(); err != nil {
			return err
		}
	}
	if lead := st.Version - points.Version; lead != 0 && lead != 1 {
		return fmt.Errorf("depots at version %d, waterlogging_points at %d: the writer keeps them equal or the depots one ahead", st.Version, points.Version)
	}
	if again, err := v.Stamp(ctx, geo.Depots); err != nil || again != st {
		return fmt.Errorf("Stamp(depots) = %+v, %v at the end of the view, %+v at its start", again, err, st)
	}
	return nil
}

// viewEndsWithRead checks the rest of the contract of Read: it returns
// fn's error as fn returned it, a View's errors have kinds, and a View
// kept after Read has returned does not read.
func viewEndsWithRead(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.WaterloggingPoints, point("a", orb.Point{113.4, 34.8}, nil))
	mine := errors.New("the caller's own error")
	if err := s.Read(ctx, func(geo.View) error { return mine }); err != mine {
		t.Errorf("Read(fn returning an error) = %v, want fn's error itself", err)
	}
	var kept geo.View
	err := s.Read(ctx, func(v geo.View) error {
		kept = v
		_, err := v.Stamp(ctx, "no_such_layer")
		wantKind(t, "Stamp(unknown)", err, geo.NotFound)
		st, err := v.Stamp(ctx, geo.WaterloggingPoints)
		if err != nil || st.Version != 1 || st.Updated.IsZero() {
			t.Errorf("Stamp(waterlogging_points) = %+v, %v; want version 1 and a time", st, err)
		}
		if st, err := v.Stamp(ctx, geo.Depots); err != nil || st != (geo.Stamp{}) {
			t.Errorf("Stamp(depots, never written) = %+v, %v; want the zero Stamp", st, err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Read = %v", err)
	}
	if _, _, err := kept.Features(ctx, geo.WaterloggingPoints, geo.Query{}); err == nil {
		t.Error("a View kept after Read returned still reads; want an error")
	}
}
