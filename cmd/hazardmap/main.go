// Command hazardmap serves the flood-hazard map of Xingyang: an OGC API –
// Features service over PostGIS (or, with no database, an embedded store
// on local disk) and the Leaflet map that reads it.
//
// Usage:
//
//	hazardmap [serve] [flags]             serve the API and the map (default)
//	hazardmap migrate [flags]             apply database migrations and exit
//	hazardmap import FILE --collection ID add a GeoJSON FeatureCollection, or
//	                                      import a sheet (FILE.xlsx, FILE.csv)
//	hazardmap export --collection ID      write a collection as GeoJSON, xlsx,
//	                                      CSV, KML or GPX (--format)
//	hazardmap reach [flags]               which hazards no ready depot reaches, and why
//	hazardmap token create|list|revoke    manage the API's bearer tokens
//
// Every flag can also be set from the environment; `hazardmap help` lists
// them.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if err != errUsage && err != errHelp {
			fmt.Fprintln(os.Stderr, "hazardmap:", err)
		}
		os.Exit(exitCode(err))
	}
}

// run is the whole program, with its inputs passed in so tests can call
// it: args without the program name, the environment as getenv, and the
// standard streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, args, getenv, stdout, stderr)
	case "import":
		return importCmd(ctx, args, getenv, stdin, stdout, stderr)
	case "export":
		return exportCmd(ctx, args, getenv, stdout, stderr)
	case "reach":
		return reachCmd(ctx, args, getenv, stdout, stderr) // reach.go
	case "token":
		return tokenCmd(ctx, args, getenv, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage())
		return nil
	}
	fmt.Fprintf(stderr, "hazardmap: unknown command %q\n\n%s", cmd, usage())
	return errUsage
}
