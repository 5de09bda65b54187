package api

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"hazardmap/geo"
	"hazardmap/geo/geojson"
)

// This file encodes one feature as GET …/items/{featureId} sends it, and
// as the writes answer with it: the view of the client's role, its links,
// and its ETag, which a write's If-Match must send back.

// featureETag returns the ETag of feature f of sc as GET
// …/items/{featureId} sends it to a client of role at base:
// "<version>-<state>-<links>". The version and state (a hash of the
// collection, the id, the write time — a version can come back when a
// feature is deleted and created again — and the view of role) name what
// the client saw, and are all that a write's If-Match is compared on
// (featureState); the last part, a hash of the links' base, only keeps
// bodies with other links (another Host, another --base-url) apart, as a
// strong ETag must. So an ETag read through one host name is good for a
// write through another.
func featureETag(sc *geo.Schema, f *geo.Feature, base string, role geo.Role) string {
	state := makeETag(f.Version, "feature", sc.ID, f.ID, strconv.FormatInt(f.Updated.UnixNano(), 10), viewName(role))
	h := fnv.New32a()
	_, _ = h.Write([]byte(base))
	return strings.TrimSuffix(state, `"`) + fmt.Sprintf(`-%08x"`, h.Sum32())
}

// featureState returns the version and state of a feature ETag (as
// featureETag or gzipETag made it) without its links part, quotes
// included; "" for a tag that is no feature ETag (a weak one included:
// If-Match compares strongly).
func featureState(tag string) string {
	inner, ok := strings.CutPrefix(tag, `"`)
	if !ok {
		return ""
	}
	inner = strings.TrimSuffix(strings.TrimSuffix(inner, `"`), "-gzip")
	parts := strings.Split(inner, "-")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return ""
	}
	return `"` + parts[0] + "-" + parts[1] + `"`
}

// featureBody encodes f as GET …/items/{featureId} sends it to a client
// of role: without what role may not see, with its links; and its ETag.
func featureBody(sc *geo.Schema, f *geo.Feature, base string, role geo.Role) ([]byte, string, error) {
	href := base + "/collections/" + sc.ID
	links, err := marshal([]link{
		{Href: href + "/items/" + f.ID, Rel: "self", Type: typeGeoJSON, Title: "This feature"},
		{Href: href, Rel: "collection", Type: typeJSON, Title: sc.TitleEN},
	})
	if err != nil {
		return nil, "", err
	}
	body, err := geojson.AppendFeature(make([]byte, 0, 1024), sc.Redact(f, role))
	if err != nil {
		return nil, "", err
	}
	// AppendFeature closes the object; reopen it for the links.
	body = append(body[:len(body)-1], `,"links":`...)
	body = append(body, links...)
	body = append(body, '}')
	return body, featureETag(sc, f, base, role), nil
}
