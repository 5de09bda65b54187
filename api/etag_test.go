package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"hazardmap/geo"
	"hazardmap/geo/storetest"
)

// TestETagNamesTheData checks that a page's ETag names exactly the data
// the page shows while writes go on, whether the page was built or came
// from the cache: a writer keeps wp-1's depth_cm equal to the version of
// its collection (the only writer, it knows the version its write makes),
// and every page read meanwhile must carry an ETag of the version that
// its wp-1 shows.
func TestETagNamesTheData(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		ctx := context.Background()
		write := func() error {
			f, err := st.Feature(ctx, geo.WaterloggingPoints, "wp-1")
			if err != nil {
				return err
			}
			v, err := st.Version(ctx, geo.WaterloggingPoints)
			if err != nil {
				return err
			}
			_, err = st.Patch(ctx, geo.WaterloggingPoints, "wp-1", f.Version, geo.Patch{Properties: map[string]any{"depth_cm": float64(v + 1)}})
			return err
		}
		if err := write(); err != nil { // from here on, every version is encoded
			t.Fatalf("write = %v", err)
		}
		hs := []http.Handler{NewServer(st, Options{CacheBytes: DefaultCacheBytes}), NewServer(st, Options{})}
		storetest.WhileWriting(t, 40, func(int) error { return write() }, 2*len(hs), func(r int) error {
			return pageAgrees(hs[r%len(hs)])
		})
	})
}

// pageAgrees reads the waterlogging points from h and returns an error
// unless its ETag names the version that wp-1's depth_cm shows.
func pageAgrees(h http.Handler) error {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/collections/waterlogging_points/items", nil))
	if rec.Code != http.StatusOK {
		return fmt.Errorf("status %d: %s", rec.Code, rec.Body)
	}
	etag := rec.Header().Get("ETag")
	version, _, _ := strings.Cut(strings.Trim(etag, `"`), "-")
	var page struct {
		Features []struct {
			ID         string         `json:"id"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
		return err
	}
	for _, f := range page.Features {
		if f.ID != "wp-1" {
			continue
		}
		if depth, _ := f.Properties["depth_cm"].(float64); version != strconv.FormatFloat(depth, 'f', -1, 64) {
			return fmt.Errorf("ETag %s, but the page shows wp-1 at depth_cm (= version) %v", etag, depth)
		}
		return nil
	}
	return fmt.Errorf("no wp-1 on the page: %s", rec.Body)
}

// TestETagIgnoresHost: the ETag of a feature read through one host name
// is good for a write through another (writes compare versions, not
// URLs), while the bodies, whose links differ, keep ETags of their own.
func TestETagIgnoresHost(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		e := newEnv(t, st, Options{})
		get := func(host string) reply {
			req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/collections/depots/items/d-1", nil)
			req.Host = host
			req.Header.Set("Authorization", "Bearer "+e.tokens[geo.RolePlanner])
			req.Header.Set("Accept-Encoding", "identity")
			res, err := e.ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return reply{status: res.StatusCode, header: res.Header}
		}
		port := e.ts.URL[strings.LastIndex(e.ts.URL, ":"):]
		viaName, viaIP := get("localhost"+port).header.Get("ETag"), get("127.0.0.1"+port).header.Get("ETag")
		if viaName == viaIP || featureState(viaName) != featureState(viaIP) || featureState(viaName) == "" {
			t.Fatalf("ETags through two hosts: %s and %s; want different tags of one state", viaName, viaIP)
		}
		r := e.do(geo.RolePlanner, http.MethodPatch, "/collections/depots/items/d-1", `{"properties":{"damp":true}}`,
			"Content-Type", typeMergePatch, "If-Match", viaName)
		if r.status != http.StatusOK {
			t.Fatalf("PATCH through 127.0.0.1 with the ETag read through localhost = %d %s", r.status, r.body)
		}
		e.do(geo.RolePlanner, http.MethodPatch, "/collections/depots/items/d-1", `{"properties":{"damp":false}}`,
			"Content-Type", typeMergePatch, "If-Match", viaIP).problem(t, "PATCH with the ETag of the version before", http.StatusPreconditionFailed)
	})
}
