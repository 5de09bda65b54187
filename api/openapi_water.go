package api

import (
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"

	"hazardmap/geo"
)

// This file documents the routes of water levels and their alerts
// (readings.go, alerts.go, cap.go).

// documentWater documents readings, alerts and the CAP feed.
func (d document) documentWater() {
	d.Tags = append(d.Tags, &openapi3.Tag{Name: "Water levels", Description: "Readings of the gauges, their alerts and the CAP 1.2 feed."})
	tags := []string{"Water levels"}
	d.schema("reading", object([]string{"id", "gauge_id", "at", "level", "source"}, openapi3.Schemas{
		"id":       integer(),
		"gauge_id": str(),
		"at":       dateTime(desc("When the level was read.")),
		"level":    number(minimum(geo.MinLevel), maximum(geo.MaxLevel), desc("Metres, in the gauge's datum.")),
		"source":   str(enum(geo.ReadingSources()...)),
		"note":     str(),
		"received": dateTime(desc("When the server received it.")),
		"reporter": schemaRef("actor"),
	}, desc("A water level. note, received and reporter are shown to crews and above only.")))
	d.schema("readingInput", object([]string{"level"}, openapi3.Schemas{
		"level": number(desc("Metres, in the gauge's datum; within the gauge's level_min..level_max.")),
		"at":    dateTime(nullable, desc("When the level was read (at most 5 minutes ahead of the server's clock); default: now.")),
		"note":  str(maxLength(geo.MaxNoteRunes), nullable),
	}, closed, desc("One reading.")))
	d.parameter("readings.order", queryParam("order", "asc: oldest first (a chart); desc: newest first.", str(enum("asc", "desc"), deflt("asc"))))
	d.parameter("readings.limit", queryParam("limit", "The page size; follow the next link for more.",
		integer(minimum(1), maximum(geo.MaxReadingsPage), deflt(defaultReadingsLimit))))
	d.read(readingsRoute, &openapi3.Operation{OperationID: "getReadings", Tags: tags,
		Summary:     "The water levels of a gauge in a time range",
		Description: "Oldest first by default: a 72-hour chart is ?from=<now−72h>&limit=5000, one range of the store's index.",
		Parameters:  paramRefs("featureId", "history.datetime", "history.from", "history.to", "readings.order", "readings.limit", "history.offset", "f"),
		Responses: responses(map[int]*openapi3.Response{200: answer("A page of readings, with next and prev links.",
			jsonContent(typeJSON, pageSchema("readings", schemaRef("reading"), openapi3.Schemas{"gauge_id": str()})), nil)},
			400, 404, 500, 503)})
	d.operation(http.MethodPost, readingsRoute, &openapi3.Operation{OperationID: "addReading", Tags: tags,
		Summary: "Record a water level (sensor: telemetry; crews and above: a patrol's reading)",
		Description: "Stored, audited, announced on /events (collection readings), and the gauge evaluated at once: an alert " +
			"(over the flood limit of the date, warning, guaranteed, rising fast) opens in this request. A sensor's token may do nothing else.",
		Parameters: openapi3.Parameters{paramRef("featureId")},
		RequestBody: &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{Required: true,
			Content: jsonContent(typeJSON, schemaRef("readingInput"))}},
		Responses: responses(map[int]*openapi3.Response{201: answer("Recorded.", jsonContent(typeJSON, schemaRef("reading")),
			openapi3.Headers{"Location": header("The gauge's readings.")})},
			400, 404, 409, 413, 415, 429, 500, 503)})
	d.operation(http.MethodPost, importRoute, &openapi3.Operation{OperationID: "importReadings", Tags: tags,
		Summary: "Import a CSV of readings (sensor and above), all or nothing",
		Description: "text/csv in UTF-8 (with or without Excel's byte-order mark) or GBK; a header row naming gauge_id (站码), " +
			"at (时间) and level (水位), in English or Chinese, and optionally note (备注). Every bad cell is reported in the 400's " +
			"errors by line and column (lines[12].level). One import at a time per instance (503 with Retry-After beyond).",
		Parameters: openapi3.Parameters{{Value: queryParam("gauge_id", "The gauge of every row, for a file without a gauge column.", str())}},
		RequestBody: &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{Required: true,
			Content: jsonContent("text/csv", str())}},
		Responses: responses(map[int]*openapi3.Response{201: answer("Imported.", jsonContent(typeJSON, object(
			[]string{"imported", "gauges", "encoding"}, openapi3.Schemas{
				"imported": integer(minimum(0)),
				"gauges":   arrayOf(str()),
				"encoding": str(enum("UTF-8", "GB18030")),
			})), nil)},
			400, 404, 409, 413, 415, 429, 500, 503)})
	d.read(latestRoute, &openapi3.Operation{OperationID: "getLatestReadings", Tags: tags,
		Summary:    "The latest reading of each gauge: one index probe per gauge",
		Parameters: openapi3.Parameters{{Value: listParam("gauge_id", "Only these gauges (comma-separated); every gauge with readings when absent.", arrayOf(str(), maxItems(maxLatestGauges)))}, paramRef("f")},
		Responses: responses(map[int]*openapi3.Response{200: answer("The readings, in the order of gauge_id (else by gauge id).",
			jsonContent(typeJSON, object([]string{"readings"}, openapi3.Schemas{"readings": arrayOf(schemaRef("reading"))})), nil)},
			400, 500, 503)})

	kinds := make([]string, 0, 5)
	for _, k := range geo.AlertKinds() {
		kinds = append(kinds, string(k))
	}
	d.schema("alert", object([]string{"id", "gauge_id", "kind", "title", "description", "state", "value", "limit", "opened", "updated", "version", "steps", "links"}, openapi3.Schemas{
		"id":          str(),
		"gauge_id":    str(),
		"kind":        str(enum(kinds...)),
		"title":       str(desc("The kind in Chinese, e.g. 超汛限水位.")),
		"description": str(desc("What the rule found, in Chinese.")),
		"state":       str(enum(geo.AlertOpen, geo.AlertAcknowledged, geo.AlertResolved)),
		"value":       number(desc("The level (m), the rise (m/h) or the minutes of silence (-1: never reported).")),
		"limit":       number(),
		"period":      str(nullable, enum[any](geo.PeriodMain, geo.PeriodPost, geo.PeriodTransition, nil)),
		"at":          dateTime(nullable, desc("The time of the reading that opened it.")),
		"opened":      dateTime(),
		"escalated":   dateTime(nullable),
		"updated":     dateTime(),
		"version":     integer(minimum(1), desc("The number of steps; send it back to acknowledge or resolve what you saw.")),
		"steps": arrayOf(object([]string{"action", "at", "note", "actor"}, openapi3.Schemas{
			"action": str(enum(geo.ActionOpen, geo.ActionAcknowledge, geo.ActionEscalate, geo.ActionResolve)),
			"at":     dateTime(),
			"note":   str(),
			"actor":  schemaRef("actor"),
		}), desc("The history: open, then escalate, acknowledge, resolve as they happened. A step's actor id is shown to crews and above.")),
		"links": arrayOf(schemaRef("link")),
	}))
	alert := jsonContent(typeJSON, schemaRef("alert"))
	d.parameter("alertId", &openapi3.Parameter{Name: "alertId", In: openapi3.ParameterInPath, Required: true, Description: "The id of an alert.", Schema: str()})
	d.read(alertsRoute, &openapi3.Operation{OperationID: "getAlerts", Tags: tags, Summary: "The alerts, newest first",
		Parameters: openapi3.Parameters{
			{Value: queryParam("state", "open, acknowledged, resolved, or active (open or acknowledged).", str(enum("open", "acknowledged", "resolved", "active")))},
			{Value: queryParam("gauge_id", "Only the alerts of this gauge.", str())},
			{Value: queryParam("kind", "Only alerts of this kind.", str(enum(kinds...)))},
			{Value: queryParam("limit", "The page size.", integer(minimum(1), maximum(maxAlertsLimit), deflt(defaultAlertsLm)))},
			paramRef("history.offset"), paramRef("f")},
		Responses: responses(map[int]*openapi3.Response{200: answer("A page of alerts, with next and prev links.",
			jsonContent(typeJSON, pageSchema("alerts", schemaRef("alert"), nil)), nil)}, 400, 500, 503)})
	d.read(alertRoute, &openapi3.Operation{OperationID: "getAlert", Tags: tags, Summary: "One alert with its history",
		Parameters: paramRefs("alertId", "f"),
		Responses:  responses(map[int]*openapi3.Response{200: answer("The alert.", alert, nil)}, 400, 404, 500, 503)})
	step := func(action, summary, descr string) *openapi3.Operation {
		return &openapi3.Operation{OperationID: action + "Alert", Tags: tags, Summary: summary, Description: descr,
			Parameters: paramRefs("alertId"),
			RequestBody: &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{Required: true, Content: jsonContent(typeJSON,
				object(nil, openapi3.Schemas{
					"note":    str(maxLength(geo.MaxNoteRunes), desc("Who is on it and what is being done (required to acknowledge). Published in the CAP message.")),
					"version": integer(minimum(1), nullable, desc("The alert's version you saw: a step taken since is a 409.")),
				}, closed))}},
			Responses: responses(map[int]*openapi3.Response{200: answer("The alert after the step; audited, on /events, sent to the robots.", alert, nil)},
				400, 404, 409, 413, 415, 429, 500, 503)}
	}
	d.operation(http.MethodPost, alertRoute+"/acknowledge", step("acknowledge", "Acknowledge an alert (crew): a named person is on it (确认)",
		"Stops its escalation. Only an open alert can be acknowledged (409 otherwise)."))
	d.operation(http.MethodPost, alertRoute+"/resolve", step("resolve", "Resolve an alert (planner)",
		"Alerts resolve by themselves when the condition clears (past the gauge's deadband). A planner's resolution of a condition "+
			"that still holds (a gauge under repair, a level held on orders) keeps the same kind from reopening on that gauge until "+
			"the condition has cleared once, for at most a day."))
	d.read(alertRoute+"/deliveries", &openapi3.Operation{OperationID: "getDeliveries", Tags: tags,
		Summary:    "Every attempt to deliver the alert's steps to the WeCom robots, with its result (planner)",
		Parameters: paramRefs("alertId", "f"),
		Responses: responses(map[int]*openapi3.Response{200: answer("The deliveries, oldest first.", jsonContent(typeJSON,
			object([]string{"alert_id", "deliveries"}, openapi3.Schemas{"alert_id": str(), "deliveries": arrayOf(object(
				[]string{"id", "version", "channel", "ok", "attempts", "detail", "batch", "at"}, openapi3.Schemas{
					"id": integer(), "version": integer(), "channel": str(), "ok": boolean(), "attempts": integer(),
					"detail": str(), "batch": integer(), "at": dateTime(),
				}))})), nil)}, 400, 404, 500, 503)})
	// The writes take an Idempotency-Key (a phone's queue, a station
	// resending after a lost answer).
	for _, op := range []*openapi3.Operation{d.Paths.Value(readingsRoute).Post, d.Paths.Value(importRoute).Post,
		d.Paths.Value(alertRoute + "/acknowledge").Post, d.Paths.Value(alertRoute + "/resolve").Post} {
		keyed(op)
	}
	d.read(capFeedRoute, &openapi3.Operation{OperationID: "getCAPFeed", Tags: tags,
		Summary: "The CAP 1.2 feed: an Atom index of the current alerts",
		Description: "One entry per unresolved alert and per alert resolved within a day, linking (rel alternate, " +
			"type application/cap+xml) to its latest CAP message.",
		Parameters: paramRefs("f"),
		Responses: responses(map[int]*openapi3.Response{200: answer("The Atom feed.", jsonContent(typeAtom, str()), dataHeaders())},
			304, 400, 500, 503)})
	d.read(capRoute+"/{identifier}", &openapi3.Operation{OperationID: "getCAPMessage", Tags: tags,
		Summary: "One CAP 1.2 message, at a stable URL",
		Description: "The identifier is hazardmap.<alert id>.<version>: Alert when it opened, Update when it escalated or was " +
			"acknowledged, Cancel when it resolved; each references the earlier messages. Valid against the OASIS CAP 1.2 schema.",
		Parameters: openapi3.Parameters{{Value: &openapi3.Parameter{Name: "identifier", In: openapi3.ParameterInPath, Required: true,
			Description: "hazardmap.<alert id>.<version>", Schema: str()}}, paramRef("f")},
		Responses: responses(map[int]*openapi3.Response{200: answer("The CAP message.", jsonContent(typeCAP, str()), dataHeaders())},
			304, 400, 404, 500, 503)})
}
