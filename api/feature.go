package api

import (
	"strconv"

	"hazardmap/geo"
	"hazardmap/geo/geojson"
)

// This file encodes one feature as GET …/items/{featureId} sends it, and
// as the writes answer with it: the view of the client's role, its links,
// and its ETag, which a write's If-Match must send back.

// featureETag returns the ETag of feature f of sc as GET
// …/items/{featureId} sends it to a client of role at base: the version,
// and a hash of the write time (a version can come back when a feature is
// deleted and created again), the links' base and the view.
func featureETag(sc *geo.Schema, f *geo.Feature, base string, role geo.Role) string {
	return makeETag(f.Version, "feature", sc.ID, f.ID, strconv.FormatInt(f.Updated.UnixNano(), 10), base, viewName(role))
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
