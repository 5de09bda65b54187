// Package kml writes a collection as KML 2.2 for Google Earth, 奥维互动地图
// (Ovital) and the other map apps field teams in China carry, and for
// GDAL: one Placemark per feature, coloured as the web map colours it
// (waterlogging points by status, depots by readiness), with the
// attributes the reader's role may see in its description and
// ExtendedData, the location's precision stated in the description and
// drawn as a circle in a folder of its own. Coordinates are WGS-84, as
// KML requires: no GCJ-02 shift is applied.
package kml

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"html"
	"image/color"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	kml "github.com/twpayne/go-kml/v3"
	"github.com/twpayne/go-kml/v3/icon"
	"github.com/twpayne/go-kml/v3/sphere"

	"hazardmap/geo"
	"hazardmap/geo/sheet"
)

// The map's colours (web/map/src/style.css).
var (
	statusColours = map[string]color.RGBA{
		"clear":   {0x2e, 0x7d, 0x32, 0xff},
		"ponding": {0xe6, 0x51, 0x00, 0xff},
		"closed":  {0xc6, 0x28, 0x28, 0xff},
		"":        {0x6d, 0x78, 0x80, 0xff}, // no report yet
	}
	relocationColour = color.RGBA{0x7b, 0x1f, 0xa2, 0xff}
	readyColour      = color.RGBA{0x1b, 0x7a, 0x2b, 0xff}
	notReadyColour   = color.RGBA{0xc6, 0x28, 0x28, 0xff}
	circleColour     = color.RGBA{0x0b, 0x3d, 0x91, 0xff}
)

var statusZH = map[string]string{"clear": "畅通", "ponding": "积水", "closed": "封闭", "": "未上报"}

// Encoder streams the placemarks of one collection. Only a small record
// per located feature (for its precision circle) is kept until Close.
type Encoder struct {
	bw      *bufio.Writer
	x       *xml.Encoder
	sc      *geo.Schema
	role    geo.Role
	circles []circle
	n       int
}

type circle struct {
	name   string
	center orb.Point
	radius float64
}

// NewEncoder writes the start of a KML document of sc, as role may see
// it, to w.
func NewEncoder(w io.Writer, sc *geo.Schema, role geo.Role) (*Encoder, error) {
	e := &Encoder{bw: bufio.NewWriter(w), sc: sc, role: role}
	e.x = xml.NewEncoder(e.bw)
	if _, err := io.WriteString(e.bw, xml.Header+`<kml xmlns="`+kml.Namespace+`"><Document>`); err != nil {
		return nil, err
	}
	head := []kml.Element{
		kml.Name(sc.TitleZH + " " + sc.TitleEN),
		kml.Description("荥阳市防汛风险图 hazardmap: " + sc.Description + " 坐标为WGS-84（未作GCJ-02偏移）；每个点的定位精度见其说明，并在“定位精度圈”文件夹中画出。 Coordinates are WGS-84 (no GCJ-02 shift); each placemark states its location precision, drawn in the folder of precision circles."),
	}
	styles := e.styles()
	for _, id := range slices.Sorted(maps.Keys(styles)) {
		head = append(head, kml.SharedStyle(id, styles[id]...))
	}
	for _, el := range head {
		if err := e.x.Encode(el); err != nil {
			return nil, err
		}
	}
	if _, err := io.WriteString(e.bw, "<Folder>"); err != nil {
		return nil, err
	}
	return e, e.x.Encode(kml.Name(sc.TitleZH))
}

// styles returns the shared styles by id.
func (e *Encoder) styles() map[string][]kml.Element {
	point := func(shape string, c color.Color) []kml.Element {
		return []kml.Element{
			kml.IconStyle(kml.Color(c), kml.Scale(1.1), kml.Icon(kml.Href(icon.ShapeHref(shape)))),
			kml.LineStyle(kml.Color(c), kml.Width(4)),
			kml.PolyStyle(kml.Color(withAlpha(c, 0x66))),
		}
	}
	out := map[string][]kml.Element{
		"circle": {kml.LineStyle(kml.Color(circleColour), kml.Width(1.5)), kml.PolyStyle(kml.Color(withAlpha(circleColour, 0x22)))},
	}
	switch e.sc.ID {
	case geo.WaterloggingPoints:
		for status, c := range statusColours {
			out["underpass-"+orNull(status)] = point("open-diamond", c)
			out["road-"+orNull(status)] = point("placemark_circle", c)
		}
	case geo.Depots:
		out["ready"] = point("square", readyColour)
		out["not-ready"] = point("square", notReadyColour)
	default:
		out["relocation"] = point("triangle", relocationColour)
	}
	return out
}

func withAlpha(c color.Color, a uint8) color.Color {
	r := c.(color.RGBA)
	r.A = a
	return r
}

func orNull(s string) string {
	if s == "" {
		return "null"
	}
	return s
}

// styleOf returns the style id of feature properties p.
func (e *Encoder) styleOf(p map[string]any) string {
	switch e.sc.ID {
	case geo.WaterloggingPoints:
		status, _ := p["status"].(string)
		if _, ok := statusColours[status]; !ok {
			status = ""
		}
		shape := "road-"
		if p["kind"] == "railway_underpass" {
			shape = "underpass-"
		}
		return shape + orNull(status)
	case geo.Depots:
		if geo.DepotReadiness(p).Ready {
			return "ready"
		}
		return "not-ready"
	}
	return "relocation"
}

// Encode writes f as a Placemark, without what the role may not see. A
// feature without a location is written without geometry, so that it is
// still listed.
func (e *Encoder) Encode(f *geo.Feature) error {
	f = e.sc.Redact(f, e.role)
	name, _ := f.Properties["name"].(string)
	if name == "" {
		name = f.ID
	}
	pm := kml.Placemark(
		kml.Name(name),
		kml.Description(e.description(f)),
		kml.StyleURL("#"+e.styleOf(f.Properties)),
		e.extendedData(f),
	)
	if f.Geometry != nil {
		g, err := geometry(f.Geometry)
		if err != nil {
			return fmt.Errorf("kml: %s: %w", f.ID, err)
		}
		pm.Append(g)
		if r, ok := f.Properties["location_precision_m"].(float64); ok && r > 0 {
			if c, ok := geo.RepresentativePoint(f.Geometry); ok {
				e.circles = append(e.circles, circle{name: name, center: c, radius: r})
			}
		}
	}
	e.n++
	return e.x.Encode(pm)
}

// Close writes the folder of precision circles and ends the document.
func (e *Encoder) Close() error {
	if _, err := io.WriteString(e.bw, "</Folder><Folder>"); err != nil {
		return err
	}
	folder := []kml.Element{kml.Name("定位精度圈 Location precision"), kml.Visibility(false),
		kml.Description("每个点的实际位置可能在其圆圈内任何地方（半径 = location_precision_m）。 The real place may be anywhere in its circle.")}
	for _, el := range folder {
		if err := e.x.Encode(el); err != nil {
			return err
		}
	}
	for _, c := range e.circles {
		ring := sphere.FAI.Circle(kml.Coordinate{Lon: c.center[0], Lat: c.center[1]}, c.radius, max(c.radius/1000, 0.5))
		pm := kml.Placemark(kml.Name(c.name+" ±"+strconv.FormatFloat(c.radius, 'f', -1, 64)+" m"),
			kml.Visibility(false), kml.StyleURL("#circle"),
			kml.Polygon(kml.OuterBoundaryIs(kml.LinearRing(kml.Coordinates(ring...)))))
		if err := e.x.Encode(pm); err != nil {
			return err
		}
	}
	if _, err := io.WriteString(e.bw, "</Folder></Document></kml>\n"); err != nil {
		return err
	}
	if err := e.x.Flush(); err != nil {
		return err
	}
	return e.bw.Flush()
}

// description returns the placemark's description: the feature's
// attributes as an HTML table (Chinese titles), its precision and, for
// depots, readiness.
func (e *Encoder) description(f *geo.Feature) string {
	var b strings.Builder
	row := func(k, v string) {
		if v == "" {
			return
		}
		fmt.Fprintf(&b, "<tr><th align=\"left\" valign=\"top\">%s</th><td>%s</td></tr>", html.EscapeString(k),
			strings.ReplaceAll(html.EscapeString(v), "\n", "<br>"))
	}
	b.WriteString("<table>")
	switch {
	case f.Geometry == nil:
		row("定位精度", "无位置（报告未给出） no location")
	default:
		if r, ok := f.Properties["location_precision_m"].(float64); ok {
			row("定位精度", "±"+strconv.FormatFloat(r, 'f', -1, 64)+" 米 m（WGS-84）")
		}
	}
	if e.sc.ID == geo.WaterloggingPoints {
		status, _ := f.Properties["status"].(string)
		row("状态", statusZH[status])
	}
	if e.sc.ID == geo.Depots {
		rd := geo.DepotReadiness(f.Properties)
		text := "可用 ready"
		if !rd.Ready {
			text = "未就绪 not ready"
		}
		for _, r := range rd.Reasons {
			text += "\n· " + r.DetailZH
		}
		row("就绪情况", text)
	}
	for _, p := range e.sc.Visible(e.role) {
		if p.Name == "name" {
			continue
		}
		row(p.Title, sheet.FormatValue(p, f.Properties[p.Name]))
	}
	row("编号 id", f.ID)
	b.WriteString("</table>")
	return b.String()
}

// extendedData returns the feature's attributes as KML Data, by key.
func (e *Encoder) extendedData(f *geo.Feature) kml.Element {
	data := []kml.Element{
		kml.Data("id", kml.Value(f.ID)),
		kml.Data("version", kml.Value(strconv.FormatInt(f.Version, 10))),
	}
	for _, p := range e.sc.Visible(e.role) {
		data = append(data, kml.Data(p.Name, kml.DisplayName(p.Title), kml.Value(sheet.FormatValue(p, f.Properties[p.Name]))))
	}
	return kml.ExtendedData(data...)
}

// geometry converts an orb geometry to KML.
func geometry(g orb.Geometry) (kml.Element, error) {
	coords := func(ps []orb.Point) kml.Element {
		cs := make([]kml.Coordinate, len(ps))
		for i, p := range ps {
			cs[i] = kml.Coordinate{Lon: p[0], Lat: p[1]}
		}
		return kml.Coordinates(cs...)
	}
	polygon := func(p orb.Polygon) kml.Element {
		el := kml.Polygon()
		for i, ring := range p {
			lr := kml.LinearRing(coords(ring))
			if i == 0 {
				el.Append(kml.OuterBoundaryIs(lr))
			} else {
				el.Append(kml.InnerBoundaryIs(lr))
			}
		}
		return el
	}
	switch t := g.(type) {
	case orb.Point:
		return kml.Point(coords([]orb.Point{t})), nil
	case orb.LineString:
		return kml.LineString(coords(t)), nil
	case orb.Polygon:
		return polygon(t), nil
	case orb.MultiPoint:
		m := kml.MultiGeometry()
		for _, p := range t {
			m.Append(kml.Point(coords([]orb.Point{p})))
		}
		return m, nil
	case orb.MultiLineString:
		m := kml.MultiGeometry()
		for _, l := range t {
			m.Append(kml.LineString(coords(l)))
		}
		return m, nil
	case orb.MultiPolygon:
		m := kml.MultiGeometry()
		for _, p := range t {
			m.Append(polygon(p))
		}
		return m, nil
	}
	return nil, fmt.Errorf("cannot write a %T as KML", g)
}
