package kml

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"hazardmap/geo"
)

func features() []*geo.Feature {
	return []*geo.Feature{
		{ID: "wp-a", Version: 2, Geometry: orb.Point{113.40458, 34.798322}, Properties: map[string]any{
			"name": "陇海路与京城路铁路桥涵", "kind": "railway_underpass", "status": "closed", "location_precision_m": 590.0,
			"duty_contact_name": "测试值守", "duty_contact_phone": "13912345678", "note": "<b>&</b>",
			"equipment": []any{map[string]any{"item": "排水泵", "quantity": 2.0}}}},
		{ID: "wp-b", Version: 1, Properties: map[string]any{"name": "未具名道路积水点 1", "kind": "road_spot", "location_precision_m": nil}},
		{ID: "wp-c", Version: 1, Geometry: orb.LineString{{113.35, 34.78}, {113.36, 34.785}}, Properties: map[string]any{
			"name": "郑上路", "kind": "road_spot", "status": "ponding", "location_precision_m": 25.0}},
	}
}

func export(t *testing.T, c string, role geo.Role, fs []*geo.Feature) string {
	t.Helper()
	sc, _ := geo.SchemaFor(c)
	var b bytes.Buffer
	e, err := NewEncoder(&b, sc, role)
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

func TestKML(t *testing.T) {
	out := export(t, geo.WaterloggingPoints, geo.RoleCrew, features())
	var doc struct {
		Document struct {
			Styles []struct {
				ID string `xml:"id,attr"`
			} `xml:"Style"`
			Folders []struct {
				Name       string `xml:"name"`
				Placemarks []struct {
					Name        string `xml:"name"`
					Description string `xml:"description"`
					StyleURL    string `xml:"styleUrl"`
					Point       string `xml:"Point>coordinates"`
					Line        string `xml:"LineString>coordinates"`
					Ring        string `xml:"Polygon>outerBoundaryIs>LinearRing>coordinates"`
					Data        []struct {
						Name  string `xml:"name,attr"`
						Value string `xml:"value"`
					} `xml:"ExtendedData>Data"`
				} `xml:"Placemark"`
			} `xml:"Folder"`
		}
	}
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, out)
	}
	d := doc.Document
	if len(d.Folders) != 2 || len(d.Folders[0].Placemarks) != 3 || len(d.Folders[1].Placemarks) != 2 {
		t.Fatalf("folders %+v", d.Folders)
	}
	pm := d.Folders[0].Placemarks
	if pm[0].Point != "113.40458,34.798322" || pm[0].StyleURL != "#underpass-closed" || pm[1].Point != "" || pm[1].StyleURL != "#road-null" ||
		pm[2].Line != "113.35,34.78 113.36,34.785" || pm[2].StyleURL != "#road-ponding" {
		t.Errorf("placemarks %+v", pm)
	}
	for _, want := range []string{"定位精度", "±590 米", "封闭", "13912345678", "排水泵 | 2", "&amp;lt;b&amp;gt;&amp;amp;&amp;lt;/b&amp;gt;"} {
		if !strings.Contains(out, want) {
			t.Errorf("KML lacks %q", want)
		}
	}
	if !strings.Contains(pm[1].Description, "无位置") {
		t.Errorf("unlocated description %q", pm[1].Description)
	}
	if c := d.Folders[1].Placemarks[0]; !strings.HasPrefix(c.Name, "陇海路与京城路铁路桥涵 ±590") || strings.Count(c.Ring, " ") < 30 {
		t.Errorf("circle %q with %d vertices", c.Name, strings.Count(c.Ring, " "))
	}
	if !strings.Contains(out, `<Style id="underpass-closed"><IconStyle><color>ff2828c6</color>`) {
		t.Error("the closed style is not the map's red (aabbggrr ff2828c6)")
	}
	pub := export(t, geo.WaterloggingPoints, geo.RolePublic, features())
	if strings.Contains(pub, "测试值守") || strings.Contains(pub, "13912345678") || strings.Contains(pub, "duty_contact") {
		t.Error("the public KML shows the duty contact")
	}
	dep := export(t, geo.Depots, geo.RolePublic, []*geo.Feature{{ID: "d", Geometry: orb.Point{113, 34}, Properties: map[string]any{
		"name": "仓库", "floor": 4.0, "keeper_phone": "13800138000"}}})
	if !strings.Contains(dep, "#not-ready") || !strings.Contains(dep, "位于4楼") || strings.Contains(dep, "13800138000") {
		t.Errorf("depot KML: %s", dep)
	}
}
