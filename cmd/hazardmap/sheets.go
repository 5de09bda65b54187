package main

// hazardmap export --format and hazardmap import FILE.xlsx|FILE.csv: the
// planners' spreadsheet round trip, and KML and GPX for map apps. The
// codecs live in geo/sheet, geo/kml and geo/gpx; this file pages through
// the store, picks the codec and prints the import report.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"hazardmap/geo"
	"hazardmap/geo/export"
	"hazardmap/geo/sheet"
)

// exportFormats are the formats of hazardmap export: GeoJSON and those
// of package export.
func exportFormats() []string { return append([]string{"geojson"}, export.Names()...) }

// features returns every feature of c from one snapshot: the store's,
// or the running server's over the control socket.
func features(ctx context.Context, store cliStore, c string) ([]*geo.Feature, error) {
	if r, ok := store.(*remote); ok {
		return r.features(ctx, c)
	}
	return geo.AllFeatures(ctx, store.(geo.Store), c)
}

// exportCmd writes a collection in one of exportFormats, as a role may
// see it (admin, everything, by default).
func exportCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, rest, err := parse("export", args, getenv, stderr)
	if err != nil {
		return err
	}
	if len(rest) != 0 || c.collection == "" {
		fmt.Fprintln(stderr, "usage: hazardmap export --collection ID [--format geojson|xlsx|csv|kml|gpx] [--role ROLE] [--output FILE]")
		return errUsage
	}
	sc, err := geo.SchemaFor(c.collection)
	if err != nil {
		return err
	}
	role := geo.RoleAdmin // whoever holds the database sees everything
	if c.role != "" {
		if role, err = geo.ParseRole(c.role); err != nil {
			return fmt.Errorf("export: --role: %w", err)
		}
	}
	format := c.format
	if format == "" {
		format = "geojson"
	}
	ef, ok := export.Lookup(format)
	if !ok && format != "geojson" {
		return fmt.Errorf("export: unknown format %q (want one of %s)", format, strings.Join(exportFormats(), ", "))
	}
	store, err := openCLI(ctx, c, stderr)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer store.Close()
	// Read everything from one snapshot, then encode: a read must not
	// hold the store while the file is written.
	fs, err := features(ctx, store, c.collection)
	if err != nil {
		return fmt.Errorf("export %s: %w", c.collection, err)
	}

	w, done := stdout, func() error { return nil }
	if c.output != "" && c.output != "-" {
		f, err := os.Create(c.output)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		w, done = f, f.Close
		defer f.Close()
	}
	if format == "geojson" {
		bw := bufio.NewWriter(w)
		for i, f := range fs {
			fs[i] = sc.Redact(f, role)
		}
		if err := writeFeatureCollection(bw, fs); err != nil {
			return fmt.Errorf("export %s: %w", c.collection, err)
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		return done()
	}
	if err := export.Write(ef, w, sc, role, time.Now(), fs); err != nil {
		return err
	}
	if err := done(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// sheetFormat returns "xlsx" or "csv" when the import of file is a
// spreadsheet (by --format, else by the file's extension), "" otherwise.
func sheetFormat(format, file string) string {
	switch format {
	case "xlsx", "csv":
		return format
	case "":
		switch strings.ToLower(filepath.Ext(file)) {
		case ".xlsx":
			return "xlsx"
		case ".csv", ".txt":
			return "csv"
		}
	}
	return ""
}

// importSheet imports a spreadsheet: reads and checks every row, plans
// against the stored features, prints the plan and, unless a dry run,
// writes the new and edited rows in one transaction (Store.Apply, audited
// as import). Stale rows are reported and left alone; if any row is bad
// nothing is written, unless applyGood.
func importSheet(ctx context.Context, c *config, format, file string, stdin io.Reader, stdout, stderr io.Writer) error {
	sc, err := geo.SchemaFor(c.collection)
	if err != nil {
		return err
	}
	var r io.Reader = stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		r = f
	}
	// The CLI is whoever holds the database: it may write every column.
	var t *sheet.Table
	if format == "xlsx" {
		t, err = sheet.ReadXLSX(r, sc, geo.RoleAdmin)
	} else {
		t, err = sheet.ReadCSV(r, sc, geo.RoleAdmin)
	}
	if fe := (*sheet.FileError)(nil); errors.As(err, &fe) {
		for _, p := range fe.Problems {
			fmt.Fprintf(stdout, "%s\n  %s\n", p.String(), p.English())
		}
		return fmt.Errorf("import %s: the file cannot be read as a sheet of %s; nothing written", file, c.collection)
	}
	if err != nil {
		return fmt.Errorf("import %s: %w", file, err)
	}
	enc := ""
	if t.Encoding != "" {
		enc = ", " + t.Encoding
	}
	fmt.Fprintf(stdout, "读取 read %s (%s%s): %d 行 rows, %d 列 columns\n", file, format, enc, len(t.Rows), len(t.Columns))

	store, err := openCLI(ctx, c, stderr)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer store.Close()
	res, err := sheet.Import(ctx, t, sheet.ImportOptions{DryRun: c.dryRun, GoodOnly: c.applyGood},
		func(ctx context.Context, ids []string) (map[string]*geo.Feature, error) {
			return storedFeatures(ctx, store, c.collection, ids)
		}, func(ctx context.Context, _ *sheet.Plan, b geo.Batch) error {
			return store.Apply(ctx, c.collection, b)
		})
	if err != nil {
		return fmt.Errorf("import %s: %w", file, err)
	}
	printPlan(stdout, res.Plan)
	switch {
	case res.Refused:
		return fmt.Errorf("import %s: %d rows are invalid; nothing written (fix them, or --apply-good-rows to write the others)", file, res.Plan.Count(sheet.Invalid))
	case c.dryRun:
		fmt.Fprintf(stdout, "试运行，未写入 dry run: nothing written (would write %d)\n", res.Would.Len())
	case res.Written.Len() == 0:
		fmt.Fprintln(stdout, "没有需要写入的行 nothing to write")
	default:
		fmt.Fprintf(stdout, "已写入 written: %d (新建 created %d, 更新 updated %d), 审计为 audited as import%s\n",
			res.Written.Len(), len(res.Written.Create), len(res.Written.Replace), via(store))
	}
	return nil
}

// storedFeatures returns the stored features of c with the given ids.
func storedFeatures(ctx context.Context, cs cliStore, c string, ids []string) (map[string]*geo.Feature, error) {
	store, local := cs.(geo.Store)
	if local {
		return geo.FeaturesByID(ctx, store, c, ids)
	}
	// The running server's store: the whole collection in one request.
	fs, err := features(ctx, cs, c)
	if err != nil {
		return nil, err
	}
	out := map[string]*geo.Feature{}
	for _, f := range fs {
		out[f.ID] = f
	}
	return out, nil
}

// printPlan writes the plan: every row that is not unchanged, with its
// problems in Chinese and English, and the totals.
func printPlan(w io.Writer, p *sheet.Plan) {
	for _, r := range p.Rows {
		if r.Action == sheet.Unchanged {
			continue
		}
		id := r.ID
		if id == "" {
			id = "（新 new）"
		}
		line := fmt.Sprintf("第%d行 row %d %s: %s", r.Line, r.Line, id, r.Action.Label())
		if len(r.Changed) > 0 && r.Action != sheet.Invalid {
			line += " — " + strings.Join(r.Changed, ", ")
		}
		fmt.Fprintln(w, line)
		for _, pr := range r.Problems {
			fmt.Fprintf(w, "  %s\n  %s\n", pr.String(), pr.English())
		}
	}
	fmt.Fprintf(w, "合计 total %d: %s %d, %s %d, %s %d, %s %d, %s %d\n", len(p.Rows),
		sheet.Create.Label(), p.Count(sheet.Create), sheet.Update.Label(), p.Count(sheet.Update),
		sheet.Unchanged.Label(), p.Count(sheet.Unchanged), sheet.Stale.Label(), p.Count(sheet.Stale),
		sheet.Invalid.Label(), p.Count(sheet.Invalid))
}
