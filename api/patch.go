package api

import (
	"encoding/json"

	"hazardmap/geo"
	"hazardmap/geo/geojson"
)

// parseMergePatch reads a JSON Merge Patch (RFC 7396) of a GeoJSON
// Feature whose id is id: an object with any of
//   - "properties": an object whose members replace the feature's (a
//     property's array value replaces the whole array; null sets the
//     property to null, which the nullable properties accept and the
//     others refuse — a declared property is never removed);
//   - "geometry": a GeoJSON geometry, or null to clear the location;
//   - "type" ("Feature"), "id" (must be id) and "links" (ignored), so that
//     a client may send back what it read.
//
// Anything else is an Invalid error naming the member.
func parseMergePatch(raw []byte, id string) (geo.Patch, error) {
	var m map[string]json.RawMessage
	if err := decodeObject(raw, &m, `a merge patch is a JSON object such as {"properties":{"status":"closed"}}`); err != nil {
		return geo.Patch{}, err
	}
	var p geo.Patch
	for name, v := range m {
		switch name {
		case "type":
			var t string
			if err := json.Unmarshal(v, &t); err != nil || t != "Feature" {
				return geo.Patch{}, geo.InvalidField("type", `want "Feature"`)
			}
		case "id":
			var s string
			if err := json.Unmarshal(v, &s); err != nil || s != id {
				return geo.Patch{}, geo.InvalidField("id", "the id of a feature cannot be changed; want %q or no id", id)
			}
		case "links":
		case "properties":
			if isNull(v) {
				return geo.Patch{}, geo.InvalidField("properties", "null would remove every property; name the properties to change")
			}
			var props map[string]any
			if err := json.Unmarshal(v, &props); err != nil {
				return geo.Patch{}, geo.InvalidField("properties", "want an object")
			}
			p.Properties = props
		case "geometry":
			g, err := geojson.DecodeGeometry(v, "geometry")
			if err != nil {
				return geo.Patch{}, err
			}
			p.SetGeometry, p.Geometry = true, g
		default:
			return geo.Patch{}, geo.InvalidField(name, "not a member of a feature patch (properties, geometry)")
		}
	}
	return p, nil
}
