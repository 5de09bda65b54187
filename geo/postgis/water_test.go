package postgis

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hazardmap/geo"
)

// The latest reading of a gauge and a chart are read from the primary key
// (gauge_id, at), never by scanning the series: the plans, on a table
// large enough that the planner would rather scan it if it could not
// probe.
func TestReadingsUseThePrimaryKey(t *testing.T) {
	t.Parallel()
	s := openFresh(t).(*Store)
	ctx := context.Background()
	start := time.Date(2024, 6, 1, 0, 0, 0, 0, geo.ChinaTime)
	var ids []string
	for g := range 5 {
		id := fmt.Sprintf("g%d", g)
		ids = append(ids, id)
		if err := s.Create(ctx, geo.Gauges, &geo.Feature{ID: id, Properties: map[string]any{
			"name": id, "kind": "other", "location_source": "test"}}); err != nil {
			t.Fatal(err)
		}
		rs := make([]geo.Reading, 10_000)
		for i := range rs {
			rs[i] = geo.Reading{GaugeID: id, At: start.Add(time.Duration(i) * time.Minute), Level: float64(i % 100), Source: geo.ReadingImport}
		}
		if _, err := s.ImportReadings(ctx, rs); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.pool.Exec(ctx, "ANALYZE readings"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what, sql string
		args      []any
	}{
		{"latest of named gauges", latestOfSQL, []any{ids}},
		{"latest of every gauge", latestAllSQL, nil},
		{"a 72-hour chart", readingsSelectSQL + " WHERE gauge_id = $1 AND at >= $2 AND at < $3 ORDER BY at", []any{"g1", start.Add(24 * time.Hour), start.Add(96 * time.Hour)}},
	} {
		rows, err := s.pool.Query(ctx, "EXPLAIN "+c.sql, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		plan := strings.Join(lines, "\n")
		if !strings.Contains(plan, "readings_pkey") || strings.Contains(plan, "Seq Scan on readings") {
			t.Errorf("plan of %s does not probe readings_pkey alone:\n%s", c.what, plan)
		}
	}
}
