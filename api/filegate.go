package api

import (
	"context"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"hazardmap/geo"
)

// This file bounds what the file routes (exports.go, imports.go) may cost
// together. Building a spreadsheet is the most expensive thing a request
// can ask for: 10 000 rows of xlsx take about half a second of a core and
// allocate about 120 MB, and reading an uploaded xlsx may unzip 128 MiB. So
//   - at most Options.FileBuilds files are built (encoded, or parsed and
//     planned) at once; a request waits up to fileWait for a slot and
//     then gets 503 with Retry-After;
//   - files are built into temporary files, not memory, and uploads are
//     received into them; at most filesPerBuild × FileBuilds such files
//     exist at once (being received, built or sent), so slow clients hold
//     disk and a descriptor, never a build slot; beyond that, 503 at once.
// The GeoJSON routes never wait here.

// DefaultFileBuilds returns the file builds hazardmap serve allows at
// once: one per two cores the process may use (at least one), leaving the
// others to the map's cheap requests.
func DefaultFileBuilds() int { return max(1, runtime.GOMAXPROCS(0)/2) }

const (
	// fileWait is how long a request waits for a build slot: a few
	// builds of the largest file.
	fileWait = 5 * time.Second
	// fileRetryAfter is the Retry-After of a 503 from the gate, seconds.
	fileRetryAfter = 5
	// filesPerBuild is how many temporary files (uploads and downloads
	// in progress) each build slot allows.
	filesPerBuild = 8
)

// fileGate enforces the limits above; a nil *fileGate allows everything.
type fileGate struct {
	builds chan struct{}
	files  chan struct{}
	wait   time.Duration // fileWait; tests shorten it
}

// newFileGate returns the gate of n builds at once; nil when n is 0
// (unbounded).
func newFileGate(n int) *fileGate {
	if n <= 0 {
		return nil
	}
	return &fileGate{builds: make(chan struct{}, n), files: make(chan struct{}, n*filesPerBuild), wait: fileWait}
}

// errFilesBusy is the 503 of a file request beyond the limits.
func errFilesBusy(what string) error {
	retry := strconv.Itoa(fileRetryAfter)
	return &httpError{status: http.StatusServiceUnavailable,
		err:    geo.Errorf(geo.Unavailable, "the server is %s as many files as it may at once; retry after %s seconds", what, retry),
		header: http.Header{"Retry-After": {retry}}}
}

// file takes a place for one temporary file, at once or not at all, and
// returns the function that gives it back.
func (g *fileGate) file() (func(), error) {
	if g == nil {
		return func() {}, nil
	}
	select {
	case g.files <- struct{}{}:
		return func() { <-g.files }, nil
	default:
		return nil, errFilesBusy("handling")
	}
}

// build waits up to fileWait for a build slot and returns the function
// that frees it.
func (g *fileGate) build(ctx context.Context) (func(), error) {
	if g == nil {
		return func() {}, nil
	}
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.builds <- struct{}{}:
		return func() { <-g.builds }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, errFilesBusy("building")
	}
}
