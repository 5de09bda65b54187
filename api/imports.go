package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"hazardmap/geo"
	"hazardmap/geo/export"
	"hazardmap/geo/sheet"
)

// This file serves POST /collections/{collectionId}/import (planner): an
// edited export (xlsx or CSV, as the body or as the part "file" of a
// multipart/form-data form) is checked row by row and cell by cell
// against the schema and the stored features, then written in one
// transaction, every feature audited as an import (geo.Store.Apply).
// dry_run=true shows what would be created, updated, left unchanged or is
// stale, and which rows are invalid, and writes nothing (200). Otherwise a
// file with a bad row writes nothing unless apply_good_rows=true; it is a
// 400 whose problem body names every bad cell in Chinese and English. Stale rows (changed by someone else since
// the export) are reported and never written. The planning and writing
// are geo/sheet's, shared with hazardmap import.

// Media types an import reads. Excel on Windows labels a .csv file
// application/vnd.ms-excel, so a browser uploads it so.
const (
	typeMultipart   = "multipart/form-data"
	typeCSVAlias    = "application/csv"
	typeExcelLegacy = "application/vnd.ms-excel"
)

// fileTypes lists the Content-Types of a sheet; importTypes adds a form
// holding one.
func fileTypes() []string {
	return []string{export.MediaXLSX, export.MediaCSV, typeCSVAlias, typeExcelLegacy}
}

func importTypes() []string { return append(fileTypes(), typeMultipart) }

// maxImportProblems caps the problems an answer lists (the counts are
// always complete): a file of 10 000 rows could otherwise describe
// hundreds of thousands of bad cells.
const maxImportProblems = 1000

// importReport is the answer of an import, and the "import" member of its
// 400 problem.
type importReport struct {
	Collection string `json:"collection"`
	// Format is "xlsx" or "csv"; Encoding the text encoding a CSV file
	// was read in (UTF-8, GBK or UTF-16).
	Format   string `json:"format"`
	Encoding string `json:"encoding,omitempty"`
	DryRun   bool   `json:"dry_run"`
	// Written is whether anything was written; Created and Updated list
	// the ids written (or, on a dry run, that would be).
	Written bool     `json:"written"`
	Created []string `json:"created"`
	Updated []string `json:"updated"`
	// Counts has every action: create, update, unchanged, stale, invalid.
	Counts map[sheet.Action]int `json:"counts"`
	// Rows is every row of the file with what the import does with it.
	Rows []importRow `json:"rows"`
	// Problems are the file's own problems (a bad header, a limit), when
	// it could not be read as a sheet at all.
	Problems []importProblem `json:"problems,omitempty"`
	// ProblemsOmitted counts the problems beyond maxImportProblems not
	// listed.
	ProblemsOmitted int `json:"problems_omitted,omitempty"`
	// UnchangedOmitted says Rows leaves out the unchanged rows: the whole
	// list was more than an Idempotency-Key's answer may hold.
	UnchangedOmitted bool `json:"unchanged_omitted,omitempty"`
	// MessageZH and MessageEN sum it up.
	MessageZH string `json:"message_zh"`
	MessageEN string `json:"message_en"`
}

// importRow is what an import does with one row.
type importRow struct {
	Row           int             `json:"row"`
	ID            string          `json:"id,omitempty"`
	Action        sheet.Action    `json:"action"`
	FileVersion   int64           `json:"file_version,omitempty"`
	StoredVersion int64           `json:"stored_version,omitempty"`
	Changed       []string        `json:"changed,omitempty"`
	Problems      []importProblem `json:"problems,omitempty"`
}

// importProblem is one bad cell (or row, or file): where, and what in
// Chinese and English.
type importProblem struct {
	Row    int    `json:"row,omitempty"`
	Column string `json:"column,omitempty"`
	Key    string `json:"key,omitempty"`
	ZH     string `json:"zh"`
	EN     string `json:"en"`
}

func problemOf(p sheet.Problem) importProblem {
	return importProblem{Row: p.Row, Column: p.Column, Key: p.Key, ZH: p.String(), EN: p.English()}
}

// fieldOf names where a problem is, as a problem body's errors[].field:
// "row 12, duty_unit", "row 12", or "file".
func fieldOf(p sheet.Problem) string {
	switch {
	case p.Row > 0 && p.Key != "":
		return fmt.Sprintf("row %d, %s", p.Row, p.Key)
	case p.Row > 0:
		return fmt.Sprintf("row %d", p.Row)
	case p.Key != "":
		return p.Key
	}
	return "file"
}

// importQuery is the query of the import route.
type importQuery struct {
	dryRun, goodOnly bool
}

// parseImportQuery reads dry_run and apply_good_rows (true or false).
func parseImportQuery(v url.Values) (importQuery, error) {
	var q importQuery
	bad := eachParam(v, func(name, raw string) error {
		var dst *bool
		switch name {
		case "dry_run":
			dst = &q.dryRun
		case "apply_good_rows":
			dst = &q.goodOnly
		default:
			return geo.InvalidField(name, "unknown parameter; this request takes dry_run and apply_good_rows")
		}
		switch raw {
		case "true":
			*dst = true
		case "false":
			*dst = false
		default:
			return geo.InvalidField(name, "want true or false, got %q", raw)
		}
		return nil
	})
	return q, invalidQuery(bad)
}

// handleImport serves POST /collections/{collectionId}/import (planner).
// With an Idempotency-Key the write and its answer are kept together
// (idempotency.go): a planner whose connection dropped sends the file
// again and gets the first answer; nothing is written twice.
func (s *Server) handleImport(sc *geo.Schema) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, err := parseImportQuery(r.URL.Query())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		doneFile, err := s.files.file()
		if err != nil {
			s.fail(w, r, err)
			return
		}
		defer doneFile()
		// The upload goes to a temporary file first: a slow client holds
		// a descriptor and disk, not a build slot.
		up, err := receiveUpload(w, r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		defer up.close()
		doneBuild, err := s.files.build(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		defer doneBuild()

		var t *sheet.Table
		if up.format == "xlsx" {
			t, err = sheet.ReadXLSX(up.file, sc, roleOf(r))
		} else {
			t, err = sheet.ReadCSV(up.file, sc, roleOf(r))
		}
		if fe := (*sheet.FileError)(nil); errors.As(err, &fe) {
			rep := newReport(sc, up.format, "", q)
			rep.MessageZH = "文件无法作为" + sc.TitleZH + "表格读取，未写入任何内容"
			rep.MessageEN = "the file cannot be read as a sheet of " + sc.ID + "; nothing written"
			s.fail(w, r, importRefused(rep, fe.Problems, true))
			return
		}
		if err != nil {
			s.fail(w, r, fmt.Errorf("api: import into %s: %w", sc.ID, err))
			return
		}

		// planned is the plan being written (respond may run inside the
		// store's write, before Import returns); would is a dry run's.
		var planned *sheet.Plan
		var would geo.Batch
		s.commit(w, r, writeOp{body: up.digest,
			write: func(ctx context.Context) (geo.WriteResult, error) {
				res, err := sheet.Import(ctx, t, sheet.ImportOptions{DryRun: q.dryRun, GoodOnly: q.goodOnly},
					func(ctx context.Context, ids []string) (map[string]*geo.Feature, error) {
						return geo.FeaturesByID(ctx, s.store, sc.ID, ids)
					}, func(ctx context.Context, p *sheet.Plan, b geo.Batch) error {
						planned = p
						return s.store.Apply(ctx, sc.ID, b)
					})
				if err != nil {
					return geo.WriteResult{}, err
				}
				planned, would = res.Plan, res.Would
				if res.Refused && !q.dryRun { // a dry run reports the bad rows in its 200
					return geo.WriteResult{}, importRefused(reportOf(sc, up.format, t.Encoding, q, res.Plan, nil, would, false), res.Plan.Problems(), false)
				}
				return writeResultOf(res.Written), nil
			},
			respond: func(res geo.WriteResult) (geo.StoredResponse, error) {
				// The whole report, or, if that is more than an
				// idempotency key may keep, without the unchanged rows.
				resp, err := storedJSON(http.StatusOK, typeJSON, reportOf(sc, up.format, t.Encoding, q, planned, res.Entries, would, false))
				if err == nil && len(resp.Body) > geo.MaxStoredBody {
					resp, err = storedJSON(http.StatusOK, typeJSON, reportOf(sc, up.format, t.Encoding, q, planned, res.Entries, would, true))
				}
				return resp, err
			}})
	}
}

// writeResultOf describes a written batch as an idempotent write's store
// would: one audit entry per feature, Before nil for a created one.
func writeResultOf(b geo.Batch) geo.WriteResult {
	var res geo.WriteResult
	for _, f := range b.Create {
		res.Entries = append(res.Entries, geo.AuditEntry{FeatureID: f.ID, Action: geo.ActionImport, After: f})
	}
	for _, f := range b.Replace {
		res.Entries = append(res.Entries, geo.AuditEntry{FeatureID: f.ID, Action: geo.ActionImport, Before: f, After: f})
	}
	return res
}

// importRefused is the 400 of an import that writes nothing because of
// problems: every problem (up to maxImportProblems) in errors, and rep in
// the member import. file says the problems are the file's own (listed
// in rep.Problems), else the rows' (in rep.Rows already).
func importRefused(rep *importReport, problems []sheet.Problem, file bool) error {
	var fields []geo.FieldError
	for i, p := range problems {
		if i == maxImportProblems {
			break
		}
		fields = append(fields, geo.FieldError{Field: fieldOf(p), Detail: p.String() + " / " + p.English()})
		if file {
			rep.Problems = append(rep.Problems, problemOf(p))
		}
	}
	if file {
		rep.ProblemsOmitted = max(0, len(problems)-maxImportProblems)
	}
	return &httpError{status: http.StatusBadRequest, imp: rep,
		err: &geo.Error{Kind: geo.Invalid, Message: rep.MessageZH + " / " + rep.MessageEN, Fields: fields}}
}

// newReport returns the report of an import of sc with nothing in it yet.
func newReport(sc *geo.Schema, format, encoding string, q importQuery) *importReport {
	counts := map[sheet.Action]int{}
	for _, a := range actions() {
		counts[a] = 0
	}
	return &importReport{Collection: sc.ID, Format: format, Encoding: encoding, DryRun: q.dryRun, Counts: counts,
		Created: []string{}, Updated: []string{}, Rows: []importRow{}}
}

// actions lists the actions of a plan, in the order reports give them.
func actions() []sheet.Action {
	return []sheet.Action{sheet.Create, sheet.Update, sheet.Unchanged, sheet.Stale, sheet.Invalid}
}

// reportOf describes an import of a file in format (encoding) by plan p:
// written are the audit entries of what was written, would what a dry run
// would write. compact leaves out the unchanged rows (their count stays).
func reportOf(sc *geo.Schema, format, encoding string, q importQuery, p *sheet.Plan, written []geo.AuditEntry, would geo.Batch, compact bool) *importReport {
	rep := newReport(sc, format, encoding, q)
	for _, a := range actions() {
		rep.Counts[a] = p.Count(a)
	}
	rep.Written = len(written) > 0
	rep.UnchangedOmitted = compact
	listed := 0
	for _, row := range p.Rows {
		if compact && row.Action == sheet.Unchanged {
			continue
		}
		ir := importRow{Row: row.Line, ID: row.ID, Action: row.Action, FileVersion: row.FileVersion, StoredVersion: row.StoredVersion}
		if row.Action != sheet.Create { // a new row sets every column it has
			ir.Changed = row.Changed
		}
		for _, pr := range row.Problems {
			if listed == maxImportProblems {
				rep.ProblemsOmitted++
				continue
			}
			listed++
			ir.Problems = append(ir.Problems, problemOf(pr))
		}
		rep.Rows = append(rep.Rows, ir)
	}
	n := 0
	for _, e := range written {
		if e.Before == nil {
			rep.Created = append(rep.Created, e.FeatureID)
		} else {
			rep.Updated = append(rep.Updated, e.FeatureID)
		}
		n++
	}
	if q.dryRun {
		for _, f := range would.Create {
			if f.ID != "" { // a new row without an id gets one when written
				rep.Created = append(rep.Created, f.ID)
			}
		}
		for _, f := range would.Replace {
			rep.Updated = append(rep.Updated, f.ID)
		}
		n = would.Len()
	}
	c := rep.Counts
	sum := fmt.Sprintf("新建%d，更新%d，未变%d，过期%d，错误%d", c[sheet.Create], c[sheet.Update], c[sheet.Unchanged], c[sheet.Stale], c[sheet.Invalid])
	sumEN := fmt.Sprintf("%d created, %d updated, %d unchanged, %d stale, %d invalid", c[sheet.Create], c[sheet.Update], c[sheet.Unchanged], c[sheet.Stale], c[sheet.Invalid])
	switch {
	case p.Count(sheet.Invalid) > 0 && !q.goodOnly && q.dryRun:
		rep.MessageZH = fmt.Sprintf("试运行，未写入：%d行有错误，导入时不会写入任何内容（请改正，或选择只导入正确的行）：%s", c[sheet.Invalid], sum)
		rep.MessageEN = fmt.Sprintf("dry run, nothing written: %d rows are invalid, so an import would write nothing (fix them, or apply_good_rows=true to write the others): %s", c[sheet.Invalid], sumEN)
	case p.Count(sheet.Invalid) > 0 && !q.goodOnly:
		rep.MessageZH = fmt.Sprintf("%d行有错误，未写入任何内容（请改正，或选择只导入正确的行）：%s", c[sheet.Invalid], sum)
		rep.MessageEN = fmt.Sprintf("%d rows are invalid; nothing written (fix them, or apply_good_rows=true to write the others): %s", c[sheet.Invalid], sumEN)
	case q.dryRun:
		rep.MessageZH = fmt.Sprintf("试运行，未写入（将写入%d行）：%s", n, sum)
		rep.MessageEN = fmt.Sprintf("dry run, nothing written (would write %d): %s", n, sumEN)
	case n == 0:
		rep.MessageZH, rep.MessageEN = "没有需要写入的行："+sum, "nothing to write: "+sumEN
	default:
		rep.MessageZH = fmt.Sprintf("已写入%d行，均记入审计（导入）：%s", n, sum)
		rep.MessageEN = fmt.Sprintf("wrote %d rows, each audited as an import: %s", n, sumEN)
	}
	return rep
}

// upload is a file received for import, in a temporary file.
type upload struct {
	file   *os.File
	format string // "xlsx" or "csv"
	// digest is the SHA-256 of the file: what an Idempotency-Key's
	// fingerprint covers, the same whether it came raw or in a form.
	digest []byte
}

func (u *upload) close() {
	u.file.Close()
	os.Remove(u.file.Name())
}

// receiveUpload reads the file of an import request into a temporary
// file: the body, or the part "file" of a multipart form. The body's
// Content-Type must be one of importTypes (else 415); more than
// sheet.MaxBytes is a 413. The format is xlsx when the content is a zip
// (whatever it was labelled: Windows labels CSV files as Excel's), CSV
// otherwise; an old binary .xls is refused.
func receiveUpload(w http.ResponseWriter, r *http.Request) (*upload, error) {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	types := importTypes()
	if err != nil || !slices.Contains(types, mt) {
		return nil, errUnsupportedMedia(ct, types...)
	}
	limit := int64(sheet.MaxBytes)
	if mt == typeMultipart {
		limit += 64 << 10 // the form's own lines
	}
	if r.ContentLength > limit {
		return nil, errTooLarge(limit)
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	src, name := io.Reader(body), ""
	if mt == typeMultipart {
		part, err := filePart(multipart.NewReader(body, params["boundary"]))
		if err != nil {
			return nil, tooLargeOr(err, limit)
		}
		defer part.Close()
		src, name = part, part.FileName()
		// A browser labels the part by the file's extension, or not at
		// all (octet-stream).
		files := fileTypes()
		if pt, _, err := mime.ParseMediaType(part.Header.Get("Content-Type")); err == nil && pt != "application/octet-stream" && !slices.Contains(files, pt) {
			return nil, errUnsupportedMedia(part.Header.Get("Content-Type"), files...)
		}
	}
	f, err := os.CreateTemp("", "hazardmap-import-*")
	if err != nil {
		return nil, fmt.Errorf("api: import: %w", err)
	}
	u := &upload{file: f}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(src, int64(sheet.MaxBytes)+1))
	u.digest = h.Sum(nil)
	switch {
	case err != nil:
		u.close()
		return nil, tooLargeOr(err, limit)
	case n > int64(sheet.MaxBytes):
		u.close()
		return nil, errTooLarge(int64(sheet.MaxBytes))
	}
	head := make([]byte, 8)
	k, _ := f.ReadAt(head, 0)
	head = head[:k]
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		u.format = "xlsx"
	case bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		u.close()
		return nil, geo.InvalidField("file", "an old Excel .xls workbook (%s) cannot be read: save it as .xlsx or CSV UTF-8 / 旧版.xls文件无法读取，请另存为.xlsx或“CSV UTF-8”", filepath.Base(name))
	case mt == export.MediaXLSX || strings.EqualFold(filepath.Ext(name), ".xlsx"):
		u.format = "xlsx" // not a zip: ReadXLSX says so
	default:
		u.format = "csv"
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		u.close()
		return nil, fmt.Errorf("api: import: %w", err)
	}
	return u, nil
}

// filePart returns the part named "file" of a multipart form; any other
// part is refused, so that a form field meant as an option (dry_run) is
// not silently ignored: options go in the query.
func filePart(mr *multipart.Reader) (*multipart.Part, error) {
	part, err := mr.NextPart()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, geo.InvalidField("file", "the form has no part named file")
		}
		return nil, err
	}
	if part.FormName() != "file" {
		part.Close()
		return nil, geo.InvalidField(part.FormName(), "unknown form part: send the sheet as the part \"file\"; options go in the query (dry_run, apply_good_rows)")
	}
	return part, nil
}

// tooLargeOr returns a 413 when err is a body over limit, else err as an
// Invalid request (a form that cannot be read).
func tooLargeOr(err error, limit int64) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errTooLarge(limit)
	}
	if geo.AsError(err) != nil {
		return err
	}
	return geo.Wrap(geo.Invalid, err, "could not read the request body")
}
