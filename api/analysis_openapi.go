package api

import (
	"hazardmap/geo"
)

// analysisOpenAPI adds the analysis routes (analysis.go) to the OpenAPI
// document: their paths (through add, as openAPI adds every route), their
// parameters and their response schemas.
func analysisOpenAPI(add func(path string, get obj), schemas, params obj) {
	readyEnum := []string{"true", "false", "any"}
	params["analysis.lon"] = obj{"name": "lon", "in": "query", "required": true,
		"description": "Longitude of the position to search from, WGS-84 degrees (e.g. a crew's GPS position).",
		"schema":      obj{"type": "number", "minimum": -180, "maximum": 180}}
	params["analysis.lat"] = obj{"name": "lat", "in": "query", "required": true,
		"description": "Latitude of the position to search from, WGS-84 degrees.",
		"schema":      obj{"type": "number", "minimum": -90, "maximum": 90}}
	params["analysis.k"] = obj{"name": "k", "in": "query", "required": false,
		"description": "How many depots to return, nearest first.",
		"schema":      obj{"type": "integer", "minimum": 1, "maximum": maxNearestK, "default": defaultNearestK}}
	params["analysis.ready"] = obj{"name": "ready", "in": "query", "required": false,
		"description": "true: only depots the readiness rules find ready; false: only depots that are not; any (the default here): no readiness filter. " +
			"The rules (geo/readiness.go): a depot is not ready when a known attribute blocks (floor above the ground floor without a lift, " +
			"entrance too narrow for a truck, no manual door, damp, stock not matching the books, less personal kit than team members); " +
			"unknown attributes are warnings, never blocking.",
		"schema": obj{"type": "string", "enum": readyEnum, "default": "any"}}
	params["analysis.reach-ready"] = obj{"name": "ready", "in": "query", "required": false,
		"description": "true (the default here): only ready depots count and nearer unready ones are listed as skipped; false: only unready ones; any: every depot.",
		"schema":      obj{"type": "string", "enum": readyEnum, "default": "true"}}
	params["analysis.category"] = obj{"name": "category", "in": "query", "required": false,
		"description": "Only depots whose categories include this one (flood 防汛, fire 消防, relief 救灾, other).",
		"schema":      obj{"type": "string", "enum": geo.DepotCategories()}}
	params["analysis.f"] = obj{"name": "f", "in": "query", "required": false,
		"description": "The encoding of the response; only JSON.",
		"schema":      obj{"type": "string", "enum": []string{"json"}}}
	params["analysis.max_distance_m"] = obj{"name": "max_distance_m", "in": "query", "required": false,
		"description": "The planner's threshold in metres (ellipsoidal distance): a hazard whose nearest qualifying depot is at most this far is within.",
		"schema":      obj{"type": "number", "minimum": geo.MinReachDistanceM, "maximum": geo.MaxReachDistanceM, "default": geo.DefaultReachDistanceM}}
	params["analysis.collections"] = obj{"name": "collections", "in": "query", "required": false, "style": "form", "explode": false,
		"description": "The hazard collections to check, comma-separated, in the order to report them (default: both).",
		"schema": obj{"type": "array", "minItems": 1, "maxItems": len(geo.HazardCollections()), "uniqueItems": true,
			"items": obj{"type": "string", "enum": geo.HazardCollections()}}}
	params["analysis.format"] = obj{"name": "format", "in": "query", "required": false,
		"description": "json (the default): the report; geojson: a FeatureCollection of lines hazard → depot for the map.",
		"schema":      obj{"type": "string", "enum": []string{formatJSON, formatGeoJSON}, "default": formatJSON}}
	params["analysis.format-f"] = obj{"name": "f", "in": "query", "required": false,
		"description": "An alias of format (the OGC API spelling); when both are given they must agree.",
		"schema":      obj{"type": "string", "enum": []string{formatJSON, formatGeoJSON}}}

	str := obj{"type": "string"}
	nullableStr := obj{"type": "string", "nullable": true}
	metresSchema := obj{"type": "number", "minimum": 0, "description": "Ellipsoidal (WGS-84) distance in metres, 2 decimals; agrees with PostGIS ST_Distance(geography, geography) to the centimetre."}
	schemas["readinessReason"] = obj{"type": "object", "required": []string{"code", "blocking", "detail_zh", "detail_en"},
		"properties": obj{
			"code":      obj{"type": "string", "description": "A rule of geo/readiness.go, e.g. upper_floor_no_lift, entrance_narrow, no_manual_door, damp, stock_mismatch, kit_short; or a warning about an unknown attribute (floor_unknown, not_inspected, …); or wrong_category."},
			"blocking":  obj{"type": "boolean", "description": "true: this makes the depot not ready; false: a warning about what is not known."},
			"detail_zh": str, "detail_en": str,
		}}
	filters := obj{"type": "object", "required": []string{"ready", "category"}, "properties": obj{
		"ready":    obj{"type": "boolean", "nullable": true, "description": "null: no readiness filter."},
		"category": obj{"type": "string", "nullable": true, "enum": enumValues(geo.DepotCategories(), true)},
	}}
	schemas["analysisFilters"] = filters
	schemas["nearestDepots"] = obj{"type": "object", "required": []string{"point", "k", "filters", "depots"},
		"properties": obj{
			"point":   obj{"type": "object", "required": []string{"lon", "lat"}, "properties": obj{"lon": obj{"type": "number"}, "lat": obj{"type": "number"}}},
			"k":       obj{"type": "integer"},
			"filters": ref("schemas", "analysisFilters"),
			"depots": obj{"type": "array", "description": "Nearest first; ties by id. Fewer than k when fewer depots qualify; unlocated depots are never listed.",
				"items": obj{"type": "object", "required": []string{"id", "name", "level", "ready", "reasons", "distance_m", "geometry"},
					"properties": obj{
						"id": str, "name": str, "level": str,
						"ready":      obj{"type": "boolean"},
						"reasons":    obj{"type": "array", "items": ref("schemas", "readinessReason"), "description": "Blocking reasons first, then warnings."},
						"distance_m": metresSchema,
						"geometry":   ref("schemas", geometrySchemaName("Point")),
					}}},
		}}
	results := []string{geo.ReachWithin, geo.ReachBeyond, geo.ReachUnlocated, geo.ReachNoDepot}
	summary := obj{"type": "object", "required": []string{"hazards", "within", "beyond", "unlocated", "no_depot", "uncertain"}, "properties": obj{
		"hazards": obj{"type": "integer"}, "within": obj{"type": "integer"}, "beyond": obj{"type": "integer"},
		"unlocated": obj{"type": "integer"}, "no_depot": obj{"type": "integer"},
		"uncertain": obj{"type": "integer", "description": "How many within and beyond results are uncertain (see hazards[].uncertain)."},
	}}
	precision := obj{"type": "number", "nullable": true, "description": "location_precision_m of the feature: how far the real place may be from its coordinates; null when unknown."}
	schemas["reachSummary"] = summary
	schemas["reach"] = obj{"type": "object", "required": []string{"max_distance_m", "collections", "filters", "summary", "hazards"},
		"properties": obj{
			"max_distance_m": obj{"type": "number"},
			"collections":    obj{"type": "array", "items": obj{"type": "string", "enum": geo.HazardCollections()}},
			"filters":        ref("schemas", "analysisFilters"),
			"summary":        ref("schemas", "reachSummary"),
			"hazards": obj{"type": "array", "description": "Every hazard of the collections, by collection then id; unlocated ones included.",
				"items": obj{"type": "object", "required": []string{"collection", "id", "name", "kind", "located", "result", "depot", "skipped", "location_precision_m", "uncertain"},
					"properties": obj{
						"collection": str, "id": str, "name": str,
						"kind":                 obj{"type": "string", "description": "The waterlogging point's kind (railway_underpass, road_spot) or relocation_site."},
						"located":              obj{"type": "boolean"},
						"result":               obj{"type": "string", "enum": results},
						"location_precision_m": precision,
						"uncertain": obj{"type": "boolean", "description": "true when the stated location precision of the hazard and the depot (their sum) " +
							"could put the true distance on the other side of max_distance_m, or either precision is unknown. Most depots stand on their " +
							"township seat with a radius covering the township until their addresses are surveyed."},
						"depot": obj{"type": "object", "nullable": true, "required": []string{"id", "name", "distance_m", "ready", "location_precision_m"},
							"description": "The nearest depot the filters keep, from the hazard's representative point (a point itself; halfway along a line; the centroid of a polygon). null when unlocated or no_depot.",
							"properties":  obj{"id": str, "name": str, "distance_m": metresSchema, "ready": obj{"type": "boolean"}, "location_precision_m": precision}},
						"skipped": obj{"type": "array", "description": "Depots nearer than the chosen one (for no_depot: every located depot) that the filters passed over, nearest first.",
							"items": obj{"type": "object", "required": []string{"id", "name", "distance_m", "reasons", "why"},
								"properties": obj{
									"id": str, "name": str, "distance_m": metresSchema,
									"reasons": obj{"type": "array", "items": ref("schemas", "readinessReason")},
									"why":     obj{"type": "string", "enum": []string{geo.WhyNotReady, geo.WhyWrongCategory}},
								}}},
					}}},
		}}
	schemas["reachLines"] = obj{"type": "object", "required": []string{"type", "features"},
		"properties": obj{
			"type":           obj{"type": "string", "enum": []string{"FeatureCollection"}},
			"max_distance_m": obj{"type": "number"},
			"summary":        ref("schemas", "reachSummary"),
			"features": obj{"type": "array", "items": obj{"type": "object", "required": []string{"type", "id", "geometry", "properties"},
				"properties": obj{
					"type": obj{"type": "string", "enum": []string{"Feature"}},
					"id":   obj{"type": "string", "description": "collection/id of the hazard."},
					"geometry": obj{"nullable": true, "description": "A LineString hazard → depot (straight in longitude/latitude, for drawing); a Point at the hazard for no_depot; null for an unlocated hazard.",
						"oneOf": []any{ref("schemas", geometrySchemaName("LineString")), ref("schemas", geometrySchemaName("Point"))}},
					"properties": obj{"type": "object", "required": []string{"hazard_collection", "hazard_id", "hazard_name", "depot_id", "depot_name", "distance_m", "result", "uncertain"},
						"properties": obj{
							"hazard_collection": str, "hazard_id": str, "hazard_name": str,
							"depot_id": nullableStr, "depot_name": nullableStr,
							"distance_m": obj{"type": "number", "nullable": true},
							"result":     obj{"type": "string", "enum": results},
							"uncertain":  obj{"type": "boolean"},
						}},
				}}},
		}}

	add("/analysis/nearest-depots", obj{"operationId": "getNearestDepots", "tags": []string{"Analysis"},
		"summary": "The depots nearest to a position, with their readiness",
		"description": "The k depots nearest to (lon, lat) by ellipsoidal (WGS-84) distance, exact on both stores, optionally only ready (or unready) " +
			"depots or those of a category. Each depot comes with its readiness and the reasons (blocking ones, then warnings about unknown attributes).",
		"parameters": []any{ref("parameters", "analysis.lon"), ref("parameters", "analysis.lat"), ref("parameters", "analysis.k"),
			ref("parameters", "analysis.ready"), ref("parameters", "analysis.category"), ref("parameters", "analysis.f")},
		"responses": obj{
			"200": obj{"description": "The nearest depots.", "headers": dataHeaders(),
				"content": content(obj{typeJSON: ref("schemas", "nearestDepots")})},
			"304": ref("responses", "NotModified"),
			"400": ref("responses", "BadRequest"),
			"500": ref("responses", "ServerError"),
			"503": ref("responses", "Unavailable"),
		}})
	add("/analysis/reach", obj{"operationId": "getReach", "tags": []string{"Analysis"},
		"summary": "Which hazards no ready depot reaches, and why",
		"description": "For every waterlogging point and riverbed settlement: the nearest depot that the filters keep (ready ones by default), " +
			"its distance, whether that is within max_distance_m, and the nearer depots that were passed over with their reasons. " +
			"Unlocated hazards are listed as such. The ETag names the data versions of the depots and the hazard collections.",
		"parameters": []any{ref("parameters", "analysis.max_distance_m"), ref("parameters", "analysis.collections"),
			ref("parameters", "analysis.reach-ready"), ref("parameters", "analysis.category"), ref("parameters", "analysis.format"),
			ref("parameters", "analysis.format-f")},
		"responses": obj{
			"200": obj{"description": "The reach report (format=json) or the lines for the map (format=geojson).", "headers": dataHeaders(),
				"content": content(obj{typeJSON: ref("schemas", "reach"), typeGeoJSON: ref("schemas", "reachLines")})},
			"304": ref("responses", "NotModified"),
			"400": ref("responses", "BadRequest"),
			"500": ref("responses", "ServerError"),
			"503": ref("responses", "Unavailable"),
		}})
}
