package main

// The control socket: how the CLI writes while `serve` holds the
// embedded store.
//
// bbolt locks its file for one process, so with the embedded store
// `hazardmap token create` and `import` cannot open the store while
// `serve` runs ("is locked by another process"). serve therefore listens
// on a unix socket in the data directory, hazardmap.sock, that only the
// owner of the process can use (mode 0600, and the peer's uid checked), and
// the CLI sends its writes there: the same store calls, made by the
// server as the system actor, so they are audited as any CLI write and
// reach /events at once. When no server answers on the socket the CLI
// opens the store itself.
//
// The protocol is HTTP/1.1 with JSON bodies, private to this binary:
//
//	GET  /v1/ping                     {"base_url": "…"}: alive, and the server's --base-url
//	POST /v1/tokens                   a token (its hash, never a secret) → 201
//	GET  /v1/tokens                   every token (without hashes)
//	POST /v1/tokens/{id}/revoke       → 204
//	POST /v1/signin-codes             a sign-in code (its hash) → 201
//	POST /v1/import?collection=ID     a GeoJSON FeatureCollection → {"imported": n}
//	GET  /v1/features?collection=ID   the collection, with versions (every export, sheet imports)
//	POST /v1/apply?collection=ID      a batch of creates and replaces (sheet import)
//
// Errors are {"kind", "message", "fields"}: the geo.Error the store
// returned, rebuilt on the CLI's side. Secrets never cross the socket: the
// CLI makes a token's secret and a sign-in code itself and sends their
// hashes.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"hazardmap/geo"
	"hazardmap/geo/geojson"
)

// controlSocket is the name of the control socket in the data directory.
const controlSocket = "hazardmap.sock"

// Limits of the control socket. An import is the largest request: a
// GeoJSON file of the whole of a large layer.
const (
	maxControlBody = 256 << 20
	// controlTimeout bounds a CLI's request, an import of 100 000
	// features included.
	controlTimeout = 10 * time.Minute
	// pingTimeout bounds the CLI's first question: is a server there?
	controlPingTimeout = 5 * time.Second
)

// errNoServer reports that no server answers on the control socket.
var errNoServer = errors.New("no hazardmap serve answers on the control socket")

// cliStore is what the CLI's writing commands need of a store: the store
// itself, or the running server's, over the control socket (remote).
type cliStore interface {
	geo.TokenStore
	CreateSignInCode(ctx context.Context, c geo.SignInCode) error
	Import(ctx context.Context, c string, fs []*geo.Feature) error
	Apply(ctx context.Context, c string, b geo.Batch) error
	Close() error
}

// Wire forms.
type (
	tokenWire struct {
		ID      string     `json:"id"`
		Name    string     `json:"name"`
		Role    geo.Role   `json:"role"`
		Hash    []byte     `json:"hash,omitempty"`
		Created time.Time  `json:"created"`
		Expires *time.Time `json:"expires,omitempty"`
		Revoked *time.Time `json:"revoked,omitempty"`
	}
	signInWire struct {
		Hash       []byte    `json:"hash"`
		TokenID    string    `json:"token_id"`
		Name       string    `json:"name"`
		Role       geo.Role  `json:"role"`
		TokenTTLUS int64     `json:"token_ttl_us"`
		Created    time.Time `json:"created"`
		Expires    time.Time `json:"expires"`
	}
	errorWire struct {
		Kind    string           `json:"kind"`
		Message string           `json:"message"`
		Fields  []geo.FieldError `json:"fields,omitempty"`
	}
	pingWire struct {
		BaseURL string `json:"base_url"`
	}
)

func toTokenWire(t geo.Token) tokenWire {
	w := tokenWire{ID: t.ID, Name: t.Name, Role: t.Role, Hash: t.Hash, Created: t.Created, Revoked: t.Revoked}
	if !t.Expires.IsZero() {
		w.Expires = &t.Expires
	}
	return w
}

func (w tokenWire) token() geo.Token {
	t := geo.Token{ID: w.ID, Name: w.Name, Role: w.Role, Hash: w.Hash, Created: w.Created, Revoked: w.Revoked}
	if w.Expires != nil {
		t.Expires = *w.Expires
	}
	return t
}

// controlServer serves the control socket over a store.
type controlServer struct {
	store   geo.Store
	log     *slog.Logger
	baseURL string
}

// listenControl listens on the control socket in dir, owner only. The
// socket is made under a temporary name, given mode 0600, and renamed into
// place (replacing one left by a server that died), so that it is never
// reachable with wider permissions. The caller holds the store's lock,
// so no other server uses dir.
func listenControl(dir string) (*net.UnixListener, string, error) {
	path := filepath.Join(dir, controlSocket)
	tmp := filepath.Join(dir, "."+controlSocket+"."+strconv.Itoa(os.Getpid()))
	_ = os.Remove(tmp)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, "", fmt.Errorf("control socket: %w", err)
	}
	ln.SetUnlinkOnClose(false)
	if err := os.Chmod(tmp, 0o600); err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, "", fmt.Errorf("control socket: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, "", fmt.Errorf("control socket: %w", err)
	}
	return ln, path, nil
}

// serveControl serves the control socket in dir until ctx ends, in the
// background. It returns a function that stops it and removes the socket.
func serveControl(ctx context.Context, dir string, store geo.Store, baseURL string, log *slog.Logger) (stop func(), err error) {
	ln, path, err := listenControl(dir)
	if err != nil {
		return nil, err
	}
	cs := &controlServer{store: store, log: log, baseURL: baseURL}
	srv := &http.Server{
		Handler:           cs.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       controlTimeout,
		WriteTimeout:      controlTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, peerKey{}, c)
		},
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("control socket stopped", "error", err)
		}
	}()
	log.Info("control socket: CLI writes go through the server", "path", path)
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-done
		_ = os.Remove(path)
	}, nil
}

// peerKey is the context key of a control connection.
type peerKey struct{}

// routes is the control socket's handler: every request checks its peer,
// then runs as the system actor.
func (cs *controlServer) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/ping", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, pingWire{BaseURL: cs.baseURL})
	})
	mux.HandleFunc("POST /v1/tokens", func(w http.ResponseWriter, r *http.Request) {
		var in tokenWire
		if cs.decode(w, r, &in) {
			cs.answer(w, r, http.StatusCreated, nil, cs.store.CreateToken(r.Context(), in.token()))
		}
	})
	mux.HandleFunc("GET /v1/tokens", func(w http.ResponseWriter, r *http.Request) {
		ts, err := cs.store.Tokens(r.Context())
		out := make([]tokenWire, len(ts))
		for i, t := range ts {
			out[i] = toTokenWire(t)
			out[i].Hash = nil
		}
		cs.answer(w, r, http.StatusOK, out, err)
	})
	mux.HandleFunc("POST /v1/tokens/{id}/revoke", func(w http.ResponseWriter, r *http.Request) {
		cs.answer(w, r, http.StatusNoContent, nil, cs.store.RevokeToken(r.Context(), r.PathValue("id")))
	})
	mux.HandleFunc("POST /v1/signin-codes", func(w http.ResponseWriter, r *http.Request) {
		var in signInWire
		if cs.decode(w, r, &in) {
			c := geo.SignInCode{Hash: in.Hash, TokenID: in.TokenID, Name: in.Name, Role: in.Role,
				TokenTTL: time.Duration(in.TokenTTLUS) * time.Microsecond, Created: in.Created, Expires: in.Expires}
			cs.answer(w, r, http.StatusCreated, nil, cs.store.CreateSignInCode(r.Context(), c))
		}
	})
	mux.HandleFunc("POST /v1/import", func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxControlBody))
		if err != nil {
			cs.answer(w, r, 0, nil, geo.Errorf(geo.Invalid, "import: reading the body: %v", err))
			return
		}
		fs, err := geojson.DecodeFeatureCollection(raw)
		if err == nil {
			err = cs.store.Import(r.Context(), r.URL.Query().Get("collection"), fs)
		}
		cs.answer(w, r, http.StatusOK, map[string]int{"imported": len(fs)}, err)
	})
	cs.sheetRoutes(mux) // control_sheets.go
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := r.Context().Value(peerKey{}).(net.Conn); !ok || !peerAllowed(c) {
			cs.log.Warn("control socket: refused a connection from another user")
			writeJSON(w, http.StatusForbidden, errorWire{Kind: geo.Forbidden.String(), Message: "the control socket is for the server's own user"})
			return
		}
		r = r.WithContext(geo.WithActor(r.Context(), geo.SystemActor()))
		start := time.Now()
		mux.ServeHTTP(w, r)
		cs.log.Info("control socket request", "method", r.Method, "path", r.URL.Path, "took", time.Since(start))
	})
}

// peerAllowed reports whether the process at the other end of c runs as
// this process's user, or as root (who can open the data directory
// anyway). The socket's mode already keeps others out; this holds even if
// the mode were changed.
func peerAllowed(c net.Conn) bool {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return false
	}
	uid, err := peerUID(uc)
	return err == nil && (uid == os.Getuid() || uid == 0)
}

// decode reads a JSON body into v, or answers 400 and returns false.
func (cs *controlServer) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(v); err != nil {
		cs.answer(w, r, 0, nil, geo.Errorf(geo.Invalid, "bad request body: %v", err))
		return false
	}
	return true
}

// answer writes v with status, or err as an errorWire.
func (cs *controlServer) answer(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err == nil {
		if v == nil {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, status, v)
		return
	}
	e := errorWire{Kind: geo.KindOf(err).String(), Message: "internal error; see the server's log"}
	if ge := geo.AsError(err); ge != nil && ge.Kind != geo.Internal {
		e.Message, e.Fields = ge.Message, ge.Fields
	} else {
		cs.log.Error("control socket request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	code := http.StatusBadRequest
	if geo.KindOf(err) == geo.Internal || geo.KindOf(err) == geo.Unavailable {
		code = http.StatusInternalServerError
	}
	writeJSON(w, code, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// remote is a cliStore on the running server's control socket.
type remote struct {
	client  *http.Client
	path    string
	baseURL string // the server's --base-url
}

var _ cliStore = (*remote)(nil)

// dialControl returns the server on the control socket in dir, or an
// error wrapping errNoServer when there is none (no socket, or one left by
// a server that is gone).
func dialControl(ctx context.Context, dir string) (*remote, error) {
	path := filepath.Join(dir, controlSocket)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, errNoServer
	}
	var d net.Dialer
	r := &remote{path: path, client: &http.Client{
		Timeout: controlTimeout,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", path)
		}},
	}}
	pctx, cancel := context.WithTimeout(ctx, controlPingTimeout)
	defer cancel()
	var p pingWire
	if err := r.do(pctx, http.MethodGet, "/v1/ping", nil, &p); err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, fs.ErrNotExist) {
			return nil, errNoServer // a socket left by a server that died
		}
		return nil, fmt.Errorf("the control socket %s: %w", path, err)
	}
	r.baseURL = p.BaseURL
	return r, nil
}

// do sends a request with the JSON of in (or in itself if it is []byte)
// and decodes the answer into out; an error answer becomes the geo.Error
// the server's store returned.
func (r *remote) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	switch b := in.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://hazardmap"+path, body)
	if err != nil {
		return err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e errorWire
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
			return fmt.Errorf("the server answered %s", resp.Status)
		}
		return &geo.Error{Kind: kindNamed(e.Kind), Message: e.Message, Fields: e.Fields}
	}
	if out == nil {
		return nil
	}
	if w, ok := out.(io.Writer); ok {
		_, err := io.Copy(w, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// kindNamed returns the geo.Kind whose String is name (Internal if none).
func kindNamed(name string) geo.Kind {
	for k := geo.Internal; k <= geo.Unavailable; k++ {
		if k.String() == name {
			return k
		}
	}
	return geo.Internal
}

// CreateToken stores t through the server.
func (r *remote) CreateToken(ctx context.Context, t geo.Token) error {
	return r.do(ctx, http.MethodPost, "/v1/tokens", toTokenWire(t), nil)
}

// TokenByHash is not offered over the control socket: the CLI never
// authenticates.
func (r *remote) TokenByHash(ctx context.Context, hash []byte) (geo.Token, error) {
	return geo.Token{}, errors.New("TokenByHash is not offered over the control socket")
}

// Tokens lists the tokens through the server.
func (r *remote) Tokens(ctx context.Context) ([]geo.Token, error) {
	var ws []tokenWire
	if err := r.do(ctx, http.MethodGet, "/v1/tokens", nil, &ws); err != nil {
		return nil, err
	}
	out := make([]geo.Token, len(ws))
	for i, w := range ws {
		out[i] = w.token()
	}
	return out, nil
}

// RevokeToken revokes token id through the server.
func (r *remote) RevokeToken(ctx context.Context, id string) error {
	return r.do(ctx, http.MethodPost, "/v1/tokens/"+url.PathEscape(id)+"/revoke", nil, nil)
}

// CreateSignInCode stores c through the server.
func (r *remote) CreateSignInCode(ctx context.Context, c geo.SignInCode) error {
	return r.do(ctx, http.MethodPost, "/v1/signin-codes", signInWire{Hash: c.Hash, TokenID: c.TokenID, Name: c.Name, Role: c.Role,
		TokenTTLUS: c.TokenTTL.Microseconds(), Created: c.Created, Expires: c.Expires}, nil)
}

// Import sends fs to the server as GeoJSON.
func (r *remote) Import(ctx context.Context, c string, fs []*geo.Feature) error {
	var b bytes.Buffer
	if err := writeFeatureCollection(&b, fs); err != nil {
		return err
	}
	return r.do(ctx, http.MethodPost, "/v1/import?collection="+url.QueryEscape(c), b.Bytes(), nil)
}

// Close releases the client's connections.
func (r *remote) Close() error {
	r.client.CloseIdleConnections()
	return nil
}
