package api

import (
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"hazardmap/geo"
)

// This file documents the OGC API – Features routes: the capabilities
// (landing page, conformance, API, collections) and, for every collection,
// its description, its items and its features with their writes.

// documentCapabilities documents /, /conformance, /api and /collections;
// html says whether / serves the map to browsers.
func (d document) documentCapabilities(html bool) {
	landing := answer("The landing page: links to the API definition, the conformance classes and the collections.",
		jsonContent(typeJSON, schemaRef("landingPage")), dataHeaders())
	landingParam, landingDesc := "f", "The landing page as JSON."
	if html {
		landing.Content[typeHTML] = &openapi3.MediaType{Schema: str()}
		d.parameter("f-landing", queryParam("f", "json for the landing page, html for the map. Without it the Accept header decides.",
			str(enum("json", "html"))))
		landingParam = "f-landing"
		landingDesc = "The web map for browsers (Accept ranks text/html above JSON, or f=html); the landing page as JSON otherwise."
	}
	d.read("/", &openapi3.Operation{OperationID: "getLandingPage", Tags: []string{"Capabilities"}, Summary: "Landing page",
		Description: landingDesc, Parameters: paramRefs(landingParam),
		Responses: responses(map[int]*openapi3.Response{200: landing}, 304, 400, 500)})
	d.read("/conformance", &openapi3.Operation{OperationID: "getConformanceDeclaration", Tags: []string{"Capabilities"},
		Summary: "The OGC API conformance classes this server implements", Parameters: paramRefs("f"),
		Responses: responses(map[int]*openapi3.Response{200: answer("The conformance classes.",
			jsonContent(typeJSON, schemaRef("confClasses")), dataHeaders())}, 304, 400, 500)})
	d.read("/api", &openapi3.Operation{OperationID: "getAPIDefinition", Tags: []string{"Capabilities"},
		Summary: "This API definition (OpenAPI 3.0)", Parameters: paramRefs("f"),
		Responses: responses(map[int]*openapi3.Response{200: answer("The OpenAPI document.",
			jsonContent(typeOpenAPI, object(nil, nil)), dataHeaders())}, 304, 400, 500)})
	d.read("/collections", &openapi3.Operation{OperationID: "getCollections", Tags: []string{"Capabilities"},
		Summary: "The feature collections, with their extents", Parameters: paramRefs("f"),
		Responses: responses(map[int]*openapi3.Response{200: answer("Every collection.",
			jsonContent(typeJSON, schemaRef("collections")), dataHeaders())}, 304, 400, 500, 503)})
	d.parameter("If-Match", &openapi3.Parameter{Name: "If-Match", In: openapi3.ParameterInHeader, Required: true,
		Description: "The ETag of the version being changed, as GET of the feature sent it (either encoding's). Without it: 428; a stale one: 412.",
		Schema:      str()})
}

// documentCollection documents the routes of the collection of sc: its
// description, its items (with a filter parameter per filterable
// property) and its features, read and written, with the properties
// visible to view.
func (d document) documentCollection(sc *geo.Schema, view geo.Role) {
	col := "/collections/" + sc.ID
	name := sc.TitleZH + " " + sc.TitleEN
	d.read(col, &openapi3.Operation{OperationID: "describeCollection_" + sc.ID, Tags: []string{sc.ID},
		Summary:     "Describe " + name,
		Description: sc.Description + " The spatial extent is computed from the located features and is absent while there are none.",
		Parameters:  paramRefs("f"),
		Responses: responses(map[int]*openapi3.Response{200: answer("The collection.",
			jsonContent(typeJSON, schemaRef("collection")), dataHeaders())}, 304, 400, 500, 503)})

	itemParams := paramRefs("bbox", "bbox-crs", "datetime", "limit", "offset", "f")
	for _, p := range sc.Properties {
		if p.Filterable {
			d.parameter(sc.ID+"."+p.Name, filterParameter(p))
			itemParams = append(itemParams, paramRef(sc.ID+"."+p.Name))
		}
	}
	d.schema(sc.ID+".properties", propertiesSchema(sc, view))
	d.schema(sc.ID+".feature", featureSchema(sc))
	d.schema(sc.ID+".featureCollection", featureCollectionSchema(sc))
	d.read(col+"/items", &openapi3.Operation{OperationID: "getFeatures_" + sc.ID, Tags: []string{sc.ID},
		Summary: "Features of " + name,
		Description: "A page of the features of " + sc.TitleEN + " in id order, as GeoJSON (RFC 7946, WGS-84 longitude/latitude). " +
			"Filters are ANDed. Features with a null geometry (no known location) never match a bbox. " +
			"Unknown, repeated or malformed parameters are a 400 naming the parameter.",
		Parameters: itemParams,
		Responses: responses(map[int]*openapi3.Response{200: answer(
			"The page, with next and prev links (also as Link headers) that keep the query.",
			jsonContent(typeGeoJSON, schemaRef(sc.ID+".featureCollection")), dataHeaders())},
			304, 400, 500, 503)})
	d.read(col+"/items/{featureId}", &openapi3.Operation{OperationID: "getFeature_" + sc.ID, Tags: []string{sc.ID},
		Summary: "One feature of " + name, Parameters: paramRefs("featureId", "f"),
		Responses: responses(map[int]*openapi3.Response{200: answer("The feature. Its ETag changes whenever the feature does.",
			jsonContent(typeGeoJSON, schemaRef(sc.ID+".feature")), dataHeaders())},
			304, 400, 404, 500, 503)})
	d.documentWrites(sc)
	d.documentFiles(sc) // openapi_files.go
}

// documentWrites documents the writes of the collection of sc: POST on
// the items path, PUT, PATCH and DELETE on the item path.
func (d document) documentWrites(sc *geo.Schema) {
	name := sc.TitleZH + " " + sc.TitleEN
	d.schema(sc.ID+".featureInput", object([]string{"type", "geometry", "properties"}, openapi3.Schemas{
		"type": constant("Feature"),
		"id":   str(),
		"geometry": object(nil, nil, nullable, desc("A GeoJSON geometry of the collection's types ("+
			strings.Join(sc.GeometryTypes, ", ")+"), or null.")),
		"properties": schemaRef(sc.ID + ".properties"),
	}, desc("A GeoJSON Feature to store; id optional on POST (the server makes one), and on PUT equal to the URL's when given.")))
	d.schema(sc.ID+".patch", object(nil, openapi3.Schemas{
		"type":       constant("Feature"),
		"id":         str(),
		"links":      arrayOf(schemaRef("link")),
		"properties": object(nil, nil),
		"geometry":   object(nil, nil, nullable),
	}, closed, desc("A JSON Merge Patch (RFC 7396) of a feature: properties named replace the feature's (null sets null; "+
		"an array replaces the whole array), geometry replaces it (null clears it). type, id and links may be echoed back and "+
		"are otherwise ignored; the id cannot change.")))

	input := &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{Required: true, Content: content(map[string]*openapi3.SchemaRef{
		typeGeoJSON: schemaRef(sc.ID + ".featureInput"), typeJSON: schemaRef(sc.ID + ".featureInput")})}}
	patch := &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{Required: true, Content: content(map[string]*openapi3.SchemaRef{
		typeMergePatch: schemaRef(sc.ID + ".patch"), typeJSON: schemaRef(sc.ID + ".patch")})}}
	out := jsonContent(typeGeoJSON, schemaRef(sc.ID+".feature"))
	etag := header("The feature's new ETag: send it in If-Match to change it again.")
	ifMatchParams := paramRefs("featureId", "If-Match")

	d.operation(http.MethodPost, "/collections/"+sc.ID+"/items", &openapi3.Operation{OperationID: "createFeature_" + sc.ID,
		Tags: []string{sc.ID}, Summary: "Create a feature of " + name + " (planner)", RequestBody: input,
		Responses: responses(map[int]*openapi3.Response{201: answer("Created, audited, announced on /events.", out,
			openapi3.Headers{"Location": header("The feature's URL."), "ETag": etag})},
			400, 409, 413, 415, 429, 500, 503)})
	item := "/collections/" + sc.ID + "/items/{featureId}"
	d.operation(http.MethodPut, item, &openapi3.Operation{OperationID: "replaceFeature_" + sc.ID, Tags: []string{sc.ID},
		Summary: "Replace a feature of " + name + " (planner)", Parameters: ifMatchParams, RequestBody: input,
		Responses: responses(map[int]*openapi3.Response{200: answer("Replaced.", out, openapi3.Headers{"ETag": etag})},
			400, 404, 412, 413, 415, 428, 429, 500, 503)})
	d.operation(http.MethodPatch, item, &openapi3.Operation{OperationID: "updateFeature_" + sc.ID, Tags: []string{sc.ID},
		Summary:    "Change some properties or the geometry of a feature of " + name + " (planner)",
		Parameters: ifMatchParams, RequestBody: patch,
		Responses: responses(map[int]*openapi3.Response{200: answer("Updated.", out, openapi3.Headers{"ETag": etag})},
			400, 404, 412, 413, 415, 428, 429, 500, 503)})
	d.operation(http.MethodDelete, item, &openapi3.Operation{OperationID: "deleteFeature_" + sc.ID, Tags: []string{sc.ID},
		Summary: "Delete a feature of " + name + " (planner)", Parameters: ifMatchParams,
		Responses: responses(map[int]*openapi3.Response{204: answer("Deleted.", nil, nil)},
			400, 404, 412, 428, 429, 500, 503)})
}
