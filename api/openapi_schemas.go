package api

import (
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"hazardmap/geo"
)

// This file holds the JSON schemas of the OpenAPI document: constructors
// for the kinds of values, the schemas of every collection's features
// (from geo.Schema), and the schemas and parameters every document has.

// opt refines a schema: a description, bounds, allowed values.
type opt func(*openapi3.Schema)

// newSchema returns a schema of JSON type t refined by opts.
func newSchema(t string, opts []opt) *openapi3.SchemaRef {
	s := &openapi3.Schema{}
	if t != "" {
		s.Type = &openapi3.Types{t}
	}
	for _, o := range opts {
		o(s)
	}
	return s.NewRef()
}

// Schemas of the JSON types.
func str(opts ...opt) *openapi3.SchemaRef     { return newSchema(openapi3.TypeString, opts) }
func integer(opts ...opt) *openapi3.SchemaRef { return newSchema(openapi3.TypeInteger, opts) }
func number(opts ...opt) *openapi3.SchemaRef  { return newSchema(openapi3.TypeNumber, opts) }
func boolean(opts ...opt) *openapi3.SchemaRef { return newSchema(openapi3.TypeBoolean, opts) }

// untyped returns a schema of no particular type (a oneOf, say).
func untyped(opts ...opt) *openapi3.SchemaRef { return newSchema("", opts) }

// dateTime is an RFC 3339 date-time string.
func dateTime(opts ...opt) *openapi3.SchemaRef {
	return str(append([]opt{format("date-time")}, opts...)...)
}

// arrayOf is an array of items.
func arrayOf(items *openapi3.SchemaRef, opts ...opt) *openapi3.SchemaRef {
	return newSchema(openapi3.TypeArray, append([]opt{func(s *openapi3.Schema) { s.Items = items }}, opts...))
}

// object is an object with members, of which required are required.
// Without members it is any object.
func object(required []string, members openapi3.Schemas, opts ...opt) *openapi3.SchemaRef {
	return newSchema(openapi3.TypeObject, append([]opt{func(s *openapi3.Schema) {
		s.Required, s.Properties = required, members
	}}, opts...))
}

// The refinements.
func desc(d string) opt     { return func(s *openapi3.Schema) { s.Description = d } }
func title(t string) opt    { return func(s *openapi3.Schema) { s.Title = t } }
func format(f string) opt   { return func(s *openapi3.Schema) { s.Format = f } }
func minimum(x float64) opt { return func(s *openapi3.Schema) { s.Min = &x } }
func maximum(x float64) opt { return func(s *openapi3.Schema) { s.Max = &x } }
func deflt(v any) opt       { return func(s *openapi3.Schema) { s.Default = v } }
func minItems(n uint64) opt { return func(s *openapi3.Schema) { s.MinItems = n } }
func maxItems(n uint64) opt { return func(s *openapi3.Schema) { s.MaxItems = &n } }
func maxLength(n uint64) opt {
	return func(s *openapi3.Schema) { s.MaxLength = &n }
}
func oneOf(refs ...*openapi3.SchemaRef) opt { return func(s *openapi3.Schema) { s.OneOf = refs } }

// enum allows only values.
func enum[T any](values ...T) opt {
	return func(s *openapi3.Schema) {
		s.Enum = make([]any, len(values))
		for i, v := range values {
			s.Enum[i] = v
		}
	}
}

func nullable(s *openapi3.Schema) { s.Nullable = true }
func unique(s *openapi3.Schema)   { s.UniqueItems = true }

// closed refuses members other than the declared ones.
func closed(s *openapi3.Schema) {
	s.AdditionalProperties = openapi3.AdditionalProperties{Has: ptr(false)}
}

// constant is a string that is always value (a GeoJSON type, say).
func constant(value string) *openapi3.SchemaRef { return str(enum(value)) }

// propertySchema returns the JSON schema of a property's value.
func propertySchema(p geo.Property) *openapi3.SchemaRef {
	opts := []opt{title(p.Title), desc(p.Description)}
	if p.Nullable {
		opts = append(opts, nullable)
	}
	switch p.Type {
	case geo.String:
		if len(p.Enum) > 0 {
			opts = append(opts, enum(enumValues(p.Enum, p.Nullable)...))
		}
		return str(opts...)
	case geo.Integer:
		return integer(opts...)
	case geo.Number:
		return number(opts...)
	case geo.Boolean:
		return boolean(opts...)
	case geo.DateTime:
		return dateTime(opts...)
	case geo.StringList:
		var items []opt
		if len(p.Enum) > 0 {
			items = append(items, enum(p.Enum...))
		}
		return arrayOf(str(items...), opts...)
	case geo.ObjectList:
		return arrayOf(objectSchema(p.Fields), opts...)
	}
	return untyped(opts...)
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
func objectSchema(props []geo.Property, opts ...opt) *openapi3.SchemaRef {
	members := openapi3.Schemas{}
	var required []string
	for _, p := range props {
		members[p.Name] = propertySchema(p)
		if p.Required {
			required = append(required, p.Name)
		}
	}
	return object(required, members, append([]opt{closed}, opts...)...)
}

// propertiesSchema returns the schema of the properties member of a
// feature of sc; only the properties visible to view.
func propertiesSchema(sc *geo.Schema, view geo.Role) *openapi3.SchemaRef {
	return objectSchema(sc.Visible(view), desc("The properties of a feature of "+sc.ID+"."))
}

// filterParameter documents the equality filter on property p.
func filterParameter(p geo.Property) *openapi3.Parameter {
	var sch *openapi3.SchemaRef
	switch p.Type {
	case geo.Integer:
		sch = integer()
	case geo.Number:
		sch = number()
	case geo.Boolean:
		sch = boolean()
	default: // String, StringList: a single string
		var opts []opt
		if len(p.Enum) > 0 {
			opts = append(opts, enum(p.Enum...))
		}
		sch = str(opts...)
	}
	d := "Only features whose " + p.Name + " equals this value"
	if p.Type == geo.StringList {
		d = "Only features whose " + p.Name + " list contains this value"
	}
	d += ". " + p.Title
	if p.Description != "" {
		d += ": " + p.Description
	}
	return queryParam(p.Name, d, sch)
}

// featureSchema returns the schema of a GeoJSON Feature of sc.
func featureSchema(sc *geo.Schema) *openapi3.SchemaRef {
	geoms := make([]*openapi3.SchemaRef, 0, len(sc.GeometryTypes))
	for _, t := range sc.GeometryTypes {
		geoms = append(geoms, schemaRef(geometrySchemaName(t)))
	}
	return object([]string{"type", "id", "geometry", "properties"}, openapi3.Schemas{
		"type": constant("Feature"),
		"id":   str(),
		"geometry": untyped(nullable, oneOf(geoms...), desc("One of "+strings.Join(sc.GeometryTypes, ", ")+
			" in WGS-84 longitude/latitude, at most "+strconv.Itoa(geo.Decimals)+" decimals; null where the location is not known.")),
		"properties": schemaRef(sc.ID + ".properties"),
		"links":      arrayOf(schemaRef("link")),
	})
}

// featureCollectionSchema returns the schema of a page of features of sc.
func featureCollectionSchema(sc *geo.Schema) *openapi3.SchemaRef {
	return object([]string{"type", "features"}, openapi3.Schemas{
		"type":           constant("FeatureCollection"),
		"features":       arrayOf(schemaRef(sc.ID + ".feature")),
		"links":          arrayOf(schemaRef("link")),
		"numberMatched":  integer(minimum(0), desc("How many features matched the query, on every page.")),
		"numberReturned": integer(minimum(0), desc("How many features are on this page.")),
		"timeStamp": dateTime(desc("The time of the last write to the collection: the page is the data as of then. " +
			"Absent while the collection has never been written.")),
	})
}

// geometrySchemaName names the component schema of a geometry type.
func geometrySchemaName(t string) string { return strings.ToLower(t) + "GeoJSON" }

// baseSchemas returns the schemas every document has.
func baseSchemas() openapi3.Schemas {
	position := arrayOf(number(), minItems(2), maxItems(2), desc("[longitude, latitude] in WGS-84."))
	line := arrayOf(position, minItems(2))
	ring := arrayOf(position, minItems(4))
	polygon := arrayOf(ring, minItems(1))
	geometry := func(t string, coords *openapi3.SchemaRef) *openapi3.SchemaRef {
		return object([]string{"type", "coordinates"}, openapi3.Schemas{"type": constant(t), "coordinates": coords})
	}
	links := arrayOf(schemaRef("link"))
	return openapi3.Schemas{
		"link": object([]string{"href", "rel"}, openapi3.Schemas{"href": str(), "rel": str(), "type": str(), "title": str()}),
		"landingPage": object([]string{"links"}, openapi3.Schemas{
			"title": str(), "description": str(), "links": links,
		}),
		"confClasses": object([]string{"conformsTo"}, openapi3.Schemas{"conformsTo": arrayOf(str())}),
		"collections": object([]string{"links", "collections"}, openapi3.Schemas{
			"links": links, "collections": arrayOf(schemaRef("collection")),
		}),
		"collection": object([]string{"id", "links"}, openapi3.Schemas{
			"id":          str(),
			"title":       str(desc("The Chinese title, then the English one.")),
			"description": str(),
			"links":       links,
			"extent":      schemaRef("extent"),
			"itemType":    constant("feature"),
			"crs":         arrayOf(str()),
		}),
		"extent": object(nil, openapi3.Schemas{
			"spatial": object(nil, openapi3.Schemas{
				"bbox": arrayOf(arrayOf(number(), minItems(4), maxItems(4)), minItems(1),
					desc("minLon, minLat, maxLon, maxLat of every located feature.")),
				"crs": constant(crs84),
			}),
		}),
		"status": object(nil, openapi3.Schemas{"status": str()}),
		"problem": object([]string{"type", "title", "status"}, openapi3.Schemas{
			"type":       str(),
			"title":      str(),
			"status":     integer(),
			"detail":     str(),
			"instance":   str(),
			"request_id": str(),
			"errors": arrayOf(object([]string{"field", "detail"}, openapi3.Schemas{
				"field": str(), "detail": str(),
			})),
			"current": object([]string{"etag", "version", "updated"}, openapi3.Schemas{
				"etag":    str(),
				"version": integer(),
				"updated": dateTime(),
				"feature": object(nil, nil, desc("The feature as GET sends it to the caller.")),
			}, desc("In a 412: the current version of the feature.")),
		}, desc("An RFC 9457 problem. errors names each input field that was wrong (for a query, the parameter).")),
		geometrySchemaName("Point"):        geometry("Point", position),
		geometrySchemaName("LineString"):   geometry("LineString", line),
		geometrySchemaName("Polygon"):      geometry("Polygon", polygon),
		geometrySchemaName("MultiPolygon"): geometry("MultiPolygon", arrayOf(polygon, minItems(1))),
	}
}

// baseParameters returns the parameters shared by the collections.
func baseParameters() map[string]*openapi3.Parameter {
	return map[string]*openapi3.Parameter{
		"bbox": listParam("bbox", "Only features whose geometry intersects this box (edges included): minLon,minLat,maxLon,maxLat "+
			"in WGS-84 (CRS84). Six numbers (with heights) are accepted and the heights ignored. A minimum above its maximum is a 400.",
			arrayOf(number(), minItems(4), maxItems(6))),
		"bbox-crs": queryParam("bbox-crs", "The CRS of bbox; only CRS84 is supported.",
			str(format("uri"), enum(crs84), deflt(crs84))),
		"datetime": queryParam("datetime", "Only features last written (created or changed) at this time or within this interval: "+
			"an RFC 3339 date-time, a date (that whole UTC day), or START/END with .. for an open end, e.g. 2024-07-20T00:00:00Z/..",
			str()),
		"limit": listParam("limit", "The page size. A value above the maximum is a 400, not clamped: follow the next link for more.",
			integer(minimum(1), maximum(maxLimit), deflt(defaultLimit))),
		"offset": queryParam("offset", "How many matching features to skip, in id order. The next and prev links carry it.",
			integer(minimum(0), deflt(0))),
		"f": queryParam("f", "The encoding of the response; only JSON (GeoJSON for features) is offered here.",
			str(enum("json"))),
		"featureId": {Name: "featureId", In: openapi3.ParameterInPath, Required: true, Description: "The id of a feature.", Schema: str()},
	}
}
