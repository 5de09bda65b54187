package api

import (
	"github.com/getkin/kin-openapi/openapi3"

	"hazardmap/geo"
)

// documentAnalysis documents the analysis routes (analysis.go): their
// parameters, their response schemas and their paths.
func (d document) documentAnalysis() {
	readyEnum := enum("true", "false", "any")
	formats := enum(formatJSON, formatGeoJSON)
	for name, p := range map[string]*openapi3.Parameter{
		"analysis.lon": {Name: "lon", In: openapi3.ParameterInQuery, Required: true,
			Description: "Longitude of the position to search from, WGS-84 degrees (e.g. a crew's GPS position).",
			Schema:      number(minimum(-180), maximum(180))},
		"analysis.lat": {Name: "lat", In: openapi3.ParameterInQuery, Required: true,
			Description: "Latitude of the position to search from, WGS-84 degrees.",
			Schema:      number(minimum(-90), maximum(90))},
		"analysis.k": queryParam("k", "How many depots to return, nearest first.",
			integer(minimum(1), maximum(maxNearestK), deflt(defaultNearestK))),
		"analysis.ready": queryParam("ready", "true: only depots the readiness rules find ready; false: only depots that are not; "+
			"any (the default here): no readiness filter. The rules (geo/readiness.go): a depot is not ready when a known attribute "+
			"blocks (floor above the ground floor without a lift, a narrow entrance that hinders taking supplies out, no manual door, damp, stock not "+
			"matching the books, less personal kit than team members); unknown attributes are warnings, never blocking.",
			str(readyEnum, deflt("any"))),
		"analysis.reach-ready": queryParam("ready", "true (the default here): only ready depots count and nearer unready ones are "+
			"listed as skipped; false: only unready ones; any: every depot.", str(readyEnum, deflt("true"))),
		"analysis.category": queryParam("category", "Only depots whose categories include this one (flood 防汛, fire 消防, relief 救灾, other).",
			str(enum(geo.DepotCategories()...))),
		"analysis.f": queryParam("f", "The encoding of the response; only JSON.", str(enum("json"))),
		"analysis.max_distance_m": queryParam("max_distance_m", "The planner's threshold in metres (ellipsoidal distance): "+
			"a hazard whose nearest qualifying depot is at most this far is within.",
			number(minimum(geo.MinReachDistanceM), maximum(geo.MaxReachDistanceM), deflt(geo.DefaultReachDistanceM))),
		"analysis.collections": listParam("collections", "The hazard collections to check, comma-separated, in the order to report them (default: both).",
			arrayOf(str(enum(geo.HazardCollections()...)), minItems(1), maxItems(uint64(len(geo.HazardCollections()))), unique)),
		"analysis.format": queryParam("format", "json (the default): the report; geojson: a FeatureCollection of lines hazard → depot for the map.",
			str(formats, deflt(formatJSON))),
		"analysis.format-f": queryParam("f", "An alias of format (the OGC API spelling); when both are given they must agree.", str(formats)),
	} {
		d.parameter(name, p)
	}
	for name, s := range analysisSchemas() {
		d.schema(name, s)
	}

	d.read("/analysis/nearest-depots", &openapi3.Operation{OperationID: "getNearestDepots", Tags: []string{"Analysis"},
		Summary: "The depots nearest to a position, with their readiness",
		Description: "The k depots nearest to (lon, lat) by ellipsoidal (WGS-84) distance, exact on both stores, optionally only ready (or unready) " +
			"depots or those of a category. Each depot comes with its readiness and the reasons (blocking ones, then warnings about unknown attributes).",
		Parameters: paramRefs("analysis.lon", "analysis.lat", "analysis.k", "analysis.ready", "analysis.category", "analysis.f"),
		Responses: responses(map[int]*openapi3.Response{200: answer("The nearest depots.",
			jsonContent(typeJSON, schemaRef("nearestDepots")), dataHeaders())}, 304, 400, 500, 503)})
	d.read("/analysis/reach", &openapi3.Operation{OperationID: "getReach", Tags: []string{"Analysis"},
		Summary: "Which hazards no ready depot reaches, and why",
		Description: "For every waterlogging point and riverbed settlement: the nearest depot that the filters keep (ready ones by default), " +
			"its distance, whether that is within max_distance_m, and the nearer depots that were passed over with their reasons. " +
			"Unlocated hazards are listed as such. The ETag names the data versions of the depots and the hazard collections.",
		Parameters: paramRefs("analysis.max_distance_m", "analysis.collections", "analysis.reach-ready", "analysis.category",
			"analysis.format", "analysis.format-f"),
		Responses: responses(map[int]*openapi3.Response{200: answer("The reach report (format=json) or the lines for the map (format=geojson).",
			content(map[string]*openapi3.SchemaRef{typeJSON: schemaRef("reach"), typeGeoJSON: schemaRef("reachLines")}), dataHeaders())},
			304, 400, 500, 503)})
}

// analysisSchemas returns the schemas of the analysis responses.
func analysisSchemas() openapi3.Schemas {
	metres := number(minimum(0), desc("Ellipsoidal (WGS-84) distance in metres, 2 decimals; agrees with PostGIS "+
		"ST_Distance(geography, geography) to the centimetre."))
	precision := number(nullable, desc("location_precision_m of the feature: how far the real place may be from its coordinates; null when unknown."))
	results := enum(geo.ReachWithin, geo.ReachBeyond, geo.ReachUnlocated, geo.ReachNoDepot)
	return openapi3.Schemas{
		"readinessReason": object([]string{"code", "blocking", "detail_zh", "detail_en"}, openapi3.Schemas{
			"code": str(desc("A rule of geo/readiness.go, e.g. upper_floor_no_lift, entrance_narrow, no_manual_door, damp, stock_mismatch, " +
				"kit_short; or a warning about an unknown attribute (floor_unknown, not_inspected, …); or wrong_category.")),
			"blocking":  boolean(desc("true: this makes the depot not ready; false: a warning about what is not known.")),
			"detail_zh": str(), "detail_en": str(),
		}),
		"analysisFilters": object([]string{"ready", "category"}, openapi3.Schemas{
			"ready":    boolean(nullable, desc("null: no readiness filter.")),
			"category": str(nullable, enum(enumValues(geo.DepotCategories(), true)...)),
		}),
		"nearestDepots": object([]string{"point", "k", "filters", "depots"}, openapi3.Schemas{
			"point":   object([]string{"lon", "lat"}, openapi3.Schemas{"lon": number(), "lat": number()}),
			"k":       integer(),
			"filters": schemaRef("analysisFilters"),
			"depots": arrayOf(object([]string{"id", "name", "level", "ready", "reasons", "distance_m", "geometry"}, openapi3.Schemas{
				"id": str(), "name": str(), "level": str(),
				"ready":      boolean(),
				"reasons":    arrayOf(schemaRef("readinessReason"), desc("Blocking reasons first, then warnings.")),
				"distance_m": metres,
				"geometry":   schemaRef(geometrySchemaName("Point")),
			}), desc("Nearest first; ties by id. Fewer than k when fewer depots qualify; unlocated depots are never listed.")),
		}),
		"reachSummary": object([]string{"hazards", "within", "beyond", "unlocated", "no_depot", "uncertain"}, openapi3.Schemas{
			"hazards": integer(), "within": integer(), "beyond": integer(), "unlocated": integer(), "no_depot": integer(),
			"uncertain": integer(desc("How many within and beyond results are uncertain (see hazards[].uncertain).")),
		}),
		"reach": object([]string{"max_distance_m", "collections", "filters", "summary", "hazards"}, openapi3.Schemas{
			"max_distance_m": number(),
			"collections":    arrayOf(str(enum(geo.HazardCollections()...))),
			"filters":        schemaRef("analysisFilters"),
			"summary":        schemaRef("reachSummary"),
			"hazards": arrayOf(object([]string{"collection", "id", "name", "kind", "located", "result", "depot", "skipped",
				"location_precision_m", "uncertain"}, openapi3.Schemas{
				"collection": str(), "id": str(), "name": str(),
				"kind":                 str(desc("The waterlogging point's kind (railway_underpass, road_spot) or relocation_site.")),
				"located":              boolean(),
				"result":               str(results),
				"location_precision_m": precision,
				"uncertain": boolean(desc("true when the stated location precision of the hazard and the depot (their sum) " +
					"could put the true distance on the other side of max_distance_m, or either precision is unknown. Most depots stand on their " +
					"township seat with a radius covering the township until their addresses are surveyed.")),
				"depot": object([]string{"id", "name", "distance_m", "ready", "location_precision_m"}, openapi3.Schemas{
					"id": str(), "name": str(), "distance_m": metres, "ready": boolean(), "location_precision_m": precision,
				}, nullable, desc("The nearest depot the filters keep, from the hazard's representative point (a point itself; halfway along "+
					"a line; the centroid of a polygon). null when unlocated or no_depot.")),
				"skipped": arrayOf(object([]string{"id", "name", "distance_m", "reasons", "why"}, openapi3.Schemas{
					"id": str(), "name": str(), "distance_m": metres,
					"reasons": arrayOf(schemaRef("readinessReason")),
					"why":     str(enum(geo.WhyNotReady, geo.WhyWrongCategory)),
				}), desc("Depots nearer than the chosen one (for no_depot: every located depot) that the filters passed over, nearest first.")),
			}), desc("Every hazard of the collections, by collection then id; unlocated ones included.")),
		}),
		"reachLines": object([]string{"type", "features"}, openapi3.Schemas{
			"type":           constant("FeatureCollection"),
			"max_distance_m": number(),
			"summary":        schemaRef("reachSummary"),
			"features": arrayOf(object([]string{"type", "id", "geometry", "properties"}, openapi3.Schemas{
				"type": constant("Feature"),
				"id":   str(desc("collection/id of the hazard.")),
				"geometry": untyped(nullable, oneOf(schemaRef(geometrySchemaName("LineString")), schemaRef(geometrySchemaName("Point"))),
					desc("A LineString hazard → depot (straight in longitude/latitude, for drawing); a Point at the hazard for no_depot; "+
						"null for an unlocated hazard.")),
				"properties": object([]string{"hazard_collection", "hazard_id", "hazard_name", "depot_id", "depot_name", "distance_m",
					"result", "uncertain"}, openapi3.Schemas{
					"hazard_collection": str(), "hazard_id": str(), "hazard_name": str(),
					"depot_id": str(nullable), "depot_name": str(nullable),
					"distance_m": number(nullable),
					"result":     str(results),
					"uncertain":  boolean(),
				}),
			})),
		}),
	}
}
