package api

import (
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"

	"hazardmap/geo"
)

// This file documents field mode: the Idempotency-Key every write of the
// phone may carry, a report's photo, location proposals and the session
// of a signed-in phone.

// keyed adds the Idempotency-Key parameter to op, and the answers it may
// bring: 409 (the same key in progress) and 422 (the key used for another
// request).
func keyed(op *openapi3.Operation) {
	op.Parameters = append(op.Parameters, paramRef(headerIdempotencyKey))
	op.Responses.Set("409", responseRef(sharedResponse(http.StatusConflict)))
	op.Responses.Set("422", responseRef(sharedResponse(http.StatusUnprocessableEntity)))
	for code, r := range op.Responses.Map() {
		if code[0] == '2' && r.Value != nil {
			if r.Value.Headers == nil {
				r.Value.Headers = openapi3.Headers{}
			}
			r.Value.Headers[headerReplayed] = header("true when this is the stored answer of an earlier request with the same Idempotency-Key.")
		}
	}
}

// documentField documents field mode's routes and marks the writes that
// take an Idempotency-Key.
func (d document) documentField() {
	d.parameter(headerIdempotencyKey, &openapi3.Parameter{Name: headerIdempotencyKey, In: openapi3.ParameterInHeader,
		Description: "Optional (IETF httpapi draft): a quoted string, e.g. \"8e03978e-40d5-43e8-bc93-6894a57f9324\" (quotes included), " +
			"made once per write (the map makes a UUID when a report is created). The same key with the same request returns the stored " +
			"first answer (Idempotency-Replayed: true) and writes nothing; with another request, 422; while the first is in progress, 409. " +
			"Keys are kept 7 days.",
		Schema: str(maxLength(geo.MaxIdempotencyKey + 2))})
	for _, sc := range geo.Schemas() {
		item := d.Paths.Value("/collections/" + sc.ID + "/items/{featureId}")
		keyed(d.Paths.Value("/collections/" + sc.ID + "/items").Post)
		keyed(item.Put)
		keyed(item.Patch)
		keyed(item.Delete)
		d.documentPropose(sc)
	}
	d.Paths.Value(observationsRoute).Post.Responses.Set("503", responseRef(sharedResponse(http.StatusServiceUnavailable)))
	d.read(photoRoute, &openapi3.Operation{OperationID: "getReportPhoto", Tags: []string{geo.WaterloggingPoints},
		Summary:     "The photo of a status report (crew)",
		Description: "The JPEG as the server re-encoded it (no EXIF or other metadata). It never changes: browsers keep it privately for a year.",
		Parameters: append(paramRefs("featureId"), &openapi3.ParameterRef{Value: &openapi3.Parameter{Name: "observationId",
			In: openapi3.ParameterInPath, Required: true, Schema: integer(minimum(1))}}, paramRef("f")),
		Responses: responses(map[int]*openapi3.Response{200: answer("The photo.", jsonContent("image/jpeg", str(format("binary"))),
			openapi3.Headers{"ETag": header("The SHA-256 of the JPEG."), "Cache-Control": header("private, max-age=31536000, immutable")})},
			304, 400, 404, 500, 503)})
	d.documentProposals()
	d.documentSession()
}

// documentPropose documents the route on which crews propose a location
// for a feature of sc.
func (d document) documentPropose(sc *geo.Schema) {
	op := &openapi3.Operation{OperationID: "proposeLocation_" + sc.ID, Tags: []string{"Field"},
		Summary: "Propose where a feature of " + sc.TitleEN + " is, from the spot (crew)",
		Description: "For a feature with no geometry (待定位) or a location_precision_m above 100 m. position is WGS-84 as the phone's " +
			"geolocation gives it, whatever datum the map's tiles use. method: auto (accuracy ≤ 10 m), accepted (≤ 30 m), dragged " +
			"(the crew placed the pin; any accuracy). A planner accepts or rejects it; every step is audited and on /events.",
		Parameters: paramRefs("featureId"),
		RequestBody: &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{Required: true,
			Content: jsonContent(typeJSON, schemaRef("locationProposalInput"))}},
		Responses: responses(map[int]*openapi3.Response{201: answer("Recorded, pending review.",
			jsonContent(typeJSON, schemaRef("locationProposal")), openapi3.Headers{"Location": header("The proposal's URL.")})},
			400, 404, 409, 413, 415, 429, 500, 503)}
	keyed(op)
	d.operation(http.MethodPost, proposalsPath(sc.ID), op)
}

// documentProposals documents the proposals' schemas and the routes that
// list and decide them.
func (d document) documentProposals() {
	point := object([]string{"type", "coordinates"}, openapi3.Schemas{"type": constant("Point"),
		"coordinates": arrayOf(number(), minItems(2), maxItems(2))}, desc("A GeoJSON Point, WGS-84."))
	d.schema("locationProposalInput", object([]string{"position", "accuracy_m", "method"}, openapi3.Schemas{
		"position":    point,
		"accuracy_m":  number(minimum(0), maximum(geo.MaxAccuracyM), desc("The fix's accuracy in metres (coords.accuracy).")),
		"method":      str(enum(geo.LocateMethods()...)),
		"observed_at": dateTime(nullable, desc("When the phone measured it (a proposal queued offline keeps its time).")),
		"note":        str(nullable, maxLength(geo.MaxNoteRunes)),
	}, closed))
	when := dateTime(nullable)
	d.schema("locationProposal", object([]string{"id", "collection", "feature_id", "position", "accuracy_m", "method", "note",
		"observed_at", "received", "proposer", "status", "decided", "decider", "reason"}, openapi3.Schemas{
		"id": integer(minimum(1)), "collection": str(), "feature_id": str(), "position": point,
		"accuracy_m": number(), "method": str(enum(geo.LocateMethods()...)), "note": str(),
		"observed_at": when, "received": dateTime(), "proposer": schemaRef("actor"),
		"status":  str(enum(geo.ProposalStatuses()...)),
		"decided": when,
		"decider": object([]string{"id", "name", "role"}, openapi3.Schemas{"id": str(), "name": str(), "role": str()}, nullable),
		"reason":  str(nullable, desc("Why it was rejected (or superseded).")),
	}))
	d.parameter("proposals.status", queryParam("status", "Only proposals with this status (the review list: pending).",
		str(enum(geo.ProposalStatuses()...))))
	d.parameter("proposals.collection", queryParam("collection", "Only proposals for features of this collection.", str()))
	d.parameter("proposals.feature_id", queryParam("feature_id", "Only proposals for this feature (with collection).", str()))
	d.parameter("proposalId", &openapi3.Parameter{Name: "proposalId", In: openapi3.ParameterInPath, Required: true,
		Schema: integer(minimum(1))})
	d.read(proposalsRoute, &openapi3.Operation{OperationID: "getLocationProposals", Tags: []string{"Field"},
		Summary:    "Location proposals, oldest first (crew)",
		Parameters: paramRefs("proposals.status", "proposals.collection", "proposals.feature_id", "history.limit", "history.offset", "f"),
		Responses: responses(map[int]*openapi3.Response{200: answer("A page of proposals, with next and prev links.",
			jsonContent(typeJSON, pageSchema("proposals", schemaRef("locationProposal"), nil)), nil)}, 400, 500, 503)})
	d.read(proposalRoute, &openapi3.Operation{OperationID: "getLocationProposal", Tags: []string{"Field"},
		Summary: "One location proposal (crew)", Parameters: paramRefs("proposalId", "f"),
		Responses: responses(map[int]*openapi3.Response{200: answer("The proposal.", jsonContent(typeJSON, schemaRef("locationProposal")), nil)},
			400, 404, 500, 503)})
	accept := &openapi3.Operation{OperationID: "acceptLocationProposal", Tags: []string{"Field"},
		Summary: "Accept a location proposal (planner)",
		Description: "The feature's geometry becomes the proposed point, location_precision_m the measured accuracy, location_source says " +
			"who stood there, when and how, and who accepted; other pending proposals of the feature are superseded. If-Match names the " +
			"feature's ETag (GET of the feature).",
		Parameters: paramRefs("proposalId", "If-Match"),
		Responses: responses(map[int]*openapi3.Response{200: answer("Accepted: the feature as it is now and the proposal.",
			jsonContent(typeJSON, object([]string{"feature", "proposal"}, openapi3.Schemas{
				"feature": object(nil, nil, desc("The feature as GET sends it.")), "proposal": schemaRef("locationProposal")})),
			openapi3.Headers{"ETag": header("The feature's new ETag.")})},
			404, 412, 428, 429, 500, 503)}
	keyed(accept)
	d.operation(http.MethodPost, proposalRoute+"/accept", accept)
	reject := &openapi3.Operation{OperationID: "rejectLocationProposal", Tags: []string{"Field"},
		Summary: "Reject a location proposal with a reason (planner)", Parameters: paramRefs("proposalId"),
		RequestBody: &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{Required: true, Content: jsonContent(typeJSON,
			object([]string{"reason"}, openapi3.Schemas{"reason": str(maxLength(geo.MaxReasonRunes))}, closed))}},
		Responses: responses(map[int]*openapi3.Response{200: answer("Rejected.", jsonContent(typeJSON, schemaRef("locationProposal")), nil)},
			400, 404, 413, 415, 429, 500, 503)}
	keyed(reject)
	d.operation(http.MethodPost, proposalRoute+"/reject", reject)
}

// documentSession documents the routes of a signed-in phone.
func (d document) documentSession() {
	session := object([]string{"signed_in", "role"}, openapi3.Schemas{
		"signed_in": boolean(),
		"token_id":  str(),
		"name":      str(),
		"role":      str(enum(geo.RolePublic, geo.RoleCrew, geo.RolePlanner, geo.RoleAdmin)),
		"expires":   dateTime(nullable),
		"via":       str(enum("cookie", "bearer")),
		"ended":     str(desc("Why the session cookie sent no longer works; it was cleared.")),
	})
	d.operation(http.MethodPost, sessionRoute, &openapi3.Operation{OperationID: "signIn", Tags: []string{"Field"},
		Summary: "Sign a browser in with a one-time code (10 tries a minute per address)",
		Description: "The code of a link made by `hazardmap token create --link` (case, spaces and hyphens free) is exchanged, once, " +
			"for a new token, set as an HttpOnly, SameSite=Strict session cookie (__Host-hm_session, Secure, over https; hm_session over " +
			"http) and never shown. Refused from another origin (403). Takes no Idempotency-Key (400).",
		RequestBody: &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{Required: true, Content: jsonContent(typeJSON,
			object([]string{"code"}, openapi3.Schemas{"code": str(maxLength(64))}, closed))}},
		Responses: responses(map[int]*openapi3.Response{201: answer("Signed in.", jsonContent(typeJSON, session),
			openapi3.Headers{"Set-Cookie": header("The session cookie.")})}, 400, 413, 415, 429, 500, 503)})
	d.read(sessionRoute, &openapi3.Operation{OperationID: "getSession", Tags: []string{"Field"},
		Summary:     "Who this browser (or token) is signed in as",
		Description: "A session cookie that no longer works is cleared and said so (ended), not refused.",
		Parameters:  paramRefs("f"),
		Responses:   responses(map[int]*openapi3.Response{200: answer("The session.", jsonContent(typeJSON, session), nil)}, 400, 500, 503)})
	d.operation(http.MethodDelete, sessionRoute, &openapi3.Operation{OperationID: "signOut", Tags: []string{"Field"},
		Summary:     "Sign this browser out: its token is revoked and the cookie cleared",
		Description: "A bearer token is not a session (400): revoke it with DELETE /tokens/{tokenId}.",
		Responses:   responses(map[int]*openapi3.Response{204: answer("Signed out.", nil, nil)}, 400, 500, 503)})
}
