package sheet

import (
	"context"
	"slices"
	"strings"
	"testing"

	"hazardmap/geo"
)

// TestImport runs Import against a store stand-in: a dry run writes
// nothing, a bad row refuses the file unless GoodOnly, and a feature that
// changes between planning and writing is planned again and reported
// stale rather than written.
func TestImport(t *testing.T) {
	sc := schema(t, geo.WaterloggingPoints)
	file := sheetOf(
		[]string{"id", "version", "duty_unit"},
		[]string{"wp-a", "3", "荥阳市城建局排水所"}, // an edit
		[]string{"wp-b", "1", "市城建局"},      // an edit
		[]string{"wp-c", "2", ""},          // unchanged
	)
	bad := file + "wp-zz,x,\r\n"
	type call struct {
		ids   []string
		batch geo.Batch
	}
	// run imports text; edits[n] changes the store right after its n-th
	// read; conflict makes every write fail.
	run := func(t *testing.T, text string, opt ImportOptions, edits map[int]func(map[string]*geo.Feature), conflict bool) (*Result, []call, error) {
		tb, err := ReadCSV(strings.NewReader(text), sc, geo.RolePlanner)
		if err != nil {
			t.Fatal(err)
		}
		stored := byID(points(t))
		var calls []call
		res, err := Import(context.Background(), tb, opt, func(_ context.Context, ids []string) (map[string]*geo.Feature, error) {
			calls = append(calls, call{ids: ids})
			out := map[string]*geo.Feature{}
			for _, id := range ids {
				if f := stored[id]; f != nil {
					out[id] = f.Clone()
				}
			}
			if edit := edits[len(calls)]; edit != nil {
				edit(stored) // someone writes after this read
			}
			return out, nil
		}, func(_ context.Context, _ *Plan, b geo.Batch) error {
			calls[len(calls)-1].batch = b
			if conflict {
				return geo.Errorf(geo.Conflict, "changed")
			}
			for _, f := range b.Replace {
				if stored[f.ID].Version != f.Version {
					return geo.Errorf(geo.Conflict, "%s changed", f.ID)
				}
			}
			return nil
		})
		return res, calls, err
	}

	res, calls, err := run(t, file, ImportOptions{DryRun: true}, nil, false)
	if err != nil || res.Written.Len() != 0 || res.Would.Len() != 2 || len(calls) != 1 || calls[0].batch.Len() != 0 {
		t.Errorf("dry run: %+v, %v, calls %+v; want 2 would-be writes and none made", res, err, calls)
	}
	if !slices.Equal(calls[0].ids, []string{"wp-a", "wp-b", "wp-c"}) {
		t.Errorf("ids read %v", calls[0].ids)
	}

	res, calls, err = run(t, bad, ImportOptions{}, nil, false)
	if err != nil || !res.Refused || res.Plan.Count(Invalid) != 1 || calls[0].batch.Len() != 0 {
		t.Errorf("a bad row: %+v, %v; want refused, nothing written", res, err)
	}
	res, _, err = run(t, bad, ImportOptions{GoodOnly: true}, nil, false)
	if err != nil || res.Refused || res.Written.Len() != 2 {
		t.Errorf("a bad row, good rows only: %+v, %v; want the two edits written", res, err)
	}

	// wp-b changes between the first plan and its write.
	res, calls, err = run(t, file, ImportOptions{}, map[int]func(map[string]*geo.Feature){1: func(m map[string]*geo.Feature) {
		m["wp-b"] = m["wp-b"].Clone()
		m["wp-b"].Version = 2
		m["wp-b"].Properties["duty_unit"] = "别人改的"
	}}, false)
	if err != nil || len(calls) != 2 || res.Written.Len() != 1 || res.Written.Replace[0].ID != "wp-a" || res.Plan.Count(Stale) != 1 {
		t.Fatalf("a feature changed meanwhile: %+v, %v, %d calls; want wp-a written and wp-b stale on the second plan", res, err, len(calls))
	}

	// A store that keeps conflicting gives up after MaxPlanAttempts.
	if _, calls, err = run(t, file, ImportOptions{}, nil, true); geo.KindOf(err) != geo.Conflict || len(calls) != MaxPlanAttempts {
		t.Errorf("always conflicting: %v after %d plans, want Conflict after %d", err, len(calls), MaxPlanAttempts)
	}
}
