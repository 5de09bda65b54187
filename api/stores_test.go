package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/paulmach/orb"

	"hazardmap/geo"
	"hazardmap/geo/synthetic"
)

// TestStoresSendTheSameBytes is a property test of the two stores: loaded
// with the same features, they answer random bbox pages (random boxes,
// sizes, limits, offsets, filters, views) with the same bytes, both from a
// View (AppendFeatures, every view) and over HTTP (the public's page,
// whose timeStamp, the time of each store's own last write, is the only
// member allowed to differ). Each store keeps its features encoded (the
// embedded store in bbolt, PostGIS in a column), so this checks that
// neither keeps, finds or joins anything differently.
func TestStoresSendTheSameBytes(t *testing.T) {
	t.Parallel()
	pg := OpenPostGIS(t) // skips without a database
	emb := OpenFixtureStore(t)
	Seed(t, pg, Fixtures())
	extra := synthetic.Features(3000, 7)
	duty := &geo.Feature{ID: "wp-duty", Geometry: orb.Point{113.33, 34.77}, Properties: map[string]any{
		"name": "值守点", "kind": "road_spot", "status": "closed", "location_source": "test fixture", "location_precision_m": 20.0,
		"duty_contact_name": "值班员", "duty_contact_phone": "037164000000"}}
	extra = append(extra, duty)
	homes := &geo.Feature{ID: "rs-homes", Geometry: orb.Point{113.25, 34.7}, Properties: map[string]any{
		"name": "测试安置", "town": "汜水镇", "village": "老君堂村", "status": "in_progress", "location_source": "test fixture",
		"households": []any{map[string]any{"name": "测试户", "phone": nil, "members": 4.0, "note": nil}}}}
	ctx := context.Background()
	for _, st := range []geo.Store{emb, pg} {
		if err := st.Import(ctx, geo.WaterloggingPoints, cloneAll(extra)); err != nil {
			t.Fatal(err)
		}
		if err := st.Import(ctx, geo.RelocationSites, cloneAll([]*geo.Feature{homes})); err != nil {
			t.Fatal(err)
		}
	}

	rng := rand.New(rand.NewPCG(13, 2026))
	box := synthetic.Bounds()
	roles := []geo.Role{geo.RolePublic, geo.RoleCrew, geo.RolePlanner}
	statuses := []string{"", "", "clear", "ponding", "closed"}
	embSrv := NewServer(emb, Options{BaseURL: "http://hazardmap.test"})
	pgSrv := NewServer(pg, Options{BaseURL: "http://hazardmap.test"})
	stamp := regexp.MustCompile(`"timeStamp":"[^"]*",`)
	for i := range 150 {
		c := []string{geo.WaterloggingPoints, geo.WaterloggingPoints, geo.WaterloggingPoints, geo.RelocationSites, geo.Depots}[rng.IntN(5)]
		size := 0.005 + rng.Float64()*0.3
		x := box.Min[0] - 0.05 + rng.Float64()*(box.Max[0]-box.Min[0])
		y := box.Min[1] - 0.05 + rng.Float64()*(box.Max[1]-box.Min[1])
		b := orb.Bound{Min: orb.Point{x, y}, Max: orb.Point{x + size, y + size}}
		q := geo.Query{BBox: &b, Limit: 1 + rng.IntN(1500), Offset: rng.IntN(3) * rng.IntN(400)}
		if s := statuses[rng.IntN(len(statuses))]; s != "" && c == geo.WaterloggingPoints {
			q.Filters = []geo.Filter{{Property: "status", Value: s}}
		}
		role := roles[rng.IntN(len(roles))]
		a, an, am := appendFrom(t, emb, c, q, role)
		p, pn, pm := appendFrom(t, pg, c, q, role)
		if !bytes.Equal(a, p) || an != pn || am != pm {
			t.Fatalf("query %d (%s, %+v, bbox %v, %s): embedded %d of %d, %d bytes; PostGIS %d of %d, %d bytes; first difference at byte %d",
				i, c, q, b, role, an, am, len(a), pn, pm, len(p), firstDifference(a, p))
		}

		url := fmt.Sprintf("/collections/%s/items?bbox=%.6f,%.6f,%.6f,%.6f&limit=%d&offset=%d", c, b.Min[0], b.Min[1], b.Max[0], b.Max[1], q.Limit, q.Offset)
		if len(q.Filters) > 0 {
			url += "&status=" + q.Filters[0].Value.(string)
		}
		eb, pb := get(t, embSrv, url), get(t, pgSrv, url)
		if e, p := stamp.ReplaceAll(eb, nil), stamp.ReplaceAll(pb, nil); !bytes.Equal(e, p) {
			t.Fatalf("GET %s: the stores' pages differ at byte %d:\nembedded %.300s\nPostGIS  %.300s", url, firstDifference(e, p), e, p)
		}
	}
}

// appendFrom returns AppendFeatures of st, read from a View of its own.
func appendFrom(t *testing.T, st geo.Store, c string, q geo.Query, role geo.Role) (b []byte, n, m int) {
	t.Helper()
	err := st.Read(context.Background(), func(v geo.View) (err error) {
		b, n, m, err = v.AppendFeatures(context.Background(), nil, c, q, role)
		return err
	})
	if err != nil {
		t.Fatalf("AppendFeatures(%s, %+v, %s) = %v", c, q, role, err)
	}
	return b, n, m
}

// get returns the body of a 200 answer of h to GET url.
func get(t *testing.T, h http.Handler, url string) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s = %d %s", url, rec.Code, body)
	}
	return body
}

func cloneAll(fs []*geo.Feature) []*geo.Feature {
	out := make([]*geo.Feature, len(fs))
	for i, f := range fs {
		out[i] = f.Clone()
	}
	return out
}

func firstDifference(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
