package api

import (
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"

	"hazardmap/geo"
)

// This file documents the routes of what crews, planners and admins
// record and read back: status reports, the audit log, the event stream
// and the tokens.

// historyParams returns the parameters of a history route (observations,
// audit): its own, then those of every history.
func historyParams(own ...string) openapi3.Parameters {
	return paramRefs(append(own, "history.datetime", "history.from", "history.to", "history.limit", "history.offset", "f")...)
}

// pageSchema is a page of a history: its counts, links and the entries
// under member.
func pageSchema(member string, entry *openapi3.SchemaRef, extra openapi3.Schemas) *openapi3.SchemaRef {
	members := openapi3.Schemas{
		"numberMatched":  integer(minimum(0)),
		"numberReturned": integer(minimum(0)),
		"links":          arrayOf(schemaRef("link")),
		member:           arrayOf(entry),
	}
	required := []string{"numberMatched", "numberReturned", "links", member}
	for name, s := range extra {
		members[name] = s
		required = append([]string{name}, required...)
	}
	return object(required, members)
}

// documentObservations documents the status-report routes and the
// parameters of the history routes.
func (d document) documentObservations() {
	for name, p := range map[string]*openapi3.Parameter{
		"history.datetime": queryParam("datetime", "Only entries made within this instant or interval (ends included): an RFC 3339 "+
			"date-time, a date, or START/END with .. for an open end. Not with from/to.", str()),
		"history.from":   queryParam("from", "Only entries made at or after this RFC 3339 date-time.", dateTime()),
		"history.to":     queryParam("to", "Only entries made before this RFC 3339 date-time.", dateTime()),
		"history.limit":  queryParam("limit", "The page size; follow the next link for more.", integer(minimum(1), maximum(maxHistoryLimit), deflt(defaultHistoryLimit))),
		"history.offset": queryParam("offset", "How many entries to skip, newest first.", integer(minimum(0), deflt(0))),
	} {
		d.parameter(name, p)
	}
	d.schema("actor", object([]string{"id", "name", "role"}, openapi3.Schemas{
		"id": str(), "name": str(), "role": str(enum(geo.RolePublic, geo.RoleSensor, geo.RoleCrew, geo.RolePlanner, geo.RoleAdmin)),
	}))
	d.schema("observation", object([]string{"id", "feature_id", "time", "observed_at", "depth_cm", "status"}, openapi3.Schemas{
		"id":          integer(),
		"feature_id":  str(),
		"time":        dateTime(desc("When the server received it.")),
		"observed_at": dateTime(nullable, desc("When the crew observed, if the phone said (a queued report).")),
		"depth_cm":    number(minimum(0), maximum(geo.MaxDepthCM)),
		"status":      str(enum(geo.ObservationStatuses()...)),
		"note":        str(),
		"position":    object(nil, nil, nullable, desc("Where the reporter stood: a GeoJSON Point.")),
		"accuracy_m":  number(desc("How far position may be from where the reporter stood, in metres, as the phone said.")),
		"photo": object([]string{"href", "width", "height", "bytes"}, openapi3.Schemas{
			"href":  str(desc("GET it (crew and above): the JPEG as the server re-encoded it, without EXIF or other metadata.")),
			"width": integer(), "height": integer(), "bytes": integer(),
		}, nullable, desc("The report's photo, or null.")),
		"reporter": schemaRef("actor"),
	}, desc("A status report. note, position, accuracy_m, photo and reporter are shown to crews and above only.")))
	d.schema("observationInput", object([]string{"depth_cm", "status"}, openapi3.Schemas{
		"depth_cm":    number(minimum(0), maximum(geo.MaxDepthCM), desc("Water depth in centimetres.")),
		"status":      str(enum(geo.ObservationStatuses()...)),
		"note":        str(maxLength(geo.MaxNoteRunes), nullable),
		"position":    object(nil, nil, nullable, desc("Where the reporter stands: a GeoJSON Point in WGS-84.")),
		"accuracy_m":  number(nullable, minimum(0), maximum(geo.MaxAccuracyM), desc("The accuracy of position in metres (coords.accuracy); needs position.")),
		"observed_at": dateTime(nullable, desc("When observed, for a report queued on the phone (at most 7 days old, 5 minutes ahead).")),
	}, closed, desc("A status report from the spot. Water deeper than 15 cm on a carriageway is waterlogging by GB 51222-2017: "+
		"clear is refused above it, ponding at 0 cm; closed goes with any depth (closing a road is the crew's call).")))

	d.read(observationsRoute, &openapi3.Operation{OperationID: "getObservations", Tags: []string{geo.WaterloggingPoints},
		Summary:    "The status reports of a waterlogging point, newest first",
		Parameters: historyParams("featureId"),
		Responses: responses(map[int]*openapi3.Response{200: answer("A page of the history, with next and prev links.",
			jsonContent(typeJSON, pageSchema("observations", schemaRef("observation"), openapi3.Schemas{"feature_id": str()})), nil)},
			400, 404, 500, 503)})
	d.operation(http.MethodPost, observationsRoute, &openapi3.Operation{OperationID: "addObservation", Tags: []string{geo.WaterloggingPoints},
		Summary: "Report the status of a waterlogging point from the spot (crew)",
		Description: "Becomes the point's status (status, depth_cm, status_updated_at) and joins its history, audited, announced on /events. " +
			"A report older than the current status (queued on a phone) joins the history only (current: false). If-Match is optional; when given it must be current.",
		Parameters: openapi3.Parameters{paramRef("featureId"), {Value: &openapi3.Parameter{Name: "If-Match", In: openapi3.ParameterInHeader,
			Description: "Optional: the point's ETag the report is based on.", Schema: str()}}},
		RequestBody: &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{Required: true,
			Content: content(map[string]*openapi3.SchemaRef{
				typeJSON: schemaRef("observationInput"),
				"multipart/form-data": object([]string{"report"}, openapi3.Schemas{
					"report": str(desc("The report's JSON (observationInput).")),
					"photo": str(format("binary"), desc("One JPEG, at most 2 MiB and 2048 px a side (the map sends ≤ 1600 px). "+
						"The server decodes it and encodes it again, so nothing but its pixels is kept (no EXIF: not the phone's position, model or owner).")),
				}, closed),
			})}},
		Responses: responses(map[int]*openapi3.Response{201: answer("Recorded.",
			jsonContent(typeJSON, object([]string{"observation", "current", "feature"}, openapi3.Schemas{
				"observation": schemaRef("observation"),
				"current":     boolean(desc("Whether the report became the point's status.")),
				"feature":     schemaRef(geo.WaterloggingPoints + ".feature"),
			})), openapi3.Headers{"ETag": header("The point's new ETag.")})},
			400, 404, 412, 413, 415, 428, 429, 500, 503)})
	keyed(d.Paths.Value(observationsRoute).Post)
}

// documentAudit documents GET /audit.
func (d document) documentAudit() {
	collections := geo.LedgerCollections()
	for _, sc := range geo.Schemas() {
		collections = append(collections, sc.ID)
	}
	d.parameter("audit.collection", queryParam("collection", "Only the entries of this collection (or of tokens).", str(enum(collections...))))
	d.parameter("audit.feature_id", queryParam("feature_id", "Only the entries of this feature (with collection).", str()))
	feature := object(nil, nil, nullable, desc("The whole feature (GeoJSON), household detail included; null where there is none."))
	d.schema("auditEntry", object([]string{"seq", "time", "actor", "collection", "feature_id", "action", "version", "before", "after"}, openapi3.Schemas{
		"seq":        integer(desc("Commit order; the id of the change on /events.")),
		"time":       dateTime(),
		"actor":      schemaRef("actor"),
		"collection": str(),
		"feature_id": str(),
		"action":     str(enum(geo.Actions()...)),
		"version":    integer(desc("The version after the write; 0 after a delete.")),
		"before":     feature,
		"after":      feature,
	}))
	d.read("/audit", &openapi3.Operation{OperationID: "getAudit", Tags: []string{"Audit"}, Summary: "The audit log, newest first (planner)",
		Description: "Every write: who (token id, name, role), when, what, and the feature before and after, recorded in the same transaction as the write.",
		Parameters:  historyParams("audit.collection", "audit.feature_id"),
		Responses: responses(map[int]*openapi3.Response{200: answer("A page of entries, with next and prev links.",
			jsonContent(typeJSON, pageSchema("entries", schemaRef("auditEntry"), nil)), nil)}, 400, 500, 503)})
}

// documentEvents documents GET /events.
func (d document) documentEvents() {
	d.parameter("events.after", queryParam("after", "Resume after this event id (a seq); the Last-Event-ID header, which a "+
		"reconnecting EventSource sends, wins over it.", integer(minimum(0))))
	d.parameter("Last-Event-ID", &openapi3.Parameter{Name: "Last-Event-ID", In: openapi3.ParameterInHeader,
		Description: "The id of the last event received: the stream resumes after it and misses nothing.", Schema: str()})
	d.read("/events", &openapi3.Operation{OperationID: "getEvents", Tags: []string{"Capabilities"},
		Summary: "Live updates: every change, as Server-Sent Events",
		Description: "An event per change, on every instance: `id:` the change's seq, `event:` the action (create, replace, patch, delete, " +
			"import, seed, observe, revoke, propose, accept, reject; link to admins), `data:` {collection, id, action, version, time}, never feature data — refetch the feature " +
			"through the API. Token changes go to admins only. The stream opens with an event `ready` whose id is where it starts; a " +
			"comment line every 15 s keeps it alive; `reset` tells a client that was away too long to refetch everything. " +
			"A client too slow to keep up is disconnected and resumes with Last-Event-ID.",
		Parameters: paramRefs("events.after", "Last-Event-ID", "f"),
		Responses: responses(map[int]*openapi3.Response{200: answer("The event stream.", jsonContent("text/event-stream", str()), nil)},
			400, 500, 503)})
}

// documentTokens documents the admin's token routes.
func (d document) documentTokens() {
	when := dateTime(nullable)
	roles := enum(geo.RoleSensor, geo.RoleCrew, geo.RolePlanner, geo.RoleAdmin)
	d.schema("token", object([]string{"id", "name", "role", "created", "expires", "revoked", "status"}, openapi3.Schemas{
		"id":      str(),
		"name":    str(),
		"role":    str(roles),
		"created": dateTime(),
		"expires": when,
		"revoked": when,
		"status":  str(enum(geo.TokenActive, geo.TokenRevoked, geo.TokenExpired)),
		"token":   str(desc("The secret, in the answer to POST /tokens only: it is shown once, and only its hash is stored.")),
	}))
	d.read("/tokens", &openapi3.Operation{OperationID: "getTokens", Tags: []string{"Admin"},
		Summary: "Every token (admin), without secrets or hashes", Parameters: paramRefs("f"),
		Responses: responses(map[int]*openapi3.Response{200: answer("The tokens, revoked and expired ones included.",
			jsonContent(typeJSON, object([]string{"tokens"}, openapi3.Schemas{"tokens": arrayOf(schemaRef("token"))})), nil)},
			400, 500, 503)})
	d.operation(http.MethodPost, "/tokens", &openapi3.Operation{OperationID: "createToken", Tags: []string{"Admin"}, Summary: "Make a token (admin)",
		Description: "The answer holds the secret, this once; only its SHA-256 is stored.",
		RequestBody: &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{Required: true, Content: jsonContent(typeJSON,
			object([]string{"name", "role"}, openapi3.Schemas{
				"name":       str(desc("Whose token, e.g. 城建局一队.")),
				"role":       str(roles),
				"expires_in": str(desc("Lifetime as a Go duration, e.g. 720h (1m to 87600h); none: until revoked.")),
			}, closed))}},
		Responses: responses(map[int]*openapi3.Response{201: answer("The token, with its secret.", jsonContent(typeJSON, schemaRef("token")), nil)},
			400, 413, 415, 429, 500, 503)})
	d.operation(http.MethodDelete, "/tokens/{tokenId}", &openapi3.Operation{OperationID: "revokeToken", Tags: []string{"Admin"},
		Summary:     "Revoke a token (admin)",
		Description: "The token stops working at once on every instance. Revoking a revoked token is not an error.",
		Parameters: openapi3.Parameters{{Value: &openapi3.Parameter{Name: "tokenId", In: openapi3.ParameterInPath, Required: true,
			Schema: str()}}},
		Responses: responses(map[int]*openapi3.Response{204: answer("Revoked.", nil, nil)}, 404, 429, 500, 503)})
}
