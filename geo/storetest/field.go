package storetest

// Cases of field mode: idempotency keys, one-time sign-in codes, photos
// and accuracy of reports, location proposals.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"hazardmap/geo"
)

// fieldCases are the cases of this file, run by Run like the others.
func fieldCases() []struct {
	name string
	run  func(t *testing.T, s geo.Store)
} {
	return []struct {
		name string
		run  func(t *testing.T, s geo.Store)
	}{
		{"IdempotencyReplayAndMismatch", idempotencyReplay},
		{"IdempotencyInFlightAndRelease", idempotencyInFlight},
		{"IdempotencyConcurrentWritesOnce", idempotencyConcurrent},
		{"IdempotencyFailedWriteRecordsNothing", idempotencyFailedWrite},
		{"IdempotencyEveryWriteKind", idempotencyEveryWrite},
		{"IdempotencyExpiryAndPrune", idempotencyExpiry},
		{"SignInCodeExchangedOnce", signInOnce},
		{"SignInCodeExpiresAndRevokes", signInExpiry},
		{"SignInCodeConcurrentExchange", signInConcurrent},
		{"ObservationPhotoAndAccuracy", observationPhoto},
		{"LocationProposals", locationProposals},
		{"LocationProposalAcceptIsChecked", proposalAcceptChecked},
	}
}

// Fixtures.

var (
	plannerActor = geo.Actor{ID: "tok-planner-1", Name: "规划科", Role: geo.RolePlanner}
	adminActor   = geo.Actor{ID: "tok-admin-1", Name: "应急局值班", Role: geo.RoleAdmin}
)

func plannerCtx() context.Context { return geo.WithActor(ctx, plannerActor) }

// fingerprint stands for a request with body by the crew of crewCtx.
func fingerprint(body string) []byte {
	return geo.IdempotencyFingerprint("POST", "/collections/waterlogging_points/items/p/observations", []byte(body), "tok-crew-1")
}

// answer is the Respond function of the tests: it names what the write
// wrote, so that a replay can be told from a second write.
func answer(res geo.WriteResult) (geo.StoredResponse, error) {
	var b strings.Builder
	for _, e := range res.Entries {
		fmt.Fprintf(&b, "%s %s/%s v%d seq %d by %s;", e.Action, e.Collection, e.FeatureID, e.Version, e.Seq, e.Actor.ID)
	}
	if o := res.Observation; o != nil {
		fmt.Fprintf(&b, " observation %d", o.ID)
	}
	if p := res.Proposal; p != nil {
		fmt.Fprintf(&b, " proposal %d %s", p.ID, p.Status)
	}
	return geo.StoredResponse{Status: 201, Header: map[string][]string{
		"Content-Type": {"application/json"}, "Location": {"/x"},
	}, Body: []byte(b.String())}, nil
}

// idempotent runs write under key as the API does (geo.Idempotently),
// answering with answer.
func idempotent(t *testing.T, s geo.Store, wctx context.Context, key string, fp []byte, now time.Time,
	write func(ctx context.Context) error) (geo.IdempotencyOutcome, *geo.StoredResponse, error) {
	t.Helper()
	out, resp, err := geo.Idempotently(wctx, s, key, fp, now, answer, write)
	if out == 0 {
		t.Fatalf("Idempotently(%q) = %v", key, err)
	}
	return out, resp, err
}

func claim(t *testing.T, s geo.Store, key string, fp []byte, now time.Time) geo.IdempotencyClaim {
	t.Helper()
	c, err := s.ClaimIdempotencyKey(ctx, key, fp, now)
	if err != nil {
		t.Fatalf("ClaimIdempotencyKey(%q) = %v", key, err)
	}
	return c
}

func wantOutcome(t *testing.T, what string, got, want geo.IdempotencyOutcome) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: outcome %v, want %v", what, got, want)
	}
}

func countObservations(t *testing.T, s geo.Store, id string) int {
	t.Helper()
	_, n, err := s.Observations(ctx, id, geo.ObservationQuery{})
	if err != nil {
		t.Fatalf("Observations(%s) = %v", id, err)
	}
	return n
}

// Idempotency keys.

func idempotencyReplay(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.WaterloggingPoints, point("p", orb.Point{113.4, 34.8}, nil))
	now := time.Now()
	observe := func(ctx context.Context) error {
		_, _, err := s.AddObservation(ctx, "p", 0, report(25, geo.ObservationPonding))
		return err
	}
	out, first, err := idempotent(t, s, crewCtx(), "k1", fingerprint("a"), now, observe)
	if err != nil || out != geo.IdempotencyClaimed || first == nil {
		t.Fatalf("first write: %v, %v, %v", out, first, err)
	}
	if !strings.Contains(string(first.Body), "observe waterlogging_points/p v2") || !strings.Contains(string(first.Body), "observation ") {
		t.Errorf("answer %q: want the observe entry and the observation", first.Body)
	}
	auditBefore := len(allAudit(t, s))
	// The same key and request, again: the first answer, nothing written.
	for range 2 {
		out, again, _ := idempotent(t, s, crewCtx(), "k1", fingerprint("a"), now.Add(time.Minute), observe)
		wantOutcome(t, "same key, same request", out, geo.IdempotencyReplay)
		if !reflect.DeepEqual(again, first) {
			t.Errorf("replay = %+v\nwant %+v", again, first)
		}
	}
	// The same key with another request: refused, nothing written.
	out, resp, _ := idempotent(t, s, crewCtx(), "k1", fingerprint("b"), now, observe)
	wantOutcome(t, "same key, other body", out, geo.IdempotencyMismatch)
	if resp != nil {
		t.Errorf("mismatch carried a response %+v", resp)
	}
	other := geo.IdempotencyFingerprint("POST", "/collections/waterlogging_points/items/p/observations", []byte("a"), "tok-crew-2")
	wantOutcome(t, "same key, other actor", claim(t, s, "k1", other, now).Outcome, geo.IdempotencyMismatch)
	if n := countObservations(t, s, "p"); n != 1 {
		t.Errorf("%d reports after replays, want 1", n)
	}
	if n := len(allAudit(t, s)); n != auditBefore {
		t.Errorf("replays added %d audit entries", n-auditBefore)
	}
	// Another key writes again.
	if out, _, err := idempotent(t, s, crewCtx(), "k2", fingerprint("a"), now, observe); err != nil || out != geo.IdempotencyClaimed {
		t.Errorf("another key: %v, %v", out, err)
	}
	if n := countObservations(t, s, "p"); n != 2 {
		t.Errorf("%d reports after a second key, want 2", n)
	}
	// Bad input.
	for _, key := range []string{"", strings.Repeat("x", 256), "é", "a\x00"} {
		_, err := s.ClaimIdempotencyKey(ctx, key, fingerprint("a"), now)
		wantKind(t, fmt.Sprintf("ClaimIdempotencyKey(%q)", key), err, geo.Invalid)
	}
	_, err = s.ClaimIdempotencyKey(ctx, "k3", []byte("short"), now)
	wantKind(t, "ClaimIdempotencyKey(short fingerprint)", err, geo.Invalid)
}

func idempotencyInFlight(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.WaterloggingPoints, point("p", orb.Point{113.4, 34.8}, nil))
	now := time.Now()
	first := claim(t, s, "k", fingerprint("a"), now)
	wantOutcome(t, "first claim", first.Outcome, geo.IdempotencyClaimed)
	if len(first.Nonce) == 0 {
		t.Fatal("a granted claim has no nonce")
	}
	wantOutcome(t, "claim while in flight", claim(t, s, "k", fingerprint("a"), now.Add(time.Second)).Outcome, geo.IdempotencyInFlight)
	wantOutcome(t, "other request while in flight", claim(t, s, "k", fingerprint("b"), now).Outcome, geo.IdempotencyMismatch)
	// Released (its write did not happen): the key is free at once.
	if err := s.ReleaseIdempotencyKey(ctx, first); err != nil {
		t.Fatal(err)
	}
	second := claim(t, s, "k", fingerprint("a"), now.Add(2*time.Second))
	wantOutcome(t, "claim after release", second.Outcome, geo.IdempotencyClaimed)
	// The released claim cannot complete a write any more, nor release
	// the new one.
	wctx := geo.WithIdempotency(crewCtx(), first, answer)
	_, _, err := s.AddObservation(wctx, "p", 0, report(25, geo.ObservationPonding))
	wantKind(t, "AddObservation with a released claim", err, geo.Conflict)
	if n := countObservations(t, s, "p"); n != 0 {
		t.Errorf("a write with a lost claim stored %d reports", n)
	}
	if err := s.ReleaseIdempotencyKey(ctx, first); err != nil {
		t.Fatal(err)
	}
	wantOutcome(t, "claim after releasing a stale claim", claim(t, s, "k", fingerprint("a"), now.Add(3*time.Second)).Outcome, geo.IdempotencyInFlight)
	// The holder writes once; a second write with the same context is
	// refused (a claim answers one write).
	wctx = geo.WithIdempotency(crewCtx(), second, answer)
	if _, _, err := s.AddObservation(wctx, "p", 0, report(25, geo.ObservationPonding)); err != nil {
		t.Fatalf("AddObservation with the claim = %v", err)
	}
	_, _, err = s.AddObservation(wctx, "p", 0, report(30, geo.ObservationPonding))
	wantKind(t, "second write with one claim", err, geo.Conflict)
	if n := countObservations(t, s, "p"); n != 1 {
		t.Errorf("%d reports, want 1", n)
	}
	// Releasing a completed claim leaves its answer.
	if err := s.ReleaseIdempotencyKey(ctx, second); err != nil {
		t.Fatal(err)
	}
	wantOutcome(t, "claim after completion", claim(t, s, "k", fingerprint("a"), now.Add(4*time.Second)).Outcome, geo.IdempotencyReplay)
}

// idempotencyConcurrent sends one report with one key from many
// goroutines at once, as a phone whose retries overlap might: exactly one
// write happens, and every sender ends with its answer.
func idempotencyConcurrent(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.WaterloggingPoints, point("p", orb.Point{113.4, 34.8}, nil))
	const senders = 12
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		answers  []*geo.StoredResponse
		claimed  int
		failures []error
		start    = make(chan struct{})
		written  = make(chan struct{}) // closed when the sender holding the key is done
		once     sync.Once
		now      = time.Now()
	)
	fail := func(err error) {
		mu.Lock()
		failures = append(failures, err)
		mu.Unlock()
	}
	for range senders {
		wg.Go(func() {
			<-start
			for range senders + 1 { // a retry per sender that might hold the key in turn
				c, err := s.ClaimIdempotencyKey(ctx, "same", fingerprint("a"), now)
				if err != nil {
					fail(err)
					return
				}
				switch c.Outcome {
				case geo.IdempotencyInFlight: // as a client on 409: wait, then retry
					<-written
					continue
				case geo.IdempotencyReplay:
					mu.Lock()
					answers = append(answers, c.Response)
					mu.Unlock()
					return
				case geo.IdempotencyClaimed:
					var made *geo.StoredResponse
					_, _, err := s.AddObservation(geo.WithIdempotency(crewCtx(), c, func(res geo.WriteResult) (geo.StoredResponse, error) {
						r, err := answer(res)
						made = &r
						return r, err
					}), "p", 0, report(25, geo.ObservationPonding))
					if rerr := s.ReleaseIdempotencyKey(ctx, c); err == nil {
						err = rerr
					}
					mu.Lock()
					claimed++
					if err != nil {
						failures = append(failures, err)
					} else {
						answers = append(answers, made)
					}
					mu.Unlock()
					once.Do(func() { close(written) })
					return
				default:
					fail(fmt.Errorf("outcome %v", c.Outcome))
					return
				}
			}
			fail(fmt.Errorf("no answer after %d claims", senders+1))
		})
	}
	close(start)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("senders failed: %v", failures)
	}
	if claimed != 1 {
		t.Errorf("%d senders claimed the key, want 1", claimed)
	}
	if n := countObservations(t, s, "p"); n != 1 {
		t.Errorf("%d reports from %d senders of one key, want 1", n, senders)
	}
	if len(answers) != senders {
		t.Fatalf("%d answers, want %d", len(answers), senders)
	}
	for _, a := range answers[1:] {
		if !reflect.DeepEqual(a, answers[0]) {
			t.Errorf("answers differ: %+v and %+v", a, answers[0])
		}
	}
}

func idempotencyFailedWrite(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.WaterloggingPoints, point("p", orb.Point{113.4, 34.8}, nil))
	now := time.Now()
	before := len(allAudit(t, s))
	// A refused write records no answer: the key is free again once
	// released, and the corrected request may use it.
	out, resp, err := idempotent(t, s, crewCtx(), "k", fingerprint("a"), now, func(ctx context.Context) error {
		_, _, err := s.AddObservation(ctx, "p", 0, report(40, geo.ObservationClear))
		return err
	})
	wantKind(t, "invalid report with a key", err, geo.Invalid)
	if out != geo.IdempotencyClaimed || resp != nil {
		t.Errorf("invalid report: %v, %+v", out, resp)
	}
	wantOutcome(t, "claim after a refused write", claim(t, s, "k", fingerprint("a"), now).Outcome, geo.IdempotencyClaimed)
	// An answer that cannot be stored, or a Respond that fails, rolls the
	// write back.
	for name, respond := range map[string]func(geo.WriteResult) (geo.StoredResponse, error){
		"status 500": func(geo.WriteResult) (geo.StoredResponse, error) { return geo.StoredResponse{Status: 500}, nil },
		"bad header": func(geo.WriteResult) (geo.StoredResponse, error) {
			return geo.StoredResponse{Status: 201, Header: map[string][]string{"Bad Name": {"x"}}}, nil
		},
		"body too big": func(geo.WriteResult) (geo.StoredResponse, error) {
			return geo.StoredResponse{Status: 201, Body: make([]byte, geo.MaxStoredBody+1)}, nil
		},
		"error": func(geo.WriteResult) (geo.StoredResponse, error) {
			return geo.StoredResponse{}, fmt.Errorf("encoder broke")
		},
	} {
		c := claim(t, s, "k-"+strings.ReplaceAll(name, " ", "-"), fingerprint("a"), now)
		_, _, err := s.AddObservation(geo.WithIdempotency(crewCtx(), c, respond), "p", 0, report(25, geo.ObservationPonding))
		if err == nil {
			t.Errorf("%s: the write succeeded", name)
		}
		if err := s.ReleaseIdempotencyKey(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if n := countObservations(t, s, "p"); n != 0 {
		t.Errorf("%d reports after failed writes, want 0", n)
	}
	if n := len(allAudit(t, s)); n != before {
		t.Errorf("failed idempotent writes added %d audit entries", n-before)
	}
	if p := mustGet(t, s, geo.WaterloggingPoints, "p"); p.Version != 1 {
		t.Errorf("failed idempotent writes changed the point to version %d", p.Version)
	}
}

// idempotencyEveryWrite checks that every kind of write completes its
// claim, so that none can happen twice under one key.
func idempotencyEveryWrite(t *testing.T, s geo.Store) {
	now := time.Now()
	mustCreate(t, s, geo.WaterloggingPoints, point("p", orb.Point{113.4, 34.8}, nil))
	mustCreate(t, s, geo.WaterloggingPoints, point("u", nil, nil))
	tk, _ := newToken(t, "t1", geo.RoleCrew)
	var proposal geo.LocationProposal
	writes := []struct {
		name  string
		write func(ctx context.Context) error
		want  string // in the answer
	}{
		{"Create", func(ctx context.Context) error { return s.Create(ctx, geo.Depots, depot("d", nil, 1)) }, "create depots/d v1"},
		{"Replace", func(ctx context.Context) error {
			f := mustGet(t, s, geo.Depots, "d")
			f.Properties["floor"] = 2.0
			return s.Replace(ctx, geo.Depots, f)
		}, "replace depots/d v2"},
		{"Patch", func(ctx context.Context) error {
			_, err := s.Patch(ctx, geo.Depots, "d", 2, geo.Patch{Properties: map[string]any{"floor": 3.0}})
			return err
		}, "patch depots/d v3"},
		{"Delete", func(ctx context.Context) error { return s.Delete(ctx, geo.Depots, "d", 3) }, "delete depots/d v0"},
		{"Import", func(ctx context.Context) error { return s.Import(ctx, geo.Depots, []*geo.Feature{depot("i", nil, 1)}) }, "import depots/i v1"},
		{"AddObservation", func(ctx context.Context) error {
			_, _, err := s.AddObservation(ctx, "p", 0, report(25, geo.ObservationPonding))
			return err
		}, "observation "},
		{"ProposeLocation", func(ctx context.Context) error {
			var err error
			proposal, err = s.ProposeLocation(ctx, proposalAt("u", 8, geo.LocateAuto))
			return err
		}, "propose waterlogging_points/u v1"},
		{"RejectLocation", func(ctx context.Context) error {
			_, err := s.RejectLocation(ctx, proposal.ID, "路口不对")
			return err
		}, "rejected"},
		{"AcceptLocation", func(ctx context.Context) error {
			p, err := s.ProposeLocation(crewCtx(), proposalAt("u", 8, geo.LocateAuto))
			if err != nil {
				return err
			}
			_, _, err = s.AcceptLocation(ctx, p.ID, 1)
			return err
		}, "accept waterlogging_points/u v2"},
		{"CreateToken", func(ctx context.Context) error { return s.CreateToken(ctx, tk) }, "create tokens/t1 v1"},
		{"RevokeToken", func(ctx context.Context) error { return s.RevokeToken(ctx, "t1") }, "revoke tokens/t1 v2"},
	}
	for i, w := range writes {
		key := fmt.Sprintf("k%d", i)
		fp := fingerprint(w.name)
		out, first, err := idempotent(t, s, plannerCtx(), key, fp, now, w.write)
		if err != nil || out != geo.IdempotencyClaimed || first == nil {
			t.Fatalf("%s with a key: %v, %+v, %v", w.name, out, first, err)
		}
		if !strings.Contains(string(first.Body), w.want) {
			t.Errorf("%s: answer %q, want it to name %q", w.name, first.Body, w.want)
		}
		c := claim(t, s, key, fp, now)
		wantOutcome(t, w.name+" again", c.Outcome, geo.IdempotencyReplay)
		if !reflect.DeepEqual(c.Response, first) {
			t.Errorf("%s: replay %+v, want %+v", w.name, c.Response, first)
		}
	}
}

func idempotencyExpiry(t *testing.T, s geo.Store) {
	t0 := time.Date(2024, 7, 20, 8, 0, 0, 0, time.UTC)
	// A completed key is remembered for IdempotencyTTL after its claim.
	out, first, err := idempotent(t, s, plannerCtx(), "done", fingerprint("a"), t0, func(ctx context.Context) error {
		return s.Create(ctx, geo.Depots, depot("d", nil, 1))
	})
	if err != nil || out != geo.IdempotencyClaimed {
		t.Fatal(out, err)
	}
	c := claim(t, s, "done", fingerprint("a"), t0.Add(geo.IdempotencyTTL-time.Second))
	wantOutcome(t, "replay just before expiry", c.Outcome, geo.IdempotencyReplay)
	if !reflect.DeepEqual(c.Response, first) {
		t.Errorf("replay %+v, want %+v", c.Response, first)
	}
	wantOutcome(t, "other request just before expiry", claim(t, s, "done", fingerprint("b"), t0.Add(geo.IdempotencyTTL-time.Second)).Outcome,
		geo.IdempotencyMismatch)
	// A claim in flight holds its key for IdempotencyLease.
	lapsed := claim(t, s, "lease", fingerprint("a"), t0)
	wantOutcome(t, "in flight just before the lease ends",
		claim(t, s, "lease", fingerprint("a"), t0.Add(geo.IdempotencyLease-time.Microsecond)).Outcome, geo.IdempotencyInFlight)
	retry := claim(t, s, "lease", fingerprint("a"), t0.Add(geo.IdempotencyLease))
	wantOutcome(t, "claim when the lease ended", retry.Outcome, geo.IdempotencyClaimed)
	if bytes.Equal(retry.Nonce, lapsed.Nonce) {
		t.Error("a new claim kept the lapsed claim's nonce")
	}
	// The lapsed claim cannot write any more.
	err = s.Create(geo.WithIdempotency(plannerCtx(), lapsed, answer), geo.Depots, depot("late", nil, 1))
	wantKind(t, "write with a lapsed claim", err, geo.Conflict)
	if _, err := s.Feature(ctx, geo.Depots, "late"); geo.KindOf(err) != geo.NotFound {
		t.Errorf("a write with a lapsed claim stored its feature (%v)", err)
	}
	// Expired: free for any request.
	wantOutcome(t, "claim after expiry", claim(t, s, "done", fingerprint("b"), t0.Add(geo.IdempotencyTTL)).Outcome, geo.IdempotencyClaimed)

	// Pruning deletes what expired, at most limit at a time.
	for i := range 5 {
		claim(t, s, fmt.Sprintf("old%d", i), fingerprint("a"), t0)
	}
	claim(t, s, "young", fingerprint("a"), t0.Add(time.Hour))
	_, err = s.PruneIdempotencyKeys(ctx, t0, 0)
	wantKind(t, "PruneIdempotencyKeys(limit 0)", err, geo.Invalid)
	// At t0 + 1 h the five old claims and the retry of "lease" (claimed
	// at t0 + lease) have lapsed; "young" and the reclaimed "done" not.
	at := t0.Add(time.Hour)
	var counts []int
	for {
		n, err := s.PruneIdempotencyKeys(ctx, at, 2)
		if err != nil {
			t.Fatalf("PruneIdempotencyKeys = %v", err)
		}
		counts = append(counts, n)
		if n == 0 || len(counts) > 10 {
			break
		}
	}
	if !slices.Equal(counts, []int{2, 2, 2, 0}) {
		t.Errorf("prune in steps of 2 deleted %v, want [2 2 2 0]", counts)
	}
	wantOutcome(t, "young key after pruning", claim(t, s, "young", fingerprint("a"), t0.Add(time.Hour)).Outcome, geo.IdempotencyInFlight)
	wantOutcome(t, "pruned key", claim(t, s, "old0", fingerprint("b"), t0.Add(time.Hour)).Outcome, geo.IdempotencyClaimed)
}

// Sign-in codes.

func adminCtx() context.Context { return geo.WithActor(ctx, adminActor) }

func issue(t *testing.T, s geo.Store, name string, role geo.Role, tokenTTL, codeTTL time.Duration, now time.Time) (geo.SignInCode, string) {
	t.Helper()
	c, code, err := geo.IssueSignInCode(adminCtx(), s, name, role, tokenTTL, codeTTL, now)
	if err != nil {
		t.Fatalf("IssueSignInCode(%q) = %v", name, err)
	}
	return c, code
}

func signInOnce(t *testing.T, s geo.Store) {
	now := time.Now()
	c, code := issue(t, s, " 城建局一队 ", geo.RoleCrew, 720*time.Hour, 0, now)
	if c.Name != "城建局一队" || !c.Expires.Equal(now.Add(geo.SignInCodeTTL).UTC().Truncate(time.Microsecond)) {
		t.Errorf("issued %+v; want the trimmed name and a %v life", c, geo.SignInCodeTTL)
	}
	// A code may be typed in lower case, with spaces or without hyphens.
	typed := strings.ToLower(strings.ReplaceAll(code, "-", " "))
	tok, secret, err := geo.RedeemSignIn(ctx, s, typed, now.Add(time.Minute))
	if err != nil {
		t.Fatalf("RedeemSignIn = %v", err)
	}
	if tok.ID != c.TokenID || tok.Name != "城建局一队" || tok.Role != geo.RoleCrew ||
		!tok.Expires.Equal(now.Add(time.Minute+720*time.Hour).UTC().Truncate(time.Microsecond)) {
		t.Errorf("token %+v; want id %s, the code's name and role, 720 h from the exchange", tok, c.TokenID)
	}
	a, err := geo.Authenticate(ctx, s, secret, now.Add(2*time.Minute))
	if err != nil || a != (geo.Actor{ID: c.TokenID, Name: "城建局一队", Role: geo.RoleCrew}) {
		t.Errorf("Authenticate(new secret) = %+v, %v", a, err)
	}
	// Used: refused, and it makes no second token.
	_, _, err = geo.RedeemSignIn(ctx, s, code, now.Add(time.Minute))
	wantKind(t, "RedeemSignIn(used)", err, geo.Unauthorized)
	for _, bad := range []string{"", "not a code", strings.Repeat("A", 16), "UUUU-UUUU-UUUU-UUUU"} {
		_, _, err := geo.RedeemSignIn(ctx, s, bad, now)
		wantKind(t, fmt.Sprintf("RedeemSignIn(%q)", bad), err, geo.Unauthorized)
	}
	if ts, _ := s.Tokens(ctx); len(ts) != 1 {
		t.Errorf("%d tokens, want 1", len(ts))
	}
	// Audit: the link by its issuer, then the token's creation, by the
	// issuer too (whoever holds the code acts with the issuer's word);
	// never a hash.
	es, _, err := s.Audit(ctx, geo.AuditQuery{Collection: geo.TokensCollection, AfterSeq: 0})
	if err != nil || len(es) != 2 {
		t.Fatalf("Audit(tokens) = %d entries, %v; want 2", len(es), err)
	}
	slices.Reverse(es)
	wantEntry(t, es[0], geo.TokensCollection, c.TokenID, geo.ActionLink, 0, adminActor)
	wantEntry(t, es[1], geo.TokensCollection, c.TokenID, geo.ActionCreate, 1, adminActor)
	for _, e := range es {
		if _, ok := e.After.Properties["hash"]; ok || e.After.Properties["name"] != "城建局一队" {
			t.Errorf("audit entry %d records %v", e.Seq, e.After.Properties)
		}
	}
	// A code's hash and token id are unique.
	dup := c
	dup.Used = nil
	wantKind(t, "CreateSignInCode(same hash)", s.CreateSignInCode(adminCtx(), dup), geo.Conflict)
	dup.Hash = geo.HashSignInCode("0000000000000000")
	wantKind(t, "CreateSignInCode(a token's id)", s.CreateSignInCode(adminCtx(), dup), geo.Conflict)
	for _, b := range []struct {
		edit  func(c *geo.SignInCode)
		field string
	}{
		{func(c *geo.SignInCode) { c.Role = geo.RolePublic }, "role"},
		{func(c *geo.SignInCode) { c.Expires = c.Created.Add(25 * time.Hour) }, "link_expires"},
		{func(c *geo.SignInCode) { c.Expires = c.Created }, "link_expires"},
		{func(c *geo.SignInCode) { c.Hash = c.Hash[:5] }, "hash"},
		{func(c *geo.SignInCode) { c.Name = "" }, "name"},
		{func(c *geo.SignInCode) { c.TokenTTL = -time.Hour }, "expires"},
	} {
		bad := geo.SignInCode{Hash: geo.HashSignInCode("1111111111111111"), TokenID: geo.NewID(), Name: "x", Role: geo.RoleCrew,
			Created: now, Expires: now.Add(time.Hour)}
		b.edit(&bad)
		err := s.CreateSignInCode(adminCtx(), bad)
		wantKind(t, "CreateSignInCode(bad "+b.field+")", err, geo.Invalid)
		if e := geo.AsError(err); !slices.ContainsFunc(e.Fields, func(f geo.FieldError) bool { return f.Field == b.field }) {
			t.Errorf("CreateSignInCode(bad %s): fields %+v", b.field, e.Fields)
		}
	}
}

func signInExpiry(t *testing.T, s geo.Store) {
	t0 := time.Date(2024, 7, 20, 8, 0, 0, 0, time.UTC)
	// Expired at Expires, working just before; a token without a
	// lifetime never expires.
	c1, code1 := issue(t, s, "一队", geo.RoleCrew, 0, 10*time.Minute, t0)
	_, _, err := geo.RedeemSignIn(ctx, s, code1, c1.Expires)
	wantKind(t, "RedeemSignIn(at expiry)", err, geo.Unauthorized)
	_, _, err = geo.RedeemSignIn(ctx, s, code1, t0.Add(time.Hour))
	wantKind(t, "RedeemSignIn(after expiry)", err, geo.Unauthorized)
	c2, code2 := issue(t, s, "二队", geo.RolePlanner, 0, 10*time.Minute, t0)
	tok, _, err := geo.RedeemSignIn(ctx, s, code2, c2.Expires.Add(-time.Microsecond))
	if err != nil || !tok.Expires.IsZero() || tok.Role != geo.RolePlanner {
		t.Errorf("RedeemSignIn(just before expiry) = %+v, %v; want a planner token without expiry", tok, err)
	}
	// An unused link can be revoked by its token id; then it is dead.
	c3, code3 := issue(t, s, "三队", geo.RoleCrew, time.Hour, time.Hour, time.Now())
	if err := s.RevokeToken(adminCtx(), c3.TokenID); err != nil {
		t.Fatalf("RevokeToken(unused link) = %v", err)
	}
	if err := s.RevokeToken(adminCtx(), c3.TokenID); err != nil {
		t.Errorf("RevokeToken(revoked link) = %v, want nil", err)
	}
	_, _, err = geo.RedeemSignIn(ctx, s, code3, time.Now())
	wantKind(t, "RedeemSignIn(revoked)", err, geo.Unauthorized)
	es, _, err := s.Audit(ctx, geo.AuditQuery{Collection: geo.TokensCollection, FeatureID: c3.TokenID})
	if err != nil || len(es) != 2 || es[0].Action != geo.ActionRevoke || es[0].After.Properties["revoked"] == nil {
		t.Errorf("audit of a revoked link = %+v, %v; want link then revoke", es, err)
	}
	// A used link's token is revoked as a token.
	if err := s.RevokeToken(adminCtx(), c2.TokenID); err != nil {
		t.Fatal(err)
	}
	got, err := s.TokenByHash(ctx, tok.Hash)
	if err != nil || got.Revoked == nil {
		t.Errorf("token of a used link after RevokeToken = %+v, %v", got, err)
	}
}

func signInConcurrent(t *testing.T, s geo.Store) {
	_, code := issue(t, s, "一队", geo.RoleCrew, 0, 0, time.Now())
	const phones = 16
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		won   int
		errs  []error
		start = make(chan struct{})
	)
	for range phones {
		wg.Go(func() {
			<-start
			_, _, err := geo.RedeemSignIn(ctx, s, code, time.Now())
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				won++
			} else if geo.KindOf(err) != geo.Unauthorized {
				errs = append(errs, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if won != 1 || len(errs) > 0 {
		t.Errorf("%d of %d exchanges of one code succeeded (other errors %v), want exactly 1", won, phones, errs)
	}
	if ts, _ := s.Tokens(ctx); len(ts) != 1 {
		t.Errorf("%d tokens, want 1", len(ts))
	}
}

// Reports with photos and accuracy.

func observationPhoto(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.WaterloggingPoints, point("p", orb.Point{113.4, 34.8}, nil))
	const secret = "GPS 34.7983N 113.4046E iPhone 15 Pro 张三"
	raw := JPEG(64, 48, 6, secret) // rotated: 48 × 64 upright
	o := report(25, geo.ObservationPonding)
	o.AccuracyM = 12.5
	o.Photo = &geo.Photo{Data: raw}
	_, rec, err := s.AddObservation(crewCtx(), "p", 0, o)
	if err != nil {
		t.Fatalf("AddObservation(photo) = %v", err)
	}
	if rec.AccuracyM != 12.5 || rec.Photo == nil || rec.Photo.Data != nil || rec.Photo.ObservationID != rec.ID ||
		rec.Photo.FeatureID != "p" || rec.Photo.Width != 48 || rec.Photo.Height != 64 {
		t.Fatalf("stored report %+v, photo %+v; want accuracy 12.5 and a 48 × 64 photo without data", rec, rec.Photo)
	}
	ph, err := s.Photo(ctx, rec.ID)
	if err != nil {
		t.Fatalf("Photo(%d) = %v", rec.ID, err)
	}
	sum := sha256.Sum256(ph.Data)
	if ph.Bytes != len(ph.Data) || !bytes.Equal(sum[:], rec.Photo.SHA256) || !bytes.Equal(ph.SHA256, rec.Photo.SHA256) ||
		ph.Width != 48 || ph.Height != 64 || ph.FeatureID != "p" || ph.ObservationID != rec.ID {
		t.Errorf("Photo = %d bytes %dx%d of %s/%d; want the report's", ph.Bytes, ph.Width, ph.Height, ph.FeatureID, ph.ObservationID)
	}
	if bytes.Contains(ph.Data, []byte("Exif")) || bytes.Contains(ph.Data, []byte("iPhone")) || bytes.Contains(ph.Data, []byte("GPS")) {
		t.Error("the stored photo kept the phone's metadata")
	}
	if geo.Orientation(ph.Data) != 1 || !bytes.HasPrefix(ph.Data, []byte{0xff, 0xd8, 0xff}) {
		t.Error("the stored photo is not a plain upright JPEG")
	}
	hist, _, err := s.Observations(ctx, "p", geo.ObservationQuery{})
	if err != nil || len(hist) != 1 || !reflect.DeepEqual(hist[0], rec) {
		t.Errorf("Observations = %+v, %v; want %+v", hist, err, rec)
	}
	// A report without a photo has none.
	_, plain, err := s.AddObservation(crewCtx(), "p", 0, report(30, geo.ObservationPonding))
	if err != nil || plain.Photo != nil {
		t.Fatalf("AddObservation(no photo) = %+v, %v", plain, err)
	}
	_, err = s.Photo(ctx, plain.ID)
	wantKind(t, "Photo(report without one)", err, geo.NotFound)
	_, err = s.Photo(ctx, 999999)
	wantKind(t, "Photo(no such report)", err, geo.NotFound)
	// Bad photos and accuracies are refused, and nothing is written.
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...)
	big := JPEG(geo.MaxPhotoSide+1, 8, 1, "")
	for name, c := range map[string]struct {
		edit  func(o *geo.Observation)
		field string
	}{
		"png":               {func(o *geo.Observation) { o.Photo = &geo.Photo{Data: png} }, "photo"},
		"empty":             {func(o *geo.Observation) { o.Photo = &geo.Photo{} }, "photo"},
		"truncated":         {func(o *geo.Observation) { o.Photo = &geo.Photo{Data: raw[:len(raw)/2]} }, "photo"},
		"too wide":          {func(o *geo.Observation) { o.Photo = &geo.Photo{Data: big} }, "photo"},
		"too large":         {func(o *geo.Observation) { o.Photo = &geo.Photo{Data: append(raw, make([]byte, geo.MaxPhotoBytes)...)} }, "photo"},
		"accuracy 0 < x":    {func(o *geo.Observation) { o.AccuracyM = -1 }, "accuracy_m"},
		"accuracy huge":     {func(o *geo.Observation) { o.AccuracyM = geo.MaxAccuracyM + 1 }, "accuracy_m"},
		"accuracy, no spot": {func(o *geo.Observation) { o.Position, o.AccuracyM = nil, 5 }, "accuracy_m"},
	} {
		o := report(25, geo.ObservationPonding)
		c.edit(&o)
		_, _, err := s.AddObservation(crewCtx(), "p", 0, o)
		wantKind(t, "AddObservation("+name+")", err, geo.Invalid)
		if e := geo.AsError(err); !slices.ContainsFunc(e.Fields, func(f geo.FieldError) bool { return f.Field == c.field }) {
			t.Errorf("AddObservation(%s): fields %+v, want %s", name, e.Fields, c.field)
		}
	}
	if n := countObservations(t, s, "p"); n != 2 {
		t.Errorf("%d reports after refused ones, want 2", n)
	}
}

// Location proposals.

// proposalAt proposes a spot in 荥阳 for feature id of waterlogging_points.
func proposalAt(id string, accuracy float64, method string) geo.LocationProposal {
	return geo.LocationProposal{Collection: geo.WaterloggingPoints, FeatureID: id, Position: orb.Point{113.3912345678, 34.7987654321},
		AccuracyM: accuracy, Method: method, Note: "桥下东侧"}
}

func locationProposals(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.WaterloggingPoints, point("u", nil, nil)) // 待定位
	rough := point("r", orb.Point{113.4, 34.8}, nil)
	rough.Properties["location_precision_m"] = 220.0
	mustCreate(t, s, geo.WaterloggingPoints, rough)
	mustCreate(t, s, geo.WaterloggingPoints, point("fine", orb.Point{113.4, 34.8}, nil)) // 25 m
	version, _ := s.Version(ctx, geo.WaterloggingPoints)
	seqBefore := allAudit(t, s)[2].Seq

	observed := time.Now().Add(-time.Hour).UTC().Truncate(time.Microsecond)
	in := proposalAt("u", 8, geo.LocateAuto)
	in.ObservedAt = observed
	p1, err := s.ProposeLocation(crewCtx(), in)
	if err != nil {
		t.Fatalf("ProposeLocation = %v", err)
	}
	if p1.ID <= 0 || p1.Status != geo.ProposalPending || p1.Actor != crewActor() || !p1.ObservedAt.Equal(observed) ||
		p1.Time.IsZero() || p1.Position != (orb.Point{113.3912346, 34.7987654}) || p1.Note != "桥下东侧" {
		t.Errorf("proposal %+v; want pending, by the crew, position rounded to 7 decimals", p1)
	}
	p2, err := s.ProposeLocation(crewCtx(), proposalAt("u", 45, geo.LocateDragged))
	if err != nil || p2.ID <= p1.ID {
		t.Fatalf("second proposal %+v, %v", p2, err)
	}
	p3, err := s.ProposeLocation(crewCtx(), proposalAt("r", 25, geo.LocateAccepted))
	if err != nil {
		t.Fatalf("proposal for a rough feature: %v", err)
	}
	// A proposal changes no feature and no collection version, but is
	// audited and on the change feed.
	if v, _ := s.Version(ctx, geo.WaterloggingPoints); v != version {
		t.Errorf("proposals changed the collection version %d → %d", version, v)
	}
	cs := allChanges(t, s, seqBefore, 0)
	if len(cs) != 3 || cs[0].Action != geo.ActionPropose || cs[0].FeatureID != "u" || cs[0].Version != 1 {
		t.Errorf("changes after proposals = %+v; want three propose", cs)
	}
	// Refusals.
	_, err = s.ProposeLocation(crewCtx(), proposalAt("fine", 5, geo.LocateAuto))
	wantKind(t, "ProposeLocation(feature located to 25 m)", err, geo.Conflict)
	_, err = s.ProposeLocation(crewCtx(), proposalAt("nope", 5, geo.LocateAuto))
	wantKind(t, "ProposeLocation(no such feature)", err, geo.NotFound)
	for name, c := range map[string]struct {
		edit  func(p *geo.LocationProposal)
		field string
	}{
		"auto at 12 m":     {func(p *geo.LocationProposal) { p.AccuracyM = 12 }, "method"},
		"accepted at 31 m": {func(p *geo.LocationProposal) { p.Method, p.AccuracyM = geo.LocateAccepted, 31 }, "method"},
		"no method":        {func(p *geo.LocationProposal) { p.Method = "" }, "method"},
		"no accuracy":      {func(p *geo.LocationProposal) { p.AccuracyM = 0 }, "accuracy_m"},
		"lat lon swapped":  {func(p *geo.LocationProposal) { p.Position = orb.Point{34.8, 113.4} }, "position"},
		"future":           {func(p *geo.LocationProposal) { p.ObservedAt = time.Now().Add(time.Hour) }, "observed_at"},
		"NUL note":         {func(p *geo.LocationProposal) { p.Note = "a\x00" }, "note"},
		"no collection":    {func(p *geo.LocationProposal) { p.Collection = "roads" }, "collection"},
	} {
		p := proposalAt("u", 8, geo.LocateAuto)
		c.edit(&p)
		_, err := s.ProposeLocation(crewCtx(), p)
		wantKind(t, "ProposeLocation("+name+")", err, geo.Invalid)
		if e := geo.AsError(err); !slices.ContainsFunc(e.Fields, func(f geo.FieldError) bool { return f.Field == c.field }) {
			t.Errorf("ProposeLocation(%s): fields %+v, want %s", name, e.Fields, c.field)
		}
	}
	// Reading and listing, oldest first.
	got, err := s.LocationProposal(ctx, p1.ID)
	if err != nil || !reflect.DeepEqual(got, p1) {
		t.Errorf("LocationProposal(%d) = %+v, %v\nwant %+v", p1.ID, got, err, p1)
	}
	_, err = s.LocationProposal(ctx, 999999)
	wantKind(t, "LocationProposal(unknown)", err, geo.NotFound)
	list := func(q geo.ProposalQuery) ([]int64, int) {
		t.Helper()
		ps, n, err := s.LocationProposals(ctx, q)
		if err != nil || ps == nil {
			t.Fatalf("LocationProposals(%+v) = %v, %v", q, ps, err)
		}
		return seqs(ps, func(p geo.LocationProposal) int64 { return p.ID }), n
	}
	for _, c := range []struct {
		q     geo.ProposalQuery
		want  []int64
		total int
	}{
		{geo.ProposalQuery{}, []int64{p1.ID, p2.ID, p3.ID}, 3},
		{geo.ProposalQuery{Collection: geo.WaterloggingPoints, FeatureID: "u"}, []int64{p1.ID, p2.ID}, 2},
		{geo.ProposalQuery{Status: geo.ProposalPending, Limit: 1, Offset: 1}, []int64{p2.ID}, 3},
		{geo.ProposalQuery{Collection: geo.Depots}, []int64{}, 0},
	} {
		if got, n := list(c.q); !slices.Equal(got, c.want) || n != c.total {
			t.Errorf("LocationProposals(%+v) = %v (%d), want %v (%d)", c.q, got, n, c.want, c.total)
		}
	}
	for _, q := range []geo.ProposalQuery{{Status: "open"}, {FeatureID: "u"}, {Limit: -1}, {Collection: "roads"}} {
		_, _, err := s.LocationProposals(ctx, q)
		wantKind(t, fmt.Sprintf("LocationProposals(%+v)", q), err, geo.Invalid)
	}

	// Accept p1: the feature gets the position, the measured accuracy and
	// a source naming who stood there and when; p2 is superseded.
	f, accepted, err := s.AcceptLocation(plannerCtx(), p1.ID, 1)
	if err != nil {
		t.Fatalf("AcceptLocation = %v", err)
	}
	if accepted.Status != geo.ProposalAccepted || accepted.Decider != plannerActor || accepted.Decided.IsZero() {
		t.Errorf("accepted proposal %+v", accepted)
	}
	src, _ := f.Properties["location_source"].(string)
	if f.Version != 2 || f.Geometry != (orb.Point{113.3912346, 34.7987654}) || f.Properties["location_precision_m"] != 8.0 ||
		!strings.Contains(src, "城建局一队") || !strings.Contains(src, observed.Format(time.RFC3339)) || !strings.Contains(src, "规划科") {
		t.Errorf("accepted feature v%d at %v, precision %v, source %q", f.Version, f.Geometry, f.Properties["location_precision_m"], src)
	}
	sameVersion(t, "Feature after accept", mustGet(t, s, geo.WaterloggingPoints, "u"), f)
	if v, _ := s.Version(ctx, geo.WaterloggingPoints); v != version+1 {
		t.Errorf("accept: collection version %d, want %d", v, version+1)
	}
	if got, _ := s.LocationProposal(ctx, p2.ID); got.Status != geo.ProposalSuperseded || !strings.Contains(got.Reason, fmt.Sprint(p1.ID)) {
		t.Errorf("the other proposal after accept: %+v; want superseded", got)
	}
	if got, _ := s.LocationProposal(ctx, p3.ID); got.Status != geo.ProposalPending {
		t.Errorf("another feature's proposal after accept: %s, want pending", got.Status)
	}
	_, _, err = s.AcceptLocation(plannerCtx(), p1.ID, 2)
	wantKind(t, "AcceptLocation(accepted)", err, geo.Conflict)
	_, err = s.RejectLocation(plannerCtx(), p2.ID, "重复")
	wantKind(t, "RejectLocation(superseded)", err, geo.Conflict)
	_, _, err = s.AcceptLocation(plannerCtx(), 999999, 1)
	wantKind(t, "AcceptLocation(unknown)", err, geo.NotFound)
	// The feature located to 8 m needs no more proposals.
	_, err = s.ProposeLocation(crewCtx(), proposalAt("u", 5, geo.LocateAuto))
	wantKind(t, "ProposeLocation(after accept)", err, geo.Conflict)

	// Reject p3 with a reason.
	_, err = s.RejectLocation(plannerCtx(), p3.ID, "  ")
	wantKind(t, "RejectLocation(blank reason)", err, geo.Invalid)
	rejected, err := s.RejectLocation(plannerCtx(), p3.ID, "不是这个路口，在南边200米")
	if err != nil || rejected.Status != geo.ProposalRejected || rejected.Reason != "不是这个路口，在南边200米" || rejected.Decider != plannerActor {
		t.Errorf("RejectLocation = %+v, %v", rejected, err)
	}
	if r := mustGet(t, s, geo.WaterloggingPoints, "r"); r.Version != 1 {
		t.Errorf("a rejection changed the feature to version %d", r.Version)
	}
	_, err = s.RejectLocation(plannerCtx(), 999999, "x")
	wantKind(t, "RejectLocation(unknown)", err, geo.NotFound)

	// Every step is audited on its feature.
	es := allAudit(t, s)[3:]
	if len(es) != 5 {
		t.Fatalf("%d audit entries for the proposals, want 5 (3 propose, accept, reject)", len(es))
	}
	wantEntry(t, es[0], geo.WaterloggingPoints, "u", geo.ActionPropose, 1, crewActor())
	wantEntry(t, es[2], geo.WaterloggingPoints, "r", geo.ActionPropose, 1, crewActor())
	wantEntry(t, es[3], geo.WaterloggingPoints, "u", geo.ActionAccept, 2, plannerActor)
	sameVersion(t, "accept after", es[3].After, f)
	if es[3].Before == nil || es[3].Before.Geometry != nil {
		t.Errorf("accept before = %+v, want the unlocated feature", es[3].Before)
	}
	wantEntry(t, es[4], geo.WaterloggingPoints, "r", geo.ActionReject, 1, plannerActor)
}

func crewActor() geo.Actor { return geo.ActorFrom(crewCtx()) }

// proposalAcceptChecked: accepting needs the feature's current version,
// and a refused accept changes nothing.
func proposalAcceptChecked(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.WaterloggingPoints, point("u", nil, nil))
	p, err := s.ProposeLocation(crewCtx(), proposalAt("u", 25, geo.LocateAccepted))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Patch(plannerCtx(), geo.WaterloggingPoints, "u", 1, geo.Patch{Properties: map[string]any{"status": "ponding"}}); err != nil {
		t.Fatal(err)
	}
	before := len(allAudit(t, s))
	_, _, err = s.AcceptLocation(plannerCtx(), p.ID, 1)
	wantKind(t, "AcceptLocation(stale version)", err, geo.Conflict)
	if got, _ := s.LocationProposal(ctx, p.ID); got.Status != geo.ProposalPending {
		t.Errorf("a refused accept decided the proposal: %s", got.Status)
	}
	if f := mustGet(t, s, geo.WaterloggingPoints, "u"); f.Geometry != nil || f.Version != 2 {
		t.Errorf("a refused accept changed the feature: v%d %v", f.Version, f.Geometry)
	}
	if n := len(allAudit(t, s)); n != before {
		t.Errorf("a refused accept added %d audit entries", n-before)
	}
	// Deleted since: NotFound; a rejection still works.
	if err := s.Delete(plannerCtx(), geo.WaterloggingPoints, "u", 2); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.AcceptLocation(plannerCtx(), p.ID, 2)
	wantKind(t, "AcceptLocation(feature deleted)", err, geo.NotFound)
	if r, err := s.RejectLocation(plannerCtx(), p.ID, "点已删除"); err != nil || r.Status != geo.ProposalRejected {
		t.Errorf("RejectLocation(feature deleted) = %+v, %v", r, err)
	}
	es := allAudit(t, s)
	if last := es[len(es)-1]; last.Action != geo.ActionReject || last.Before != nil || last.Version != 0 {
		t.Errorf("reject of a deleted feature's proposal: entry %+v", last.Change())
	}
}

// fieldPersists checks that keys, codes, photos and proposals survive a
// restart.
func fieldPersists(t *testing.T, s geo.Store, reopen Reopener) {
	mustCreate(t, s, geo.WaterloggingPoints, point("p", orb.Point{113.4, 34.8}, nil))
	mustCreate(t, s, geo.WaterloggingPoints, point("u", nil, nil))
	now := time.Now()
	o := report(25, geo.ObservationPonding)
	o.Photo = &geo.Photo{Data: JPEG(32, 24, 1, "x")}
	var rec geo.Observation
	_, first, err := idempotent(t, s, crewCtx(), "k", fingerprint("a"), now, func(ctx context.Context) (err error) {
		_, rec, err = s.AddObservation(ctx, "p", 0, o)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	inflight := claim(t, s, "held", fingerprint("a"), now)
	p, err := s.ProposeLocation(crewCtx(), proposalAt("u", 8, geo.LocateAuto))
	if err != nil {
		t.Fatal(err)
	}
	_, code := issue(t, s, "一队", geo.RoleCrew, 0, 0, now)
	photo, err := s.Photo(ctx, rec.ID)
	if err != nil {
		t.Fatal(err)
	}

	s = reopen(t, s)
	c := claim(t, s, "k", fingerprint("a"), now)
	if c.Outcome != geo.IdempotencyReplay || !reflect.DeepEqual(c.Response, first) {
		t.Errorf("replay after reopen: %v %+v, want %+v", c.Outcome, c.Response, first)
	}
	wantOutcome(t, "claim in flight after reopen", claim(t, s, "held", fingerprint("a"), now).Outcome, geo.IdempotencyInFlight)
	if err := s.ReleaseIdempotencyKey(ctx, inflight); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Photo(ctx, rec.ID); err != nil || !reflect.DeepEqual(got, photo) {
		t.Errorf("Photo after reopen = %v, %v", got, err)
	}
	if got, err := s.LocationProposal(ctx, p.ID); err != nil || !reflect.DeepEqual(got, p) {
		t.Errorf("proposal after reopen = %+v, %v\nwant %+v", got, err, p)
	}
	p2, err := s.ProposeLocation(crewCtx(), proposalAt("u", 8, geo.LocateAuto))
	if err != nil || p2.ID <= p.ID {
		t.Errorf("proposal after reopen: id %d, %v; want one after %d", p2.ID, err, p.ID)
	}
	if _, _, err := geo.RedeemSignIn(ctx, s, code, time.Now()); err != nil {
		t.Errorf("RedeemSignIn after reopen = %v", err)
	}
}
