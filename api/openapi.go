package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"hazardmap/geo"
)

// This file assembles the OpenAPI 3.0 document served at /api from the
// parts in openapi_*.go. The document is built of kin-openapi's types, so
// that a misspelt member does not compile, and from geo.Schemas(), so that
// every collection's properties and filters appear with their types and
// allowed values. TestOpenAPI validates it and checks that it lists
// exactly the routes of routes.go, each with the role the router
// enforces; TestResponsesMatchOpenAPI checks real responses against it.

// document is the OpenAPI document being built.
type document struct {
	*openapi3.T
}

// openAPI returns the document for links starting with base, as a client
// of view (geo.ViewOf) may see it: only the properties visible to view.
func (s *Server) openAPI(base string, view geo.Role) *openapi3.T {
	d := document{&openapi3.T{
		OpenAPI: "3.0.3",
		Info: &openapi3.Info{
			Title: serviceTitle,
			Description: serviceDescription + " Every response carries a strong ETag and asks caches to revalidate " +
				"(Cache-Control: public, max-age=0, must-revalidate); CORS is open to any origin for GET and HEAD.",
			Version: "1.0.0",
		},
		Servers: openapi3.Servers{{URL: base, Description: "This server"}},
		Tags: openapi3.Tags{
			{Name: "Capabilities", Description: "What the service offers."},
			{Name: "Operations", Description: "Probes for orchestrators and load balancers."},
			{Name: "Analysis", Description: "Nearest depots and the reach of every hazard (analysis.go)."},
		},
		Paths: openapi3.NewPaths(),
		Components: &openapi3.Components{
			Schemas:         openapi3.Schemas{},
			Parameters:      openapi3.ParametersMap{},
			Responses:       openapi3.ResponseBodies{},
			SecuritySchemes: openapi3.SecuritySchemes{},
		},
	}}
	d.documentShared()
	d.documentCapabilities(s.opts.Map != nil)
	for _, sc := range s.schemas {
		d.documentCollection(sc, view)
	}
	d.documentAnalysis()
	d.documentOperations()
	d.documentObservations()
	d.documentWater()
	d.documentAudit()
	d.documentEvents()
	d.documentTokens()
	d.documentField() // openapi_field.go
	d.documentSecurity(s.rules)
	d.documentLimits()
	return d.T
}

// The building blocks of the document.

// read documents the GET operation get at path, and its HEAD: the same
// but for the body of a 200.
func (d document) read(path string, get *openapi3.Operation) {
	head := *get
	head.OperationID = "head_" + get.OperationID
	head.Summary = "Headers of: " + get.Summary
	head.Responses = openapi3.NewResponses()
	for code, r := range get.Responses.Map() {
		if code == "200" {
			r = &openapi3.ResponseRef{Value: &openapi3.Response{Description: ptr("As GET, without the body."), Headers: dataHeaders()}}
		}
		head.Responses.Set(code, r)
	}
	d.operation(http.MethodGet, path, get)
	d.operation(http.MethodHead, path, &head)
}

// operation documents op as method on path.
func (d document) operation(method, path string, op *openapi3.Operation) {
	item := d.Paths.Value(path)
	if item == nil {
		item = &openapi3.PathItem{}
		d.Paths.Set(path, item)
	}
	item.SetOperation(method, op)
}

// schema adds a component schema.
func (d document) schema(name string, s *openapi3.SchemaRef) { d.Components.Schemas[name] = s }

// parameter adds a component parameter.
func (d document) parameter(name string, p *openapi3.Parameter) {
	d.Components.Parameters[name] = &openapi3.ParameterRef{Value: p}
}

// response adds a component response.
func (d document) response(name string, r *openapi3.Response) {
	d.Components.Responses[name] = &openapi3.ResponseRef{Value: r}
}

// schemaRef, paramRef and responseRef refer to components.
func schemaRef(name string) *openapi3.SchemaRef {
	return &openapi3.SchemaRef{Ref: "#/components/schemas/" + name}
}

func paramRef(name string) *openapi3.ParameterRef {
	return &openapi3.ParameterRef{Ref: "#/components/parameters/" + name}
}

func paramRefs(names ...string) openapi3.Parameters {
	out := make(openapi3.Parameters, len(names))
	for i, n := range names {
		out[i] = paramRef(n)
	}
	return out
}

func responseRef(name string) *openapi3.ResponseRef {
	return &openapi3.ResponseRef{Ref: "#/components/responses/" + name}
}

// sharedResponse names the component response of a shared status.
func sharedResponse(status int) string {
	switch status {
	case http.StatusNotModified:
		return "NotModified"
	case http.StatusBadRequest:
		return "BadRequest"
	case http.StatusUnauthorized:
		return "Unauthorized"
	case http.StatusForbidden:
		return "Forbidden"
	case http.StatusNotFound:
		return "NotFound"
	case http.StatusConflict:
		return "Conflict"
	case http.StatusPreconditionFailed:
		return "PreconditionFailed"
	case http.StatusUnprocessableEntity:
		return "UnprocessableContent"
	case http.StatusRequestEntityTooLarge:
		return "PayloadTooLarge"
	case http.StatusUnsupportedMediaType:
		return "UnsupportedMediaType"
	case http.StatusPreconditionRequired:
		return "PreconditionRequired"
	case http.StatusTooManyRequests:
		return "TooManyRequests"
	case http.StatusInternalServerError:
		return "ServerError"
	case http.StatusServiceUnavailable:
		return "Unavailable"
	}
	panic("api: no shared response for status " + strconv.Itoa(status))
}

// responses returns the responses of an operation: those of own by
// status, and the shared responses (sharedResponse) of the statuses in
// shared.
func responses(own map[int]*openapi3.Response, shared ...int) *openapi3.Responses {
	rs := openapi3.NewResponses()
	for code, r := range own {
		rs.Set(strconv.Itoa(code), &openapi3.ResponseRef{Value: r})
	}
	for _, code := range shared {
		rs.Set(strconv.Itoa(code), responseRef(sharedResponse(code)))
	}
	return rs
}

// answer returns a response with a description, content and headers
// (either may be nil).
func answer(desc string, c openapi3.Content, h openapi3.Headers) *openapi3.Response {
	return &openapi3.Response{Description: ptr(desc), Content: c, Headers: h}
}

// content maps media types to schemas.
func content(schemas map[string]*openapi3.SchemaRef) openapi3.Content {
	c := openapi3.Content{}
	for mt, sch := range schemas {
		c[mt] = &openapi3.MediaType{Schema: sch}
	}
	return c
}

// jsonContent is content of one media type.
func jsonContent(mediaType string, sch *openapi3.SchemaRef) openapi3.Content {
	return content(map[string]*openapi3.SchemaRef{mediaType: sch})
}

// header documents a response header of type string (or s, when given).
func header(desc string, s ...*openapi3.SchemaRef) *openapi3.HeaderRef {
	sch := str()
	if len(s) > 0 {
		sch = s[0]
	}
	return &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{Description: desc, Schema: sch}}}
}

// dataHeaders documents the caching headers of a 200.
func dataHeaders() openapi3.Headers {
	return openapi3.Headers{
		"ETag": header("Strong validator; send it back in If-None-Match to get a 304 while nothing changed. " +
			"Differs between the gzip and identity encodings."),
		"Last-Modified": header("Time of the last write to the data shown, when there has been one."),
		"Cache-Control": header(revalidate + ": caches must revalidate before every use, so that nobody sees stale flood data."),
	}
}

// queryParam returns an optional query parameter.
func queryParam(name, desc string, s *openapi3.SchemaRef) *openapi3.Parameter {
	return &openapi3.Parameter{Name: name, In: openapi3.ParameterInQuery, Description: desc, Schema: s}
}

// listParam returns an optional query parameter whose values are
// comma-separated (form style, not exploded).
func listParam(name, desc string, s *openapi3.SchemaRef) *openapi3.Parameter {
	p := queryParam(name, desc, s)
	p.Style, p.Explode = openapi3.SerializationForm, ptr(false)
	return p
}

// documentShared adds the components every document has: the shared
// schemas, parameters and responses.
func (d document) documentShared() {
	for name, s := range baseSchemas() {
		d.schema(name, s)
	}
	problem := func(desc string, headers openapi3.Headers) *openapi3.Response {
		return answer(desc, jsonContent(typeProblem, schemaRef("problem")), headers)
	}
	for _, r := range []struct {
		status  int
		desc    string
		headers openapi3.Headers
	}{
		{http.StatusBadRequest, "A query parameter is unknown, repeated, malformed or out of range; errors[].field names it.", nil},
		{http.StatusNotFound, "No such collection or feature.", nil},
		{http.StatusInternalServerError, "An internal error; the request id is in the server log.", nil},
		{http.StatusServiceUnavailable, "The store cannot be reached right now; retry after Retry-After seconds.", nil},
		{http.StatusUnauthorized, "No token where one is needed, or a token that is malformed, unknown, revoked or expired (any route).",
			openapi3.Headers{"WWW-Authenticate": header(`Bearer realm="hazardmap", with error="invalid_token" when a token was sent.`)}},
		{http.StatusForbidden, "The token's role is below the role of the route (x-role).", nil},
		{http.StatusConflict, "A conflict: a feature with that id exists already; a location proposal decided already; a feature located already; " +
			"or a request with the same Idempotency-Key still in progress (retry after Retry-After seconds to get its answer).",
			openapi3.Headers{"Retry-After": header("Seconds to wait, when the conflict is a request in progress.", integer())}},
		{http.StatusUnprocessableEntity, "The Idempotency-Key was used for a different request (method, target, body or token).", nil},
		{http.StatusPreconditionFailed, "If-Match names no current version of the feature: it changed since it was read. " +
			"The body's current member holds the current ETag, version and feature (as the caller may see it); the ETag header is the current ETag.",
			openapi3.Headers{"ETag": header("The feature's current ETag.")}},
		{http.StatusPreconditionRequired, "The write has no If-Match (or If-Match: *): send the ETag of the version you edited.", nil},
		{http.StatusRequestEntityTooLarge, "The request body is over the route's limit (1 MiB for features, 64 KiB for status reports, " +
			"2 MiB more with a photo, 4 KiB for tokens, 1 KiB for a sign-in).", nil},
		{http.StatusUnsupportedMediaType, "The body's Content-Type is not one the route reads.", nil},
		{http.StatusTooManyRequests, "Over the token's write rate on this instance; retry after Retry-After seconds.",
			openapi3.Headers{"Retry-After": header("Seconds to wait.", integer())}},
	} {
		d.response(sharedResponse(r.status), problem(r.desc, r.headers))
	}
	d.response(sharedResponse(http.StatusNotModified), answer("Not modified: the If-None-Match or If-Modified-Since of the request still holds.", nil, nil))
	for name, p := range baseParameters() {
		d.parameter(name, p)
	}
}

// documentSecurity adds the bearer security scheme and, to every
// operation, its least role (x-role, from the rules that guard enforces),
// its security requirement and its 401 and 403 responses.
func (d document) documentSecurity(rules map[string]geo.Role) {
	d.Components.SecuritySchemes["bearerAuth"] = &openapi3.SecuritySchemeRef{Value: &openapi3.SecurityScheme{
		Type: "http", Scheme: "bearer",
		Description: "A token made with `hazardmap token create` or POST /tokens. Roles: public (no token) < sensor (telemetry: readings only) < crew < planner < admin; " +
			"each operation's x-role is the least role that may call it. The map signs in with a one-time code instead (POST /session), " +
			"and its token then travels in an HttpOnly, SameSite=Strict session cookie (__Host-hm_session over https, hm_session over http), " +
			"which authenticates the same as the bearer token; writes it authenticates must come from the map's own origin.",
	}}
	bearer := openapi3.SecurityRequirement{"bearerAuth": []string{}}
	d.Security = openapi3.SecurityRequirements{{}, bearer}
	for path, item := range d.Paths.Map() {
		for method, op := range item.Operations() {
			role := rules[strings.ToUpper(method)+" "+path]
			op.Extensions = map[string]any{"x-role": string(role)}
			op.Responses.Set(strconv.Itoa(http.StatusUnauthorized), responseRef(sharedResponse(http.StatusUnauthorized)))
			if role != geo.RolePublic {
				op.Security = &openapi3.SecurityRequirements{bearer}
				op.Responses.Set(strconv.Itoa(http.StatusForbidden), responseRef(sharedResponse(http.StatusForbidden)))
			}
		}
	}
}

// documentLimits adds to every operation the refusals of the request
// reader (400: a path or query it cannot read completely, a parameter the
// operation does not take; request.go) and, to the operations that may
// build a large answer, the 503 of the limits (limits.go).
func (d document) documentLimits() {
	for path, item := range d.Paths.Map() {
		for method, op := range item.Operations() {
			if op.Responses.Value("400") == nil {
				op.Responses.Set("400", responseRef(sharedResponse(http.StatusBadRequest)))
			}
			large := (method == http.MethodGet || method == http.MethodHead) && (strings.HasSuffix(path, "/items") || path == "/analysis/reach")
			if large && op.Responses.Value("503") == nil {
				op.Responses.Set("503", responseRef(sharedResponse(http.StatusServiceUnavailable)))
			}
		}
	}
}

// documentOperations documents the probes.
func (d document) documentOperations() {
	status := jsonContent(typeJSON, schemaRef("status"))
	d.read("/healthz", &openapi3.Operation{OperationID: "getHealth", Tags: []string{"Operations"},
		Summary:     "Liveness: the process serves HTTP",
		Description: "Does not look at the store, so an orchestrator does not restart a healthy process whose database is away.",
		Responses:   responses(map[int]*openapi3.Response{200: answer("Up.", status, nil)})})
	d.read("/readyz", &openapi3.Operation{OperationID: "getReadiness", Tags: []string{"Operations"},
		Summary:   "Readiness: the store answers",
		Responses: responses(map[int]*openapi3.Response{200: answer("Ready.", status, nil)}, 503)})
}

func ptr[T any](v T) *T { return &v }
