package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"
	"testing"

	"github.com/xuri/excelize/v2"

	"hazardmap/geo"
)

// TestFilesGIS reads the files the API serves with real clients, over
// HTTP, on both stores: GDAL (ogr2ogr through /vsicurl/, which reads in
// byte ranges) finds every feature in the KML, as a placemark at its
// place, and every located feature in the GPX as a waypoint at its place
// (a line or area at its representative point); excelize reads the xlsx
// with every feature's id, version and coordinates.
func TestFilesGIS(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ogr2ogr := need(t, "ogr2ogr", "install gdal-bin")
			srv, st := serveFixtures(t, b)
			for _, sc := range geo.Schemas() {
				fs, err := geo.AllFeatures(context.Background(), st, sc.ID)
				if err != nil {
					t.Fatal(err)
				}
				url := srv.URL + "/collections/" + sc.ID + "/items?f="
				for format, layer := range map[string]string{"kml": sc.TitleZH, "gpx": "waypoints"} {
					out := run(t, ogr2ogr, "-f", "GeoJSON", "/vsistdout/", "/vsicurl/"+url+format, layer)
					var fc struct {
						Features []struct {
							Geometry *struct {
								Type        string          `json:"type"`
								Coordinates json.RawMessage `json:"coordinates"`
							} `json:"geometry"`
							Properties map[string]any `json:"properties"`
						} `json:"features"`
					}
					if err := json.Unmarshal([]byte(out), &fc); err != nil {
						t.Fatalf("%s %s: ogr2ogr output: %v\n%.500s", sc.ID, format, err, out)
					}
					at, types := map[string][]float64{}, map[string]string{}
					for _, g := range fc.Features {
						name, _ := g.Properties["Name"].(string)
						if name == "" {
							name, _ = g.Properties["name"].(string)
						}
						var p []float64
						if g.Geometry != nil {
							types[name] = g.Geometry.Type
							if g.Geometry.Type == "Point" {
								_ = json.Unmarshal(g.Geometry.Coordinates, &p)
							}
						}
						at[name] = p
					}
					located := 0
					for _, f := range fs {
						name := f.Properties["name"].(string)
						pt, ok := geo.RepresentativePoint(f.Geometry)
						if !ok {
							if _, listed := at[name]; format == "kml" && !listed {
								t.Errorf("%s kml: no placemark for the unlocated %s", sc.ID, f.ID)
							}
							continue
						}
						located++
						if gt := f.Geometry.GeoJSONType(); format == "kml" && gt != "Point" {
							if types[name] != gt {
								t.Errorf("%s kml: %s is a %q, want a %s", sc.ID, name, types[name], gt)
							}
							continue
						}
						p := at[name]
						if len(p) < 2 || math.Abs(p[0]-pt[0]) > 1e-7 || math.Abs(p[1]-pt[1]) > 1e-7 {
							t.Errorf("%s %s: %s at %v, want %v", sc.ID, format, name, p, pt)
						}
					}
					want := map[string]int{"kml": len(fs), "gpx": located}[format]
					if len(fc.Features) != want {
						t.Errorf("%s %s: GDAL reads %d features, want %d", sc.ID, format, len(fc.Features), want)
					}
				}

				// The xlsx, as a spreadsheet program gets it.
				res, err := http.Get(url + "xlsx")
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				x, err := excelize.OpenReader(bytes.NewReader(body))
				if err != nil {
					t.Fatalf("%s xlsx: %v", sc.ID, err)
				}
				rows, err := x.GetRows(sc.ID)
				x.Close()
				if err != nil || len(rows) != len(fs)+1 {
					t.Fatalf("%s xlsx: %d rows (%v), want %d and the header", sc.ID, len(rows), err, len(fs))
				}
				col := map[string]int{}
				for i, h := range rows[0] {
					col[h] = i
				}
				for i, f := range fs {
					r := append(rows[i+1], make([]string, len(rows[0]))...)
					if r[col["编号 (id)"]] != f.ID || r[col["版本 (version)"]] != strconv.FormatInt(f.Version, 10) {
						t.Errorf("%s xlsx row %d: id %s version %s, want %s %d", sc.ID, i+2, r[0], r[1], f.ID, f.Version)
					}
					if p, ok := f.Geometry.(interface{ Y() float64 }); ok && f.Geometry.GeoJSONType() == "Point" {
						lat, _ := strconv.ParseFloat(r[col["纬度 WGS-84 (lat)"]], 64)
						if math.Abs(lat-p.Y()) > 1e-7 {
							t.Errorf("%s xlsx %s: lat %v, want %v", sc.ID, f.ID, lat, p.Y())
						}
					}
				}
			}
		})
	}
}
