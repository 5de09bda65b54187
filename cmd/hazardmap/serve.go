package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"hazardmap/api"
	"hazardmap/data"
	"hazardmap/geo"
	"hazardmap/geo/embedded"
	"hazardmap/geo/geojson"
	"hazardmap/geo/postgis"
	"hazardmap/web"
)

// Server timeouts. ReadHeaderTimeout stops slow-loris clients holding
// connections; ReadTimeout bounds request bodies (imports are the largest);
// WriteTimeout bounds a response so that a stuck client frees its
// goroutine; IdleTimeout closes keep-alive connections nobody uses. The
// event stream (GET /events) lifts the read and write deadlines for its
// own response (http.ResponseController): it lives as long as the client
// listens, with a heartbeat every 15 s whose failed write ends it.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 60 * time.Second
	writeTimeout      = 120 * time.Second
	idleTimeout       = 120 * time.Second
	// prepareRetry is the pause between attempts to migrate and seed while
	// the database is unreachable at start-up.
	prepareRetry = 2 * time.Second
	// pruneEvery is how often expired idempotency keys are deleted, at
	// most pruneBatch × pruneBatches at a time, so that pruning is a
	// small, bounded piece of work however many keys expired at once.
	pruneEvery   = 10 * time.Minute
	pruneBatch   = 1000
	pruneBatches = 10
)

// serve runs the HTTP server until ctx is cancelled (SIGINT, SIGTERM), then
// lets requests in flight finish within the shutdown timeout.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, rest, err := parse("serve", args, getenv, stderr)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "hazardmap serve: unexpected argument %q\n", rest[0])
		return errUsage
	}
	log, err := newLogger(c, stderr)
	if err != nil {
		return err
	}
	// The garbage collector's target (gctune.go), unless the environment
	// sets its own.
	if getenv("GOGC") == "" {
		stop, _ := tuneGC(gcPercent, gcFloor)
		defer stop()
	}
	tileOrigin, err := originOf(c.tileURL)
	if err != nil {
		return err
	}
	if c.baseURL != "" {
		if u, err := url.Parse(c.baseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--base-url %q: want an http(s) URL such as https://hazardmap.example.org", c.baseURL)
		}
	}
	// Listen before anything slow, so that a busy port fails at once.
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.addr, err)
	}
	defer ln.Close()

	store, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := prepare(ctx, c, store, log); err != nil {
		return err
	}
	// The alert engine checks every gauge on a ticker (silent gauges,
	// escalation), delivers alert steps from the outbox to the WeCom
	// robots, and evaluates every reading the API receives.
	alerts, err := startAlerts(ctx, c, store, log)
	if err != nil {
		return err
	}

	limits := api.DefaultLimits()
	log.Info("limits, from this machine's cores and memory", "large_builds", limits.Builds, "waiting", limits.Queue,
		"wait", limits.Wait, "send_bytes", limits.SendBytes)
	handler := api.NewServer(store, api.Options{
		Logger:          log,
		Map:             web.Handler(tileOrigin, mapOptions(c)...),
		CacheBytes:      c.cacheBytes,
		BaseURL:         c.baseURL,
		WritesPerMinute: c.writeRate,
		FileBuilds:      c.fileBuilds,
		Alerts:          alerts,
		// Large builds and bodies are bounded by what this machine has:
		// cores and memory (api.DefaultLimits, README "Reliability").
		Limits: limits,
	})
	// With the embedded store this process holds the file: the CLI's
	// writes (token create, import…) come through the control socket.
	if c.databaseURL == "" {
		stopControl, err := serveControl(ctx, c.dataDir, store, c.baseURL, log)
		if err != nil {
			return err
		}
		defer stopControl()
	}
	go pruneKeys(ctx, store, log)
	srv := &http.Server{
		Handler: handler,
		// Headers beyond MaxHeaderBytes are a 431, as problem JSON like
		// net/http's other own answers (api.Listener, below).
		MaxHeaderBytes:    api.MaxHeaderBytes,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	// Shutdown waits for connections to go idle, which an event stream
	// never does: end the streams when it begins (the clients reconnect,
	// to another instance, resuming with Last-Event-ID).
	srv.RegisterOnShutdown(func() { handler.Close() })
	served := make(chan error, 1)
	go func() { served <- srv.Serve(api.Listener(ln)) }()
	log.Info("serving", "url", "http://"+ln.Addr().String()+"/", "store", storeName(c))
	fmt.Fprintf(stdout, "hazardmap: serving http://%s/\n", ln.Addr())

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", c.shutdownTimeout)
	// A fresh context: the one that told us to stop is already done.
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// pruneKeys deletes expired idempotency keys every pruneEvery until ctx
// ends (on every instance: deleting what another deleted is no work).
func pruneKeys(ctx context.Context, store geo.Store, log *slog.Logger) {
	tick := time.NewTicker(pruneEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		total := 0
		for range pruneBatches {
			n, err := store.PruneIdempotencyKeys(ctx, time.Now(), pruneBatch)
			if err != nil {
				log.Warn("pruning idempotency keys", "error", err)
				break
			}
			total += n
			if n < pruneBatch {
				break
			}
		}
		if total > 0 {
			log.Info("pruned expired idempotency keys", "deleted", total)
		}
	}
}

func storeName(c *config) string {
	if c.databaseURL != "" {
		return "postgis"
	}
	return "embedded:" + c.dataDir
}

// openStore opens PostGIS when a database URL is set, else the embedded
// store in the data directory.
func openStore(ctx context.Context, c *config, log *slog.Logger) (geo.Store, error) {
	if c.databaseURL != "" {
		s, err := postgis.Open(ctx, c.databaseURL, log)
		if err != nil {
			return nil, fmt.Errorf("open PostGIS: %w", err)
		}
		return s, nil
	}
	s, err := embedded.Open(c.dataDir)
	if err != nil {
		return nil, fmt.Errorf("open embedded store: %w", err)
	}
	return s, nil
}

// migrator is a store with a schema to migrate (PostGIS).
type migrator interface {
	Migrate(ctx context.Context) error
}

// openMigrated opens the store the flags name, with the logger they ask
// for, and migrates it when it has a schema: what every command but serve
// (which retries while the database is away) does first.
func openMigrated(ctx context.Context, c *config, stderr io.Writer) (geo.Store, *slog.Logger, error) {
	log, err := newLogger(c, stderr)
	if err != nil {
		return nil, nil, err
	}
	store, err := openStore(ctx, c, log)
	if err != nil {
		return nil, nil, err
	}
	if m, ok := store.(migrator); ok {
		if err := m.Migrate(ctx); err != nil {
			store.Close()
			return nil, nil, fmt.Errorf("migrate: %w", err)
		}
	}
	return store, log, nil
}

// prepare migrates the database (PostGIS) and seeds empty collections. While
// the database cannot be reached it retries, so that a server started
// before its database comes up on its own once the database does.
func prepare(ctx context.Context, c *config, store geo.Store, log *slog.Logger) error {
	for {
		err := func() error {
			if m, ok := store.(migrator); ok {
				if err := m.Migrate(ctx); err != nil {
					return fmt.Errorf("migrate: %w", err)
				}
			}
			if c.seed {
				return seed(ctx, store, log)
			}
			return nil
		}()
		if err == nil || geo.KindOf(err) != geo.Unavailable {
			return err
		}
		log.Warn("database unavailable; retrying", "in", prepareRetry, "error", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(prepareRetry):
		}
	}
}

// seed loads the report's dataset into each collection that has never
// been seeded and is empty.
func seed(ctx context.Context, store geo.Store, log *slog.Logger) error {
	for _, c := range data.SeedCollections() {
		raw, err := data.Seed(c)
		if err != nil {
			return fmt.Errorf("seed %s: %w", c, err)
		}
		fs, err := geojson.DecodeFeatureCollection(raw)
		if err != nil {
			return fmt.Errorf("seed %s: embedded dataset: %w", c, err)
		}
		loaded, err := store.Seed(ctx, c, fs)
		if err != nil {
			return fmt.Errorf("seed %s: %w", c, err)
		}
		if loaded {
			log.Info("seeded", "collection", c, "features", len(fs))
		}
	}
	return nil
}

// originOf returns the scheme://host of a tile URL template, for the
// Content-Security-Policy. The host may itself be a template
// ("{s}.tile.example.org"); the web handler turns that into a wildcard.
func originOf(tileURL string) (string, error) {
	if tileURL == "" {
		return "", nil
	}
	// Placeholders are not valid URL syntax in a host: check the URL with
	// sample values, keep the template's own scheme and host.
	probe := strings.NewReplacer("{s}", "a", "{z}", "0", "{x}", "0", "{y}", "0", "{-y}", "0", "{r}", "").Replace(tileURL)
	u, err := url.Parse(probe)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(probe, "{}") {
		return "", fmt.Errorf("--tile-url %q: want an http(s) URL template like https://tile.example.org/{z}/{x}/{y}.png", tileURL)
	}
	scheme, rest, _ := strings.Cut(tileURL, "://")
	host, _, _ := strings.Cut(rest, "/")
	return scheme + "://" + host, nil
}

// mapOptions returns the map's settings from the configuration.
func mapOptions(c *config) []web.Option {
	opts := []web.Option{web.Tiles(c.tileURL, c.tileAttribution, c.tileDatum)}
	if c.tileBulk {
		opts = append(opts, web.TileBulkDownload())
	}
	return opts
}
