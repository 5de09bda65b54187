package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"hazardmap/geo"
	"hazardmap/geo/embedded"
	"hazardmap/geo/geojson"
	"hazardmap/geo/synthetic"
)

// migrate applies the database migrations and exits.
func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, rest, err := parse("migrate", args, getenv, stderr)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return errUsage
	}
	if c.databaseURL == "" {
		return fmt.Errorf("migrate: set DATABASE_URL or --database-url (the embedded store needs no migrations)")
	}
	store, _, err := openMigrated(ctx, c, stderr)
	if err != nil {
		return err
	}
	store.Close()
	fmt.Fprintln(stdout, "hazardmap: database is migrated")
	return nil
}

// importCmd adds the features of a GeoJSON file to a collection, all or
// nothing.
func importCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	c, rest, err := parse("import", args, getenv, stderr)
	if err != nil {
		return err
	}
	if (len(rest) != 1) == (c.synthetic <= 0) || c.collection == "" {
		fmt.Fprintln(stderr, "usage: hazardmap import FILE --collection ID [--dry-run] [--apply-good-rows]\n       hazardmap import --synthetic N --collection waterlogging_points")
		return errUsage
	}
	if len(rest) == 1 {
		if format := sheetFormat(c.format, rest[0]); format != "" {
			return importSheet(ctx, c, format, rest[0], stdin, stdout, stderr)
		}
		if c.format != "" && c.format != "geojson" {
			return fmt.Errorf("import: --format %q: want xlsx, csv or geojson", c.format)
		}
	}
	if c.dryRun || c.applyGood {
		return fmt.Errorf("import: --dry-run and --apply-good-rows are for sheets (xlsx, csv); a GeoJSON import is all or nothing")
	}
	if _, err := geo.SchemaFor(c.collection); err != nil {
		return err
	}
	var fs []*geo.Feature
	source := fmt.Sprintf("%d synthetic features", c.synthetic)
	if c.synthetic > 0 {
		if c.collection != geo.WaterloggingPoints {
			return fmt.Errorf("import --synthetic: only %s has a generator", geo.WaterloggingPoints)
		}
		fs = synthetic.Features(c.synthetic, 1)
	} else {
		source = rest[0]
		var raw []byte
		if source == "-" {
			raw, err = io.ReadAll(stdin)
		} else {
			raw, err = os.ReadFile(source)
		}
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		if fs, err = geojson.DecodeFeatureCollection(raw); err != nil {
			return fmt.Errorf("import %s: %w", source, err)
		}
	}
	store, err := openCLI(ctx, c, stderr)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer store.Close()
	if err := store.Import(ctx, c.collection, fs); err != nil {
		return fmt.Errorf("import %s into %s: %w", source, c.collection, err)
	}
	fmt.Fprintf(stdout, "hazardmap: imported %d features into %s%s\n", len(fs), c.collection, via(store))
	return nil
}

// writeFeatureCollection writes fs as a GeoJSON FeatureCollection, one
// feature per line.
func writeFeatureCollection(w io.Writer, fs []*geo.Feature) error {
	buf := []byte(`{"type":"FeatureCollection","features":[`)
	var err error
	for i, f := range fs {
		if i > 0 {
			buf = append(buf, ",\n"...)
		} else {
			buf = append(buf, '\n')
		}
		if buf, err = geojson.AppendFeature(buf, f); err != nil {
			return err
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
		buf = buf[:0]
	}
	buf = append(buf, "\n]}\n"...)
	_, err = w.Write(buf)
	return err
}

// openCLI returns the store a CLI command works on. With the embedded
// store (no database URL) that is the running server's, over its control
// socket, when one answers there: the server holds the file. Otherwise
// the command opens the store itself (and migrates PostGIS). When neither
// works the error says why both failed.
func openCLI(ctx context.Context, c *config, stderr io.Writer) (cliStore, error) {
	if c.databaseURL == "" {
		r, err := dialControl(ctx, c.dataDir)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, errNoServer) {
			return nil, err
		}
	}
	store, _, err := openMigrated(ctx, c, stderr)
	if err != nil {
		if embedded.IsLocked(err) {
			return nil, fmt.Errorf("%w\nand no hazardmap serve answers on %s: is another command using the store? (run it again when it is done)",
				err, filepath.Join(c.dataDir, controlSocket))
		}
		return nil, err
	}
	return store, nil
}

// via says where a CLI write went, for its report.
func via(s cliStore) string {
	if r, ok := s.(*remote); ok {
		return " (through the running server, " + r.path + ")"
	}
	return ""
}
