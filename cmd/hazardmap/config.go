package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"hazardmap/api"
	"hazardmap/geo"
	"hazardmap/web"
)

// errUsage reports bad command-line use; the usage text was printed.
var errUsage = errors.New("usage")

// errHelp reports that -h or --help asked for the usage text, which was
// printed: not a failure.
var errHelp = errors.New("help")

func exitCode(err error) int {
	switch err {
	case errHelp:
		return 0
	case errUsage:
		return 2
	}
	return 1
}

// config is everything the commands can be told.
type config struct {
	addr            string
	databaseURL     string
	dataDir         string
	seed            bool
	tileURL         string
	tileAttribution string
	tileDatum       string
	tileBulk        bool
	cacheBytes      int64
	baseURL         string
	synthetic       int
	shutdownTimeout time.Duration
	logLevel        string
	logFormat       string
	collection      string
	reach           reachConfig // reach.go
	alerts          alertConfig // alerts.go
	writeRate       int
	fileBuilds      int
	// export and import: the file format; export: where to write it;
	// import: plan only, or write the good rows of a file with bad ones.
	format    string
	output    string
	dryRun    bool
	applyGood bool
	// token create: the new token's role, name and lifetime (0: never);
	// with link, a one-time sign-in link working for linkExpires instead
	// of the secret.
	role        string
	name        string
	expires     time.Duration
	link        bool
	linkExpires time.Duration
}

// setting is one flag with the environment variable that sets its default.
type setting struct {
	flag, env, def, help string
	commands             []string
	bind                 func(fs *flag.FlagSet, c *config, name, def, help string) error
}

func str(field func(*config) *string) func(*flag.FlagSet, *config, string, string, string) error {
	return func(fs *flag.FlagSet, c *config, name, def, help string) error {
		fs.StringVar(field(c), name, def, help)
		return nil
	}
}

// nonNegative binds a flag whose value is a count of 0 or more, 0 turning
// its feature off (the one convention of every such setting); def comes
// from the environment or the table, and a bad one is an error at once.
func nonNegative[T int | int64](fs *flag.FlagSet, p *T, name, def, help string) error {
	parse := func(s string) (T, error) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || int64(T(n)) != n {
			return 0, fmt.Errorf("want a non-negative integer (0 turns it off), got %q", s)
		}
		return T(n), nil
	}
	n, err := parse(def)
	if err != nil {
		return fmt.Errorf("--%s, as its environment variable sets it: %w", name, err)
	}
	*p = n
	fs.Func(name, help, func(s string) (err error) {
		*p, err = parse(s)
		return err
	})
	return nil
}

func settings() []setting {
	all := []string{"serve", "migrate", "import", "export", "token", "reach"}
	store := []string{"serve", "import", "export", "migrate", "token", "reach"}
	return append([]setting{
		{"addr", "HAZARDMAP_ADDR", "127.0.0.1:8080", "address to listen on (host:port; use :8080 for every interface)", []string{"serve"},
			str(func(c *config) *string { return &c.addr })},
		{"database-url", "DATABASE_URL", "", "PostgreSQL URL of a PostGIS database; empty uses the embedded store in --data-dir", store,
			str(func(c *config) *string { return &c.databaseURL })},
		{"data-dir", "HAZARDMAP_DATA_DIR", "var", "directory of the embedded store (used when no database URL is set)", store,
			str(func(c *config) *string { return &c.dataDir })},
		{"seed", "HAZARDMAP_SEED", "true", "load the report's dataset into collections never seeded before", []string{"serve", "reach"},
			func(fs *flag.FlagSet, c *config, name, def, help string) error {
				b, err := strconv.ParseBool(def)
				if err != nil {
					return fmt.Errorf("HAZARDMAP_SEED=%q: want true or false", def)
				}
				fs.BoolVar(&c.seed, name, b, help)
				return nil
			}},
		{"tile-url", "HAZARDMAP_TILE_URL", "", "base-map tile URL template ({z}/{x}/{y}); empty draws the offline outlines only", []string{"serve"},
			str(func(c *config) *string { return &c.tileURL })},
		{"tile-attribution", "HAZARDMAP_TILE_ATTRIBUTION", "", "attribution text shown for the tiles", []string{"serve"},
			str(func(c *config) *string { return &c.tileAttribution })},
		{"tile-datum", "HAZARDMAP_TILE_DATUM", "wgs84", "datum of the tiles: wgs84 (OpenStreetMap, Tianditu) or gcj02 (AMap/Gaode, Tencent; the map shifts features to GCJ-02 for display)", []string{"serve"},
			func(fs *flag.FlagSet, c *config, name, def, help string) error {
				d, err := web.ParseDatum(def)
				if err != nil {
					return fmt.Errorf("HAZARDMAP_TILE_DATUM: %w", err)
				}
				c.tileDatum = d
				fs.Func(name, help, func(v string) error {
					d, err := web.ParseDatum(v)
					c.tileDatum = d
					return err
				})
				return nil
			}},
		{"tile-bulk-download", "HAZARDMAP_TILE_BULK_DOWNLOAD", "false", "offer crews the download of the area in view for offline use; only where the tile source's terms allow bulk downloads", []string{"serve"},
			func(fs *flag.FlagSet, c *config, name, def, help string) error {
				b, err := strconv.ParseBool(def)
				if err != nil {
					return fmt.Errorf("HAZARDMAP_TILE_BULK_DOWNLOAD=%q: want true or false", def)
				}
				fs.BoolVar(&c.tileBulk, name, b, help)
				return nil
			}},
		{"cache-bytes", "HAZARDMAP_CACHE_BYTES", strconv.Itoa(api.DefaultCacheBytes), "bytes of encoded responses kept in memory per instance; 0 turns the cache off", []string{"serve"},
			func(fs *flag.FlagSet, c *config, name, def, help string) error {
				return nonNegative(fs, &c.cacheBytes, name, def, help)
			}},
		{"base-url", "HAZARDMAP_BASE_URL", "", "public URL of the service (scheme, host, path prefix) for links in responses and sign-in links; empty uses the request's Host (token create --link: the running server's)", []string{"serve", "token"},
			str(func(c *config) *string { return &c.baseURL })},
		{"synthetic", "", "0", "import N generated features (marked synthetic, for load tests) instead of reading FILE", []string{"import"},
			func(fs *flag.FlagSet, c *config, name, def, help string) error {
				fs.IntVar(&c.synthetic, name, 0, help)
				return nil
			}},
		{"shutdown-timeout", "HAZARDMAP_SHUTDOWN_TIMEOUT", "15s", "how long SIGTERM waits for requests in flight", []string{"serve"},
			func(fs *flag.FlagSet, c *config, name, def, help string) error {
				d, err := time.ParseDuration(def)
				if err != nil {
					return fmt.Errorf("HAZARDMAP_SHUTDOWN_TIMEOUT=%q: %w", def, err)
				}
				fs.DurationVar(&c.shutdownTimeout, name, d, help)
				return nil
			}},
		{"log-level", "HAZARDMAP_LOG_LEVEL", "info", "debug, info, warn or error", all,
			str(func(c *config) *string { return &c.logLevel })},
		{"log-format", "HAZARDMAP_LOG_FORMAT", "text", "text or json", all,
			str(func(c *config) *string { return &c.logFormat })},
		{"collection", "", "", "collection id: waterlogging_points, relocation_sites or depots", []string{"import", "export"},
			str(func(c *config) *string { return &c.collection })},
		{"write-rate", "HAZARDMAP_WRITE_RATE", strconv.Itoa(api.DefaultWritesPerMinute), "writes per minute one token may make on this instance (429 beyond); 0 turns the limit off", []string{"serve"},
			func(fs *flag.FlagSet, c *config, name, def, help string) error {
				return nonNegative(fs, &c.writeRate, name, def, help)
			}},
		{"file-builds", "HAZARDMAP_FILE_BUILDS", strconv.Itoa(api.DefaultFileBuilds()), "exports (?f=xlsx|csv|kml|gpx) and imports built at once (half the cores; 503 beyond); 0 leaves them unbounded", []string{"serve"},
			func(fs *flag.FlagSet, c *config, name, def, help string) error {
				return nonNegative(fs, &c.fileBuilds, name, def, help)
			}},
		{"format", "", "", "export: geojson (default), xlsx, csv, kml or gpx; import: xlsx or csv (default: by the file's extension; otherwise GeoJSON)", []string{"import", "export"},
			str(func(c *config) *string { return &c.format })},
		{"output", "", "", "export: write to this file instead of standard output", []string{"export"},
			str(func(c *config) *string { return &c.output })},
		{"dry-run", "", "false", "import of a sheet: show what would be created, updated, unchanged and stale, and write nothing", []string{"import"},
			func(fs *flag.FlagSet, c *config, name, def, help string) error {
				fs.BoolVar(&c.dryRun, name, false, help)
				return nil
			}},
		{"apply-good-rows", "", "false", "import of a sheet: write the good rows even if others are invalid (by default nothing is written then)", []string{"import"},
			func(fs *flag.FlagSet, c *config, name, def, help string) error {
				fs.BoolVar(&c.applyGood, name, false, help)
				return nil
			}},
		{"role", "", "", "token create: the new token's role (sensor (telemetry: readings only), crew, planner or admin); export: write only what this role may see (public, crew, planner; default everything)", []string{"token", "export"},
			str(func(c *config) *string { return &c.role })},
		{"name", "", "", `whose token it is, e.g. "城建局一队"`, []string{"token"},
			str(func(c *config) *string { return &c.name })},
		{"expires", "", "0", "lifetime of the new token, e.g. 720h (with --link: from sign-in); 0 means until revoked", []string{"token"},
			func(fs *flag.FlagSet, c *config, name, def, help string) error {
				fs.DurationVar(&c.expires, name, 0, help)
				return nil
			}},
		{"link", "", "false", "token create: print a one-time sign-in link and its QR code instead of the token", []string{"token"},
			func(fs *flag.FlagSet, c *config, name, def, help string) error {
				fs.BoolVar(&c.link, name, false, help)
				return nil
			}},
		{"link-expires", "", "15m", "how long a sign-in link works (at most 24h)", []string{"token"},
			func(fs *flag.FlagSet, c *config, name, def, help string) error {
				fs.DurationVar(&c.linkExpires, name, geo.SignInCodeTTL, help)
				return nil
			}},
	}, append(reachSettings(), alertSettings()...)...)
}

// parse reads the flags of cmd from args, with defaults from the
// environment. It returns the positional arguments.
func parse(cmd string, args []string, getenv func(string) string, stderr io.Writer) (*config, []string, error) {
	c := &config{}
	fs := flag.NewFlagSet("hazardmap "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage()) }
	for _, s := range settings() {
		if !contains(s.commands, cmd) {
			continue
		}
		def := s.def
		if s.env != "" && getenv(s.env) != "" {
			def = getenv(s.env)
		}
		if err := s.bind(fs, c, s.flag, def, s.help); err != nil {
			return nil, nil, err
		}
	}
	// Flags may follow positional arguments: `import FILE --collection x`.
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, nil, errHelp
			}
			return nil, nil, errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return c, rest, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// usage documents every command, flag and environment variable.
func usage() string {
	var b strings.Builder
	b.WriteString(`hazardmap: the flood-hazard map of Xingyang (荥阳市)

Commands:
  hazardmap [serve] [flags]              serve the OGC API and the map (default)
  hazardmap migrate [flags]              apply database migrations to DATABASE_URL and exit
  hazardmap import FILE --collection ID  add the features of a GeoJSON FeatureCollection
                                         (FILE "-" reads standard input); all or nothing
  hazardmap import --synthetic N --collection waterlogging_points
                                         add N generated points for load tests (marked synthetic)
  hazardmap import FILE.xlsx|FILE.csv --collection ID [--dry-run] [--apply-good-rows]
                                         import a sheet exported before: rows matched by id,
                                         stale rows (changed since the export) reported and left
                                         alone, nothing written if a row is bad (or only the good
                                         rows with --apply-good-rows); CSV in UTF-8 or GBK
  hazardmap export --collection ID [--format geojson|xlsx|csv|kml|gpx] [--role ROLE] [--output FILE]
                                         write a collection (GeoJSON by default) to standard output
  hazardmap reach [--max-distance-m 3000] [--ready true|false|any] [--category C] [--csv]
                                         every hazard's nearest qualifying depot, and the nearer
                                         depots skipped and why, as a table (or CSV for Excel)
  hazardmap token create --role ROLE --name NAME [--expires 720h]
                                         make an API token (sensor, crew, planner, admin); prints it once
  hazardmap token create --role crew --name NAME --link [--link-expires 15m] [--base-url URL]
                                         print a one-time sign-in link and its QR code for a phone
  hazardmap token list                   every token: id, name, role, status, times
  hazardmap token revoke ID              stop a token working, at once
  hazardmap help                         this text

Flags (each defaults to its environment variable when that is set):
`)
	for _, s := range settings() {
		env := s.env
		if env == "" {
			env = "-"
		}
		def := s.def
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(&b, "  --%-18s %-28s default %s\n      %s (%s)\n", s.flag, env, def, s.help, strings.Join(s.commands, ", "))
	}
	return b.String()
}

// newLogger builds the structured logger the flags ask for.
func newLogger(c *config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", c.logFormat)
}
