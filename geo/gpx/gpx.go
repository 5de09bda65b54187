// Package gpx writes a collection as GPX 1.1 waypoints, the format every
// handheld GPS and navigation app reads: one <wpt> per located feature,
// at the point itself or, for a line or an area, at geo.RepresentativePoint
// (on the line, or the area's centroid), named in Chinese, with the
// attributes the reader's role may see and the location's precision in
// its description. GPX has no place for a feature without a location;
// those are listed by id at the end (in the document's extensions), so
// that none disappears unnoticed.
//
// The GPX schema is small and fixed, so this package writes it with
// encoding/xml: the GPX library of the KML package's author models
// geometry with go-geom, which this project does not use.
package gpx

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"hazardmap/geo"
	"hazardmap/geo/sheet"
)

// Namespace is the GPX 1.1 namespace; ExtensionsNamespace is this
// service's, for the list of features without a location.
const (
	Namespace           = "http://www.topografix.com/GPX/1/1"
	ExtensionsNamespace = "https://hazardmap.invalid/gpx/1"
)

// waypoint is a GPX wptType, with the elements this package writes, in
// the schema's order.
type waypoint struct {
	XMLName xml.Name `xml:"wpt"`
	Lat     string   `xml:"lat,attr"`
	Lon     string   `xml:"lon,attr"`
	Name    string   `xml:"name"`
	Cmt     string   `xml:"cmt,omitempty"`
	Desc    string   `xml:"desc,omitempty"`
	Src     string   `xml:"src,omitempty"`
	Type    string   `xml:"type,omitempty"`
}

type metadata struct {
	XMLName xml.Name `xml:"metadata"`
	Name    string   `xml:"name"`
	Desc    string   `xml:"desc"`
	Time    string   `xml:"time"`
}

// Encoder streams the waypoints of one collection; it keeps only the ids
// of features without a location until Close.
type Encoder struct {
	bw        *bufio.Writer
	x         *xml.Encoder
	sc        *geo.Schema
	role      geo.Role
	unlocated []string
}

// NewEncoder writes the start of a GPX document of sc, as role may see
// it, to w; now is the metadata's time.
func NewEncoder(w io.Writer, sc *geo.Schema, role geo.Role, now time.Time) (*Encoder, error) {
	e := &Encoder{bw: bufio.NewWriter(w), sc: sc, role: role}
	e.x = xml.NewEncoder(e.bw)
	start := xml.Header + `<gpx version="1.1" creator="hazardmap" xmlns="` + Namespace + `" xmlns:hm="` + ExtensionsNamespace + `">`
	if _, err := io.WriteString(e.bw, start); err != nil {
		return nil, err
	}
	md := metadata{Name: sc.TitleZH + " " + sc.TitleEN, Time: now.UTC().Format(time.RFC3339),
		Desc: sc.Description + " WGS-84 (no GCJ-02 shift). Each waypoint's description states how far off it may be (定位精度)."}
	if err := e.x.Encode(md); err != nil {
		return nil, err
	}
	return e, nil
}

// Encode writes f as a waypoint, without what the role may not see; a
// feature without a location is only counted.
func (e *Encoder) Encode(f *geo.Feature) error {
	f = e.sc.Redact(f, e.role)
	p, ok := geo.RepresentativePoint(f.Geometry)
	if !ok {
		e.unlocated = append(e.unlocated, f.ID)
		return nil
	}
	name, _ := f.Properties["name"].(string)
	if name == "" {
		name = f.ID
	}
	wp := waypoint{
		Lat:  strconv.FormatFloat(p[1], 'f', -1, 64),
		Lon:  strconv.FormatFloat(p[0], 'f', -1, 64),
		Name: name,
		Cmt:  e.comment(f),
		Desc: e.description(f),
		Src:  str(f.Properties["location_source"]),
	}
	wp.Type = e.sc.ID
	if k := str(f.Properties["kind"]); k != "" {
		wp.Type = k
	}
	if err := e.x.Encode(wp); err != nil {
		return fmt.Errorf("gpx: %s: %w", f.ID, err)
	}
	return nil
}

// Close lists the features without a location and ends the document.
func (e *Encoder) Close() error {
	var b strings.Builder
	b.WriteString("<extensions><hm:unlocated count=\"" + strconv.Itoa(len(e.unlocated)) + "\">")
	if err := e.x.Flush(); err != nil {
		return err
	}
	if _, err := io.WriteString(e.bw, b.String()); err != nil {
		return err
	}
	for _, id := range e.unlocated {
		if err := e.x.EncodeElement(id, xml.StartElement{Name: xml.Name{Local: "hm:id"}}); err != nil {
			return err
		}
	}
	if err := e.x.Flush(); err != nil {
		return err
	}
	if _, err := io.WriteString(e.bw, "</hm:unlocated></extensions></gpx>\n"); err != nil {
		return err
	}
	return e.bw.Flush()
}

// comment returns the short line a GPS shows: the precision, and the
// status or readiness.
func (e *Encoder) comment(f *geo.Feature) string {
	var parts []string
	if r, ok := f.Properties["location_precision_m"].(float64); ok {
		parts = append(parts, "定位精度 ±"+strconv.FormatFloat(r, 'f', -1, 64)+" m")
	}
	if f.Geometry != nil && f.Geometry.GeoJSONType() != "Point" {
		parts = append(parts, "代表点 representative point of a "+f.Geometry.GeoJSONType())
	}
	switch e.sc.ID {
	case geo.WaterloggingPoints:
		if s := str(f.Properties["status"]); s != "" {
			parts = append(parts, "状态 "+s)
		}
	case geo.Depots:
		if geo.DepotReadiness(f.Properties).Ready {
			parts = append(parts, "可用 ready")
		} else {
			parts = append(parts, "未就绪 not ready")
		}
	}
	return strings.Join(parts, "；")
}

// description returns every visible attribute as "标题: value" lines.
func (e *Encoder) description(f *geo.Feature) string {
	var lines []string
	for _, p := range e.sc.Visible(e.role) {
		if v := sheet.FormatValue(p, f.Properties[p.Name]); v != "" && p.Name != "name" && p.Name != "location_source" {
			lines = append(lines, p.Title+": "+v)
		}
	}
	lines = append(lines, "编号 id: "+f.ID)
	return strings.Join(lines, "\n")
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
