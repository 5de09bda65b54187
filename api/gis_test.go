package api_test

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"hazardmap/api"
	"hazardmap/data"
	"hazardmap/geo"
	"hazardmap/geo/embedded"
	"hazardmap/geo/geojson"
)

// These tests read the API with real GIS clients over a real listener:
// GDAL's OGC API – Features driver (ogrinfo, ogr2ogr) and the GeoJSON
// checker of the map (@placemarkio/check-geojson), against every backend.
// A missing tool skips the test on a developer's machine and fails it
// under CI (env CI set), so CI never passes by not running them.

// toolTimeout bounds one run of an external tool, so that a client
// stuck on a bad response fails the test instead of hanging it.
const toolTimeout = 2 * time.Minute

// backend opens an empty store of one kind for a test.
type backend struct {
	name string
	open func(t testing.TB) geo.Store
}

// backends returns every store kind the GIS tests run against: the
// embedded store always, PostGIS when postgisBackend finds a database.
func backends() []backend {
	return []backend{
		{"embedded", func(t testing.TB) geo.Store {
			st, err := embedded.Open(t.TempDir())
			if err != nil {
				t.Fatalf("embedded.Open = %v", err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}},
		{"postgis", api.OpenPostGIS},
	}
}

// need returns the path of an external tool, skipping t (or failing it
// under CI) when the tool is missing.
func need(t *testing.T, path, why string) string {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if p, err := exec.LookPath(path); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing under CI: %s", path, why)
	}
	t.Skipf("%s is missing: %s", path, why)
	return ""
}

// run runs a tool and returns its combined output, failing t on error.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	// The server is on loopback: keep any configured proxy out of it.
	cmd.Env = append(os.Environ(), "NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
		"GDAL_HTTP_TIMEOUT=60", "CPL_VSIL_CURL_NON_CACHED=/")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// checkGeoJSON validates files with the map's GeoJSON checker.
func checkGeoJSON(t *testing.T, files ...string) {
	t.Helper()
	root := api.ModuleRoot(t)
	tool := filepath.Join(root, "web", "map", "tools", "check-geojson.mjs")
	need(t, filepath.Join(root, "web", "map", "node_modules", "@placemarkio", "check-geojson"),
		"run scripts/build-web to install the map's npm packages")
	node := need(t, "node", "install Node.js (Debian: nodejs)")
	run(t, node, append([]string{tool}, files...)...)
}

// serveFixtures starts a real HTTP server over a new store of b holding
// the fixtures.
func serveFixtures(t *testing.T, b backend) (*httptest.Server, geo.Store) {
	st := b.open(t)
	api.Seed(t, st, api.Fixtures())
	srv := httptest.NewServer(api.NewServer(st, api.Options{CacheBytes: api.DefaultCacheBytes}))
	t.Cleanup(srv.Close)
	return srv, st
}

var (
	layerRE  = regexp.MustCompile(`(?m)^Layer name: (\S+)$`)
	countRE  = regexp.MustCompile(`(?m)^Feature Count: (\d+)$`)
	extentRE = regexp.MustCompile(`(?m)^Extent: \(([-\d.]+), ([-\d.]+)\) - \(([-\d.]+), ([-\d.]+)\)$`)
)

// TestGDAL reads every layer with GDAL's OAPIF driver: ogrinfo sees each
// collection with its feature count and extent, and ogr2ogr copies each
// layer whole, paging through the next links.
func TestGDAL(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ogrinfo := need(t, "ogrinfo", "install gdal-bin")
			ogr2ogr := need(t, "ogr2ogr", "install gdal-bin")
			srv, st := serveFixtures(t, b)
			ds := "OAPIF:" + srv.URL + "/"

			out := run(t, ogrinfo, "-ro", "-al", "-so", ds)
			layers := map[string]string{} // name → its part of the output
			parts := layerRE.FindAllStringSubmatchIndex(out, -1)
			for i, m := range parts {
				end := len(out)
				if i+1 < len(parts) {
					end = parts[i+1][0]
				}
				layers[out[m[2]:m[3]]] = out[m[0]:end]
			}
			for _, sc := range geo.Schemas() {
				var info geo.CollectionInfo
				err := st.Read(context.Background(), func(v geo.View) (err error) {
					info, err = v.Collection(context.Background(), sc.ID)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				part, ok := layers[sc.ID]
				if !ok {
					t.Errorf("ogrinfo does not list %s:\n%s", sc.ID, out)
					continue
				}
				if m := countRE.FindStringSubmatch(part); m == nil || m[1] != strconv.Itoa(info.Count) {
					t.Errorf("ogrinfo %s: Feature Count %v, want %d", sc.ID, m, info.Count)
				}
				m := extentRE.FindStringSubmatch(part)
				if info.Extent == nil {
					if m != nil {
						t.Errorf("ogrinfo %s: extent %v of a layer with no located feature", sc.ID, m[1:])
					}
					continue
				}
				if m == nil {
					t.Errorf("ogrinfo %s: no extent:\n%s", sc.ID, part)
				} else {
					want := []float64{info.Extent.Min[0], info.Extent.Min[1], info.Extent.Max[0], info.Extent.Max[1]}
					for i, s := range m[1:] {
						got, _ := strconv.ParseFloat(s, 64)
						if math.Abs(got-want[i]) > 1e-6 {
							t.Errorf("ogrinfo %s: extent %v, want %v", sc.ID, m[1:], want)
							break
						}
					}
				}

				// ogr2ogr with a page smaller than the layer, so that it
				// must follow next links.
				dst := filepath.Join(t.TempDir(), sc.ID+".json")
				run(t, ogr2ogr, "-f", "GeoJSON", dst, ds, sc.ID, "-oo", "PAGE_SIZE=2")
				raw, err := os.ReadFile(dst)
				if err != nil {
					t.Fatal(err)
				}
				var fc struct {
					Features []struct {
						Geometry json.RawMessage `json:"geometry"`
					} `json:"features"`
				}
				if err := json.Unmarshal(raw, &fc); err != nil {
					t.Fatalf("ogr2ogr output: %v", err)
				}
				located := 0
				for _, f := range fc.Features {
					if len(f.Geometry) > 0 && string(f.Geometry) != "null" {
						located++
					}
				}
				if len(fc.Features) != info.Count || located != info.Located {
					t.Errorf("ogr2ogr %s: %d features (%d located), want %d (%d located)", sc.ID, len(fc.Features), located, info.Count, info.Located)
				}
			}
		})
	}
}

// TestCheckGeoJSON validates every items response of every collection,
// and single features, with @placemarkio/check-geojson.
func TestCheckGeoJSON(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			srv, st := serveFixtures(t, b)
			dir := t.TempDir()
			var files []string
			fetch := func(name, path string) {
				resp, err := http.Get(srv.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/geo+json" {
					t.Fatalf("GET %s = %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
				}
				file := filepath.Join(dir, name+".geojson")
				f, err := os.Create(file)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.ReadFrom(resp.Body); err != nil {
					t.Fatal(err)
				}
				f.Close()
				files = append(files, file)
			}
			for _, sc := range geo.Schemas() {
				base := "/collections/" + sc.ID + "/items"
				fetch(sc.ID, base)
				fetch(sc.ID+"-page", base+"?limit=1&offset=1")
				fetch(sc.ID+"-empty", base+"?bbox=0,0,1,1")
				fs, err := geo.AllFeatures(context.Background(), st, sc.ID)
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range fs {
					fetch(sc.ID+"-"+f.ID, base+"/"+f.ID)
				}
			}
			checkGeoJSON(t, files...)
		})
	}
}

// TestSeedDataset serves the real seed dataset (data.Seed, decoded with
// DecodeFeatureCollection and loaded with Store.Seed): every feature of
// every file comes out of the API, and every page is valid GeoJSON.
func TestSeedDataset(t *testing.T) {
	st := seedStore(t)
	srv := httptest.NewServer(api.NewServer(st, api.Options{CacheBytes: api.DefaultCacheBytes}))
	defer srv.Close()
	dir := t.TempDir()
	var files []string
	for _, c := range data.SeedCollections() {
		raw, err := data.Seed(c)
		if err != nil {
			t.Fatal(err)
		}
		want, err := geojson.DecodeFeatureCollection(raw)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(srv.URL + "/collections/" + c + "/items?limit=10000") // the largest page the API serves
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s items = %d, %v", c, resp.StatusCode, err)
		}
		got, err := geojson.DecodeFeatureCollection(body)
		if err != nil {
			t.Fatalf("the API's %s page does not decode: %v", c, err)
		}
		if len(got) != len(want) {
			t.Errorf("%s: the API returns %d features, the seed file has %d", c, len(got), len(want))
		}
		byID := map[string]*geo.Feature{}
		for _, f := range got {
			byID[f.ID] = f
		}
		for _, w := range want {
			g, ok := byID[w.ID]
			if !ok {
				t.Errorf("%s: seed feature %s is missing", c, w.ID)
				continue
			}
			if (g.Geometry == nil) != (w.Geometry == nil) {
				t.Errorf("%s/%s: geometry %v, seed has %v", c, w.ID, g.Geometry, w.Geometry)
			}
		}
		file := filepath.Join(dir, c+".geojson")
		if err := os.WriteFile(file, body, 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, file)
	}
	checkGeoJSON(t, files...)
}

// TestBackendsAgree serves the fixtures from the embedded store and from
// every other backend and checks that each query returns the same
// features, byte for byte, and the same counts: a client cannot tell
// which store is behind the API.
func TestBackendsAgree(t *testing.T) {
	all := backends()
	for _, b := range all[1:] {
		t.Run(all[0].name+"-vs-"+b.name, func(t *testing.T) {
			ref, _ := serveFixtures(t, all[0])
			other, _ := serveFixtures(t, b)
			for _, q := range []string{
				"/collections/waterlogging_points/items",
				"/collections/waterlogging_points/items?status=closed",
				"/collections/waterlogging_points/items?kind=road_spot&limit=2&offset=1",
				"/collections/waterlogging_points/items?bbox=113.355,34.7,113.356,34.9", // crosses the line only
				"/collections/waterlogging_points/items?bbox=113.4,34.81,113.5,34.9",    // touches the point
				"/collections/relocation_sites/items",
				"/collections/relocation_sites/items?bbox=113.205,34.705,113.206,34.706", // inside the polygon
				"/collections/depots/items?damp=true",
				"/collections/depots/items?categories=fire",
				"/collections/depots/items?floor=4",
				"/collections/depots/items/d-1",
			} {
				x, y := withoutLinks(t, ref.URL+q), withoutLinks(t, other.URL+q)
				if x != y {
					t.Errorf("GET %s differs:\n%s: %s\n%s: %s", q, all[0].name, x, b.name, y)
				}
			}
		})
	}
}

// withoutLinks fetches url and returns its JSON body without what depends
// on the server (links, which name its address; timeStamp, its write
// time), re-encoded with sorted keys.
func withoutLinks(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d %v", url, resp.StatusCode, doc)
	}
	delete(doc, "links")
	delete(doc, "timeStamp")
	if fs, ok := doc["features"].([]any); ok {
		for _, f := range fs {
			delete(f.(map[string]any), "links")
		}
	}
	out, _ := json.Marshal(doc)
	return string(out)
}
