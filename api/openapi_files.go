package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"hazardmap/geo"
	"hazardmap/geo/export"
	"hazardmap/geo/sheet"
)

// This file documents the file routes: the items of a collection as
// xlsx, CSV, KML and GPX (exports.go), and the import of an edited
// spreadsheet (imports.go).

// documentFiles adds the file formats to the items operation of sc
// (documentCollection made it) and documents the collection's import.
func (d document) documentFiles(sc *geo.Schema) {
	items := d.Paths.Value("/collections/" + sc.ID + "/items")
	names := export.Names()
	d.parameter("f-items", queryParam("f", "json (GeoJSON, the default) or a file: "+strings.Join(names, ", ")+
		". A file holds what the caller's role may see of the features the query selects, at most "+
		strconv.Itoa(maxExportRows)+" (limit defaults to that for a file; Link rel=next names the rest), "+
		"and comes as an attachment named after the collection and the time of its data's last write (Content-Disposition, "+
		"UTF-8 in filename*). Without f, an Accept header that ranks a file's media type above GeoJSON chooses it.",
		str(enum(append([]string{"json", "geojson"}, names...)...))))
	for _, op := range []*openapi3.Operation{items.Get, items.Head} {
		for i, p := range op.Parameters {
			if p.Ref == "#/components/parameters/f" {
				op.Parameters[i] = paramRef("f-items")
			}
		}
	}
	ok := items.Get.Responses.Value("200").Value
	for _, f := range export.Formats() {
		what := f.TitleEN + ": " + map[string]string{
			"xlsx": "a sheet named after the collection (one row per feature, columns id, version, every property as \"中文名 (key)\", lon/lat WGS-84, wkt for lines and areas) and a sheet 说明 explaining each column.",
			"csv":  "the same columns as the xlsx, UTF-8 with a byte-order mark, CRLF.",
			"kml":  "one Placemark per feature in the map's colours, attributes in ExtendedData, the location precision drawn as a circle.",
			"gpx":  "one waypoint per located feature; unlocated ones listed by id in the extensions.",
		}[f.Name]
		ok.Content[f.MediaType] = &openapi3.MediaType{Schema: str(format("binary"), desc(what))}
	}
	partial := answer("Files only: the byte range asked for (Range: bytes=…, one range, of the identity encoding; If-Range with the "+
		"current ETag). GDAL's /vsicurl/ reads so, and a phone resumes a download so.", openapi3.Content{}, openapi3.Headers{
		"Content-Range": header("bytes FIRST-LAST/SIZE"), "ETag": header("The file's ETag.")})
	for mt, m := range ok.Content {
		if mt != typeGeoJSON {
			partial.Content[mt] = m
		}
	}
	unsatisfiable := answer("Files only: the Range starts past the end of the file.", jsonContent(typeProblem, schemaRef("problem")),
		openapi3.Headers{"Content-Range": header("bytes */SIZE")})
	for _, op := range []*openapi3.Operation{items.Get, items.Head} {
		op.Responses.Set("206", &openapi3.ResponseRef{Value: partial})
		op.Responses.Set("416", &openapi3.ResponseRef{Value: unsatisfiable})
	}
	for _, r := range []*openapi3.Response{ok, items.Head.Responses.Value("200").Value} {
		r.Headers["Content-Disposition"] = header("Files only: attachment; filename=\"depots_20240720-0815.xlsx\"; filename*=UTF-8''… (RFC 6266, RFC 8187).")
	}
	items.Get.Description += " As a file (f=xlsx|csv|kml|gpx) it is built under a cap on concurrent builds: 503 with Retry-After when the server is busy."

	d.documentImport(sc)
}

// documentImport documents POST /collections/{collectionId}/import.
func (d document) documentImport(sc *geo.Schema) {
	if d.Components.Schemas["importReport"] == nil {
		d.documentImportSchemas()
	}
	binary := str(format("binary"))
	body := &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{Required: true,
		Description: "An export of this collection (f=xlsx or f=csv), edited. CSV may be UTF-8 (with or without BOM), GBK or UTF-16. " +
			"At most " + strconv.Itoa(sheet.MaxBytes>>20) + " MiB (" + strconv.Itoa(sheet.MaxUnzippedBytes>>20) + " MiB unzipped), " +
			strconv.Itoa(sheet.MaxRows) + " rows with the header, " + strconv.Itoa(sheet.MaxCellRunes) + " characters a cell.",
		Content: content(map[string]*openapi3.SchemaRef{
			export.MediaXLSX: binary,
			export.MediaCSV:  binary,
			typeCSVAlias:     binary,
			typeExcelLegacy:  str(format("binary"), desc("What Windows calls a .csv file. A real .xls workbook is refused: save it as .xlsx.")),
			typeMultipart: object([]string{"file"}, openapi3.Schemas{"file": binary},
				desc("A browser form with the sheet as its only part, named file.")),
		})}}
	d.parameter("dry_run", queryParam("dry_run", "true: plan and report, write nothing.", boolean(deflt(false))))
	d.parameter("apply_good_rows", queryParam("apply_good_rows",
		"true: when some rows are invalid, write the good ones; false: a file with a bad row writes nothing (400).", boolean(deflt(false))))
	name := sc.TitleZH + " " + sc.TitleEN
	op := &openapi3.Operation{OperationID: "import_" + sc.ID,
		Tags: []string{sc.ID}, Summary: "Import an edited spreadsheet of " + name + " (planner)",
		Description: "Rows are matched by id: a row with the version it was exported at updates its feature, one without an id " +
			"adds a feature, and a row whose feature changed since the export (another version now) and that differs from it is " +
			"stale: reported, never written. Every row and cell is checked first; the creates and updates are written in one " +
			"transaction, each audited as an import and announced on /events. dry_run=true writes nothing and answers 200 " +
			"with every row, the invalid ones with their problems. Otherwise a file with a bad row is a 400 whose problem lists every bad cell in errors (field \"row 12, duty_unit\"; detail in Chinese / English) " +
			"and the whole plan in import, and writes nothing unless apply_good_rows=true. At most a few files are built at once: 503 with Retry-After.",
		Parameters: paramRefs("dry_run", "apply_good_rows"), RequestBody: body,
		Responses: responses(map[int]*openapi3.Response{200: answer("What the import did (or, dry run, would do) with every row.",
			jsonContent(typeJSON, schemaRef("importReport")), nil)},
			400, 409, 413, 415, 429, 500, 503)}
	keyed(op) // openapi_field.go: an Idempotency-Key keeps the write and its answer together
	d.operation(http.MethodPost, "/collections/"+sc.ID+"/import", op)
}

// documentImportSchemas adds the schemas of an import's answer, and the
// import member of a problem.
func (d document) documentImportSchemas() {
	actions := enum(string(sheet.Create), string(sheet.Update), string(sheet.Unchanged), string(sheet.Stale), string(sheet.Invalid))
	d.schema("importProblem", object([]string{"zh", "en"}, openapi3.Schemas{
		"row":    integer(desc("The sheet row (1 is the header), as Excel numbers it; absent for the file as a whole.")),
		"column": str(desc("The column's Chinese title.")),
		"key":    str(desc("The column's key (the property name, or id, version, lon, lat, wkt).")),
		"zh":     str(desc("第12行 值守联系电话列：…")),
		"en":     str(desc("row 12, column 值守联系电话 (duty_contact_phone): …")),
	}))
	counts := openapi3.Schemas{}
	for _, a := range []sheet.Action{sheet.Create, sheet.Update, sheet.Unchanged, sheet.Stale, sheet.Invalid} {
		counts[string(a)] = integer(minimum(0))
	}
	d.schema("importReport", object([]string{"collection", "format", "dry_run", "written", "created", "updated", "counts", "rows", "message_zh", "message_en"}, openapi3.Schemas{
		"collection": str(),
		"format":     str(enum("xlsx", "csv")),
		"encoding":   str(enum("UTF-8", "GBK", "UTF-16"), desc("How a CSV file was decoded.")),
		"dry_run":    boolean(),
		"written":    boolean(desc("Whether anything was written.")),
		"created":    arrayOf(str(), desc("Ids created (dry run: that would be; rows without an id get one when written).")),
		"updated":    arrayOf(str(), desc("Ids updated (dry run: that would be).")),
		"counts":     object(nil, counts, desc("Rows by action.")),
		"rows": arrayOf(object([]string{"row", "action"}, openapi3.Schemas{
			"row":            integer(),
			"id":             str(),
			"action":         str(actions),
			"file_version":   integer(desc("The version column of the row.")),
			"stored_version": integer(desc("The feature's version now.")),
			"changed":        arrayOf(str(), desc("The keys the row changes (update; stale: where it differs from the stored feature).")),
			"problems":       arrayOf(schemaRef("importProblem")),
		})),
		"problems":         arrayOf(schemaRef("importProblem"), desc("The file's own problems, when it cannot be read as a sheet of the collection.")),
		"problems_omitted": integer(desc("Problems beyond the " + strconv.Itoa(maxImportProblems) + " listed.")),
		"unchanged_omitted": boolean(desc("rows leaves out the unchanged rows (their count is in counts): the whole list was more than an " +
			"Idempotency-Key's stored answer may hold.")),
		"message_zh": str(),
		"message_en": str(),
	}))
	d.Components.Schemas["problem"].Value.Properties["import"] = schemaRef("importReport")
}
