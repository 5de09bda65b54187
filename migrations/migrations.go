// Package migrations holds the SQL migrations of the PostGIS store, embedded
// in the binary so that `hazardmap migrate` and `hazardmap serve` need no
// files beside the executable.
//
// The files are in the format of github.com/jackc/tern/v2: named
// NNN_name.sql, applied in order, each in its own transaction, with an
// optional down part after the line "---- create above / drop below ----".
// tern reads each file as a text/template, so the SQL must not contain the
// template delimiters (two opening or closing braces).
//
// The tables mirror geo.Schemas(): one table per collection, and a STORED
// generated column for every Filterable scalar property. A collection or a
// Filterable property added to geo needs a new migration here; the PostGIS
// store checks after migrating that every one has its column.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed *.sql
var files embed.FS

// FS returns the migration files, for tern's Migrator.LoadMigrations.
func FS() fs.FS { return files }
