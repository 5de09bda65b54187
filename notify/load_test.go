package notify_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hazardmap/geo"
	"hazardmap/geo/embedded"
	"hazardmap/geo/postgis"
	"hazardmap/geo/postgis/pgtest"
	"hazardmap/notify"
)

// The flood-season load run (not part of the default test run):
//
//	go test ./notify -run TestWaterLoad -water-gauges 30 -water-days 150 -v
//	scripts/with-postgis go test ./notify -run TestWaterLoad -water-gauges 30 -water-days 150 -water-store postgis -v -timeout 60m
//
// 30 gauges × one reading a minute × 150 days = 6.48 million readings,
// imported one gauge's season per ImportReadings call (as a season's CSV
// per gauge would be); then the latest reading of every gauge and a
// 72-hour chart of one gauge, each asked many times; and the delay from
// a reading's arrival to its alert on the Ledger (what /events carries).
var (
	waterGauges = flag.Int("water-gauges", 0, "gauges of the flood-season load run (0 skips it)")
	waterDays   = flag.Int("water-days", 150, "days of one reading a minute per gauge")
	waterStore  = flag.String("water-store", "embedded", "store of the load run: embedded or postgis")
)

func TestWaterLoad(t *testing.T) {
	if *waterGauges <= 0 {
		t.Skip("the flood-season load run is off; see load_test.go")
	}
	ctx := context.Background()
	var (
		st   geo.Store
		size func() string
	)
	switch *waterStore {
	case "embedded":
		dir := t.TempDir()
		s, err := embedded.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		st = s
		size = func() string {
			fi, err := os.Stat(filepath.Join(dir, embedded.FileName))
			if err != nil {
				return err.Error()
			}
			return fmt.Sprintf("file %.0f MiB", float64(fi.Size())/(1<<20))
		}
	case "postgis":
		url := pgtest.NewDatabase(t)
		s, err := postgis.Open(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		st = s
		size = func() string {
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				return err.Error()
			}
			defer conn.Close(ctx)
			var table, index int64
			err = conn.QueryRow(ctx, `SELECT pg_table_size('readings'), pg_indexes_size('readings')`).Scan(&table, &index)
			if err != nil {
				return err.Error()
			}
			return fmt.Sprintf("table %.0f MiB, primary key %.0f MiB", float64(table)/(1<<20), float64(index)/(1<<20))
		}
	default:
		t.Fatalf("-water-store %q: want embedded or postgis", *waterStore)
	}
	start := time.Date(2024, 6, 1, 0, 0, 0, 0, geo.ChinaTime)
	perGauge := *waterDays * 24 * 60
	ids := make([]string, *waterGauges)
	for i := range ids {
		ids[i] = fmt.Sprintf("gauge-%02d", i)
		err := st.Create(ctx, geo.Gauges, &geo.Feature{ID: ids[i], Properties: map[string]any{
			"name": "负载测试站 " + ids[i], "kind": "river_section", "location_source": "synthetic load test",
			"report_interval_min": 1.0, "max_rise_m_per_h": 2.0,
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	rs := make([]geo.Reading, perGauge)
	t0 := time.Now()
	for gi, id := range ids {
		for i := range rs {
			at := start.Add(time.Duration(i) * time.Minute)
			rs[i] = geo.Reading{GaugeID: id, At: at, Level: 100 + float64(gi) + float64(i%1440)/1440, Source: geo.ReadingImport}
		}
		if n, err := st.ImportReadings(ctx, rs); err != nil || n != perGauge {
			t.Fatalf("ImportReadings(%s) = %d, %v", id, n, err)
		}
	}
	importTime := time.Since(t0)
	total := perGauge * len(ids)
	t.Logf("%s: imported %d readings (%d gauges × %d) in %v: %.0f readings/s; %s",
		*waterStore, total, len(ids), perGauge, importTime.Round(time.Millisecond), float64(total)/importTime.Seconds(), size())

	timeIt := func(what string, n int, f func(i int) int) {
		var ds []time.Duration
		for i := range n {
			t1 := time.Now()
			got := f(i)
			ds = append(ds, time.Since(t1))
			if got == 0 {
				t.Fatalf("%s returned nothing", what)
			}
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		t.Logf("%s: %s ×%d: p50 %v, p99 %v", *waterStore, what, n, ds[n/2].Round(time.Microsecond), ds[n*99/100].Round(time.Microsecond))
	}
	end := start.Add(time.Duration(perGauge) * time.Minute)
	timeIt("latest reading of every gauge", 500, func(int) int {
		got, err := st.LatestReadings(ctx)
		if err != nil || len(got) != len(ids) {
			t.Fatalf("LatestReadings = %d, %v", len(got), err)
		}
		return len(got)
	})
	timeIt("latest reading of 30 named gauges", 500, func(int) int {
		got, err := st.LatestReadings(ctx, ids...)
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	})
	timeIt("72-hour chart of one gauge (4 320 readings)", 200, func(i int) int {
		to := end.Add(-time.Duration(i*97%(*waterDays*24-72)) * time.Hour)
		got, n, err := st.Readings(ctx, ids[i%len(ids)], geo.ReadingQuery{From: to.Add(-72 * time.Hour), To: to})
		if err != nil || n != 72*60 || len(got) != n {
			t.Fatalf("Readings(72 h) = %d of %d, %v", len(got), n, err)
		}
		return n
	})

	// From a reading's arrival to its alert on the Ledger: AddReading
	// evaluates at once, so the alert's change is there when it returns;
	// the subscriber's signal is what an /events stream waits for.
	clk := &clock{t: end}
	eng := notify.New(st, notify.Options{Now: clk.Now})
	sub, err := st.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var delays []time.Duration
	last := func() int64 {
		cs, err := st.Changes(ctx, 0, 1)
		if err != nil || len(cs) == 0 {
			t.Fatalf("Changes = %v, %v", cs, err)
		}
		es, _, err := st.Audit(ctx, geo.AuditQuery{Limit: 1})
		if err != nil || len(es) == 0 {
			t.Fatal(err)
		}
		return es[0].Seq
	}
	for i := range 50 {
		id := ids[i%len(ids)]
		at := end.Add(time.Duration(i) * time.Second)
		after := last()
		for len(sub) > 0 {
			<-sub
		}
		t1 := time.Now()
		// +100 m in a second: rising far faster than 2 m/h.
		if _, steps, err := eng.AddReading(ctx, geo.Reading{GaugeID: id, At: at, Level: 200 + float64(i), Source: geo.ReadingTelemetry}); err != nil || len(steps) == 0 {
			t.Fatalf("AddReading = %v, %v; want an alert", steps, err)
		}
		for seen := false; !seen; {
			<-sub
			cs, err := st.Changes(ctx, after, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				seen = seen || (c.Collection == geo.AlertsCollection && c.Action == geo.ActionOpen)
			}
		}
		delays = append(delays, time.Since(t1))
		a, _, _ := st.Alerts(ctx, geo.AlertQuery{GaugeID: id, Active: true})
		for _, x := range a {
			if _, err := st.ChangeAlert(ctx, x.ID, 0, geo.AlertTransition{Action: geo.ActionResolve, Note: "load test"}, end); err != nil {
				t.Fatal(err)
			}
		}
	}
	sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
	t.Logf("%s: reading → alert on the Ledger (and the subscriber signalled) ×50: p50 %v, p99 %v", *waterStore,
		delays[25].Round(time.Microsecond), delays[49].Round(time.Microsecond))
}
