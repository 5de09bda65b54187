package gpx

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"hazardmap/geo"
)

func TestGPX(t *testing.T) {
	fs := []*geo.Feature{
		{ID: "d-1", Geometry: orb.Point{113.38, 34.79}, Properties: map[string]any{"name": "仓库 <1>", "level": "city",
			"keeper_name": "测试保管", "keeper_phone": "13800138000", "location_precision_m": 11000.0, "location_source": "seat"}},
		{ID: "d-2", Properties: map[string]any{"name": "无位置仓库", "level": "city"}},
	}
	sc, _ := geo.SchemaFor(geo.Depots)
	export := func(role geo.Role) string {
		var b bytes.Buffer
		e, err := NewEncoder(&b, sc, role, time.Date(2025, 2, 10, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			if err := e.Encode(f); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	out := export(geo.RoleCrew)
	var doc struct {
		XMLName   xml.Name `xml:"http://www.topografix.com/GPX/1/1 gpx"`
		Version   string   `xml:"version,attr"`
		Time      string   `xml:"metadata>time"`
		Waypoints []struct {
			Lat  string `xml:"lat,attr"`
			Lon  string `xml:"lon,attr"`
			Name string `xml:"name"`
			Cmt  string `xml:"cmt"`
			Desc string `xml:"desc"`
			Src  string `xml:"src"`
		} `xml:"wpt"`
		Unlocated []string `xml:"extensions>unlocated>id"`
	}
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if doc.Version != "1.1" || doc.Time != "2025-02-10T00:00:00Z" || len(doc.Waypoints) != 1 || len(doc.Unlocated) != 1 || doc.Unlocated[0] != "d-2" {
		t.Fatalf("%+v", doc)
	}
	w := doc.Waypoints[0]
	if w.Lat != "34.79" || w.Lon != "113.38" || w.Name != "仓库 <1>" || !strings.Contains(w.Cmt, "±11000 m") || w.Src != "seat" ||
		!strings.Contains(w.Desc, "保管人电话: 13800138000") {
		t.Errorf("waypoint %+v", w)
	}
	if pub := export(geo.RolePublic); strings.Contains(pub, "13800138000") || strings.Contains(pub, "测试保管") {
		t.Error("the public GPX shows the keeper")
	}
}
