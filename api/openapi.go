package api

import (
	"strconv"
	"strings"

	"hazardmap/geo"
)

// This file writes the OpenAPI 3.0 document served at /api. It is built
// from geo.Schemas(), so every collection's properties and filters appear
// with their types and allowed values; TestOpenAPI validates it and checks
// that it lists exactly the routes of routes.go.

// obj is a JSON object of the document. encoding/json writes its keys
// sorted, so the document is the same bytes every time.
type obj = map[string]any

// ref returns a JSON reference to a component.
func ref(kind, name string) obj { return obj{"$ref": "#/components/" + kind + "/" + name} }

// openAPI returns the document for links starting with base. full says
// whether it shows the Private properties (household detail): planners
// get that document, everyone else one without them.
func (s *Server) openAPI(base string, full bool) obj {
	paths := obj{}
	add := func(path string, get obj) {
		head := obj{}
		for k, v := range get {
			head[k] = v
		}
		head["operationId"] = "head_" + get["operationId"].(string)
		head["summary"] = "Headers of: " + get["summary"].(string)
		heads := obj{}
		for code, r := range get["responses"].(obj) {
			if code == "200" {
				r = obj{"description": "As GET, without the body.", "headers": dataHeaders()}
			}
			heads[code] = r
		}
		head["responses"] = heads
		paths[path] = obj{"get": get, "head": head}
	}

	landing := obj{
		"200": obj{"description": "The landing page: links to the API definition, the conformance classes and the collections.",
			"headers": dataHeaders(),
			"content": content(obj{typeJSON: ref("schemas", "landingPage")})},
		"304": ref("responses", "NotModified"),
		"400": ref("responses", "BadRequest"),
		"500": ref("responses", "ServerError"),
	}
	landingParams := []any{ref("parameters", "f")}
	landingDesc := "The landing page as JSON."
	if s.opts.Map != nil {
		landing["200"].(obj)["content"].(obj)[typeHTML] = obj{"schema": obj{"type": "string"}}
		landingParams = []any{ref("parameters", "f-landing")}
		landingDesc = "The web map for browsers (Accept ranks text/html above JSON, or f=html); the landing page as JSON otherwise."
	}
	add("/", obj{"operationId": "getLandingPage", "tags": []string{"Capabilities"}, "summary": "Landing page",
		"description": landingDesc, "parameters": landingParams, "responses": landing})
	add("/conformance", obj{"operationId": "getConformanceDeclaration", "tags": []string{"Capabilities"},
		"summary":    "The OGC API conformance classes this server implements",
		"parameters": []any{ref("parameters", "f")},
		"responses": obj{
			"200": obj{"description": "The conformance classes.", "headers": dataHeaders(),
				"content": content(obj{typeJSON: ref("schemas", "confClasses")})},
			"304": ref("responses", "NotModified"),
			"400": ref("responses", "BadRequest"),
			"500": ref("responses", "ServerError"),
		}})
	add("/api", obj{"operationId": "getAPIDefinition", "tags": []string{"Capabilities"},
		"summary":    "This API definition (OpenAPI 3.0)",
		"parameters": []any{ref("parameters", "f")},
		"responses": obj{
			"200": obj{"description": "The OpenAPI document.", "headers": dataHeaders(),
				"content": content(obj{typeOpenAPI: obj{"type": "object"}})},
			"304": ref("responses", "NotModified"),
			"400": ref("responses", "BadRequest"),
			"500": ref("responses", "ServerError"),
		}})
	add("/collections", obj{"operationId": "getCollections", "tags": []string{"Capabilities"},
		"summary":    "The feature collections, with their extents",
		"parameters": []any{ref("parameters", "f")},
		"responses": obj{
			"200": obj{"description": "Every collection.", "headers": dataHeaders(),
				"content": content(obj{typeJSON: ref("schemas", "collections")})},
			"304": ref("responses", "NotModified"),
			"400": ref("responses", "BadRequest"),
			"500": ref("responses", "ServerError"),
			"503": ref("responses", "Unavailable"),
		}})
	schemas := baseSchemas()
	params := baseParameters(s.opts.Map != nil)
	for _, sc := range s.schemas {
		col := "/collections/" + sc.ID
		name := sc.TitleZH + " " + sc.TitleEN
		add(col, obj{"operationId": "describeCollection_" + sc.ID, "tags": []string{sc.ID},
			"summary":     "Describe " + name,
			"description": sc.Description + " The spatial extent is computed from the located features and is absent while there are none.",
			"parameters":  []any{ref("parameters", "f")},
			"responses": obj{
				"200": obj{"description": "The collection.", "headers": dataHeaders(),
					"content": content(obj{typeJSON: ref("schemas", "collection")})},
				"304": ref("responses", "NotModified"),
				"400": ref("responses", "BadRequest"),
				"500": ref("responses", "ServerError"),
				"503": ref("responses", "Unavailable"),
			}})

		itemParams := []any{ref("parameters", "bbox"), ref("parameters", "bbox-crs"), ref("parameters", "datetime"), ref("parameters", "limit"),
			ref("parameters", "offset"), ref("parameters", "f")}
		for _, p := range sc.Properties {
			if !p.Filterable {
				continue
			}
			pname := sc.ID + "." + p.Name
			params[pname] = filterParameter(p)
			itemParams = append(itemParams, ref("parameters", pname))
		}
		schemas[sc.ID+".properties"] = propertiesSchema(sc, full)
		schemas[sc.ID+".feature"] = featureSchema(sc)
		schemas[sc.ID+".featureCollection"] = featureCollectionSchema(sc)
		add(col+"/items", obj{"operationId": "getFeatures_" + sc.ID, "tags": []string{sc.ID},
			"summary": "Features of " + name,
			"description": "A page of the features of " + sc.TitleEN + " in id order, as GeoJSON (RFC 7946, WGS-84 longitude/latitude). " +
				"Filters are ANDed. Features with a null geometry (no known location) never match a bbox. " +
				"Unknown, repeated or malformed parameters are a 400 naming the parameter.",
			"parameters": itemParams,
			"responses": obj{
				"200": obj{"description": "The page, with next and prev links (also as Link headers) that keep the query.",
					"headers": dataHeaders(),
					"content": content(obj{typeGeoJSON: ref("schemas", sc.ID+".featureCollection")})},
				"304": ref("responses", "NotModified"),
				"400": ref("responses", "BadRequest"),
				"500": ref("responses", "ServerError"),
				"503": ref("responses", "Unavailable"),
			}})
		add(col+"/items/{featureId}", obj{"operationId": "getFeature_" + sc.ID, "tags": []string{sc.ID},
			"summary":    "One feature of " + name,
			"parameters": []any{ref("parameters", "featureId"), ref("parameters", "f")},
			"responses": obj{
				"200": obj{"description": "The feature. Its ETag changes whenever the feature does.",
					"headers": dataHeaders(),
					"content": content(obj{typeGeoJSON: ref("schemas", sc.ID+".feature")})},
				"304": ref("responses", "NotModified"),
				"400": ref("responses", "BadRequest"),
				"404": ref("responses", "NotFound"),
				"500": ref("responses", "ServerError"),
				"503": ref("responses", "Unavailable"),
			}})
	}
	analysisOpenAPI(add, schemas, params) // analysis_openapi.go
	add("/healthz", obj{"operationId": "getHealth", "tags": []string{"Operations"},
		"summary":     "Liveness: the process serves HTTP",
		"description": "Does not look at the store, so an orchestrator does not restart a healthy process whose database is away.",
		"responses": obj{
			"200": obj{"description": "Up.", "content": content(obj{typeJSON: ref("schemas", "status")})},
		}})
	add("/readyz", obj{"operationId": "getReadiness", "tags": []string{"Operations"},
		"summary": "Readiness: the store answers",
		"responses": obj{
			"200": obj{"description": "Ready.", "content": content(obj{typeJSON: ref("schemas", "status")})},
			"503": ref("responses", "Unavailable"),
		}})

	doc := obj{
		"openapi": "3.0.3",
		"info": obj{
			"title":       serviceTitle,
			"description": serviceDescription + " Every response carries a strong ETag and asks caches to revalidate (Cache-Control: public, max-age=0, must-revalidate); CORS is open to any origin for GET and HEAD.",
			"version":     "1.0.0",
		},
		"servers": []any{obj{"url": base, "description": "This server"}},
		"tags": []any{
			obj{"name": "Capabilities", "description": "What the service offers."},
			obj{"name": "Operations", "description": "Probes for orchestrators and load balancers."},
			obj{"name": "Analysis", "description": "Nearest depots and the reach of every hazard (analysis.go)."},
		},
		"paths": paths,
		"components": obj{
			"schemas":    schemas,
			"parameters": params,
			"responses":  baseResponses(),
		},
	}
	// The writes, status reports, audit, events and tokens, and every
	// operation's role and security (auth.go).
	s.documentAuth(doc, add, full)
	return doc
}

// content maps media types to schemas.
func content(schemas obj) obj {
	out := obj{}
	for mt, sch := range schemas {
		out[mt] = obj{"schema": sch}
	}
	return out
}

// dataHeaders documents the caching headers of a 200.
func dataHeaders() obj {
	str := obj{"type": "string"}
	return obj{
		"ETag":          obj{"description": "Strong validator; send it back in If-None-Match to get a 304 while nothing changed. Differs between the gzip and identity encodings.", "schema": str},
		"Last-Modified": obj{"description": "Time of the last write to the data shown, when there has been one.", "schema": str},
		"Cache-Control": obj{"description": revalidate + ": caches must revalidate before every use, so that nobody sees stale flood data.", "schema": str},
	}
}

// baseParameters returns the parameters shared by every collection.
func baseParameters(html bool) obj {
	p := obj{
		"bbox": obj{
			"name": "bbox", "in": "query", "required": false, "style": "form", "explode": false,
			"description": "Only features whose geometry intersects this box (edges included): minLon,minLat,maxLon,maxLat in WGS-84 (CRS84). " +
				"Six numbers (with heights) are accepted and the heights ignored. A minimum above its maximum is a 400.",
			"schema": obj{"type": "array", "minItems": 4, "maxItems": 6, "items": obj{"type": "number"}},
		},
		"bbox-crs": obj{
			"name": "bbox-crs", "in": "query", "required": false,
			"description": "The CRS of bbox; only CRS84 is supported.",
			"schema":      obj{"type": "string", "format": "uri", "enum": []string{crs84}, "default": crs84},
		},
		"datetime": obj{
			"name": "datetime", "in": "query", "required": false,
			"description": "Only features last written (created or changed) at this time or within this interval: an RFC 3339 date-time, " +
				"a date (that whole UTC day), or START/END with .. for an open end, e.g. 2024-07-20T00:00:00Z/..",
			"schema": obj{"type": "string"},
		},
		"limit": obj{
			"name": "limit", "in": "query", "required": false, "style": "form", "explode": false,
			"description": "The page size. A value above the maximum is a 400, not clamped: follow the next link for more.",
			"schema":      obj{"type": "integer", "minimum": 1, "maximum": maxLimit, "default": defaultLimit},
		},
		"offset": obj{
			"name": "offset", "in": "query", "required": false,
			"description": "How many matching features to skip, in id order. The next and prev links carry it.",
			"schema":      obj{"type": "integer", "minimum": 0, "default": 0},
		},
		"f": obj{
			"name": "f", "in": "query", "required": false,
			"description": "The encoding of the response; only JSON (GeoJSON for features) is offered here.",
			"schema":      obj{"type": "string", "enum": []string{"json"}},
		},
		"featureId": obj{
			"name": "featureId", "in": "path", "required": true,
			"description": "The id of a feature.",
			"schema":      obj{"type": "string"},
		},
	}
	if html {
		p["f-landing"] = obj{
			"name": "f", "in": "query", "required": false,
			"description": "json for the landing page, html for the map. Without it the Accept header decides.",
			"schema":      obj{"type": "string", "enum": []string{"json", "html"}},
		}
	}
	return p
}

// filterParameter documents the equality filter on property p.
func filterParameter(p geo.Property) obj {
	var sch obj
	switch p.Type {
	case geo.Integer:
		sch = obj{"type": "integer"}
	case geo.Number:
		sch = obj{"type": "number"}
	case geo.Boolean:
		sch = obj{"type": "boolean"}
	default: // String, StringList: a single string
		sch = obj{"type": "string"}
		if len(p.Enum) > 0 {
			sch["enum"] = p.Enum
		}
	}
	desc := "Only features whose " + p.Name + " equals this value"
	if p.Type == geo.StringList {
		desc = "Only features whose " + p.Name + " list contains this value"
	}
	desc += ". " + p.Title
	if p.Description != "" {
		desc += ": " + p.Description
	}
	return obj{"name": p.Name, "in": "query", "required": false, "description": desc, "schema": sch}
}

// propertySchema returns the JSON schema of a property's value.
func propertySchema(p geo.Property) obj {
	var sch obj
	switch p.Type {
	case geo.String:
		sch = obj{"type": "string"}
		if len(p.Enum) > 0 {
			sch["enum"] = enumValues(p.Enum, p.Nullable)
		}
	case geo.Integer:
		sch = obj{"type": "integer"}
	case geo.Number:
		sch = obj{"type": "number"}
	case geo.Boolean:
		sch = obj{"type": "boolean"}
	case geo.DateTime:
		sch = obj{"type": "string", "format": "date-time"}
	case geo.StringList:
		items := obj{"type": "string"}
		if len(p.Enum) > 0 {
			items["enum"] = p.Enum
		}
		sch = obj{"type": "array", "items": items}
	case geo.ObjectList:
		sch = obj{"type": "array", "items": objectSchema(p.Fields)}
	}
	if p.Nullable {
		sch["nullable"] = true
	}
	if p.Title != "" {
		sch["title"] = p.Title
	}
	if p.Description != "" {
		sch["description"] = p.Description
	}
	return sch
}

// enumValues lists the allowed values of an enum; a nullable enum lists
// null too, as OpenAPI 3.0.3 asks.
func enumValues(values []string, nullable bool) []any {
	out := make([]any, 0, len(values)+1)
	for _, v := range values {
		out = append(out, v)
	}
	if nullable {
		out = append(out, nil)
	}
	return out
}

// objectSchema returns the schema of an object with the given members.
func objectSchema(props []geo.Property) obj {
	members := obj{}
	required := []string{}
	for _, p := range props {
		members[p.Name] = propertySchema(p)
		if p.Required {
			required = append(required, p.Name)
		}
	}
	sch := obj{"type": "object", "properties": members, "additionalProperties": false}
	if len(required) > 0 {
		sch["required"] = required
	}
	return sch
}

// propertiesSchema returns the schema of the properties member of a
// feature of sc; without the Private properties unless full.
func propertiesSchema(sc *geo.Schema, full bool) obj {
	props := make([]geo.Property, 0, len(sc.Properties))
	for _, p := range sc.Properties {
		if full || !p.Private {
			props = append(props, p)
		}
	}
	sch := objectSchema(props)
	sch["description"] = "The properties of a feature of " + sc.ID + "."
	return sch
}

// featureSchema returns the schema of a GeoJSON Feature of sc.
func featureSchema(sc *geo.Schema) obj {
	geoms := make([]any, 0, len(sc.GeometryTypes))
	for _, t := range sc.GeometryTypes {
		geoms = append(geoms, ref("schemas", geometrySchemaName(t)))
	}
	return obj{
		"type":     "object",
		"required": []string{"type", "id", "geometry", "properties"},
		"properties": obj{
			"type": obj{"type": "string", "enum": []string{"Feature"}},
			"id":   obj{"type": "string"},
			"geometry": obj{
				"description": "One of " + strings.Join(sc.GeometryTypes, ", ") + " in WGS-84 longitude/latitude, at most " +
					strconv.Itoa(geo.Decimals) + " decimals; null where the location is not known.",
				"nullable": true,
				"oneOf":    geoms,
			},
			"properties": ref("schemas", sc.ID+".properties"),
			"links":      obj{"type": "array", "items": ref("schemas", "link")},
		},
	}
}

// featureCollectionSchema returns the schema of a page of features of sc.
func featureCollectionSchema(sc *geo.Schema) obj {
	return obj{
		"type":     "object",
		"required": []string{"type", "features"},
		"properties": obj{
			"type":           obj{"type": "string", "enum": []string{"FeatureCollection"}},
			"features":       obj{"type": "array", "items": ref("schemas", sc.ID+".feature")},
			"links":          obj{"type": "array", "items": ref("schemas", "link")},
			"numberMatched":  obj{"type": "integer", "minimum": 0, "description": "How many features matched the query, on every page."},
			"numberReturned": obj{"type": "integer", "minimum": 0, "description": "How many features are on this page."},
			"timeStamp": obj{"type": "string", "format": "date-time",
				"description": "The time of the last write to the collection: the page is the data as of then. Absent while the collection has never been written."},
		},
	}
}

// geometrySchemaName names the component schema of a geometry type.
func geometrySchemaName(t string) string { return strings.ToLower(t) + "GeoJSON" }

// baseSchemas returns the schemas every document has.
func baseSchemas() obj {
	position := obj{"type": "array", "minItems": 2, "maxItems": 2, "items": obj{"type": "number"},
		"description": "[longitude, latitude] in WGS-84."}
	line := obj{"type": "array", "minItems": 2, "items": position}
	ring := obj{"type": "array", "minItems": 4, "items": position}
	polygon := obj{"type": "array", "minItems": 1, "items": ring}
	geometry := func(t string, coords obj) obj {
		return obj{"type": "object", "required": []string{"type", "coordinates"}, "properties": obj{
			"type":        obj{"type": "string", "enum": []string{t}},
			"coordinates": coords,
		}}
	}
	link := obj{"type": "object", "required": []string{"href", "rel"}, "properties": obj{
		"href":  obj{"type": "string"},
		"rel":   obj{"type": "string"},
		"type":  obj{"type": "string"},
		"title": obj{"type": "string"},
	}}
	links := obj{"type": "array", "items": ref("schemas", "link")}
	return obj{
		"link": link,
		"landingPage": obj{"type": "object", "required": []string{"links"}, "properties": obj{
			"title": obj{"type": "string"}, "description": obj{"type": "string"}, "links": links,
		}},
		"confClasses": obj{"type": "object", "required": []string{"conformsTo"}, "properties": obj{
			"conformsTo": obj{"type": "array", "items": obj{"type": "string"}},
		}},
		"collections": obj{"type": "object", "required": []string{"links", "collections"}, "properties": obj{
			"links": links, "collections": obj{"type": "array", "items": ref("schemas", "collection")},
		}},
		"collection": obj{"type": "object", "required": []string{"id", "links"}, "properties": obj{
			"id":          obj{"type": "string"},
			"title":       obj{"type": "string", "description": "The Chinese title, then the English one."},
			"description": obj{"type": "string"},
			"links":       links,
			"extent":      ref("schemas", "extent"),
			"itemType":    obj{"type": "string", "enum": []string{"feature"}},
			"crs":         obj{"type": "array", "items": obj{"type": "string"}},
		}},
		"extent": obj{"type": "object", "properties": obj{
			"spatial": obj{"type": "object", "properties": obj{
				"bbox": obj{"type": "array", "minItems": 1, "items": obj{"type": "array", "minItems": 4, "maxItems": 4, "items": obj{"type": "number"}},
					"description": "minLon, minLat, maxLon, maxLat of every located feature."},
				"crs": obj{"type": "string", "enum": []string{crs84}},
			}},
		}},
		"status": obj{"type": "object", "properties": obj{"status": obj{"type": "string"}}},
		"problem": obj{"type": "object", "required": []string{"type", "title", "status"},
			"description": "An RFC 9457 problem. errors names each input field that was wrong (for a query, the parameter).",
			"properties": obj{
				"type":       obj{"type": "string"},
				"title":      obj{"type": "string"},
				"status":     obj{"type": "integer"},
				"detail":     obj{"type": "string"},
				"instance":   obj{"type": "string"},
				"request_id": obj{"type": "string"},
				"errors": obj{"type": "array", "items": obj{"type": "object", "required": []string{"field", "detail"}, "properties": obj{
					"field": obj{"type": "string"}, "detail": obj{"type": "string"},
				}}},
			}},
		geometrySchemaName("Point"):        geometry("Point", position),
		geometrySchemaName("LineString"):   geometry("LineString", line),
		geometrySchemaName("Polygon"):      geometry("Polygon", polygon),
		geometrySchemaName("MultiPolygon"): geometry("MultiPolygon", obj{"type": "array", "minItems": 1, "items": polygon}),
	}
}

// baseResponses returns the shared error and 304 responses.
func baseResponses() obj {
	problem := func(desc string) obj {
		return obj{"description": desc, "content": content(obj{"application/problem+json": ref("schemas", "problem")})}
	}
	return obj{
		"NotModified": obj{"description": "Not modified: the If-None-Match or If-Modified-Since of the request still holds."},
		"BadRequest":  problem("A query parameter is unknown, repeated, malformed or out of range; errors[].field names it."),
		"NotFound":    problem("No such collection or feature."),
		"ServerError": problem("An internal error; the request id is in the server log."),
		"Unavailable": problem("The store cannot be reached right now; retry after Retry-After seconds."),
	}
}
