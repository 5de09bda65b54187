package geo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Idempotency keys let a client retry a write without doing it twice, after
// the IETF httpapi draft "The Idempotency-Key HTTP Header Field": a phone
// that lost the answer to a report (the network went in a storm) sends the
// same request with the same key again and gets the first answer back; the
// server writes once.
//
// The flow, as the API runs it for one request:
//
//  1. ClaimIdempotencyKey(key, fingerprint, now). Replay: send the stored
//     response. Mismatch: 422. InFlight: 409. Claimed: go on.
//  2. Run the write with WithIdempotency(ctx, claim, respond). The store
//     calls respond inside the write's transaction and stores its answer
//     as the key's response in that same transaction: the write and the
//     record of its answer commit together or not at all, so a response
//     lost after the commit is replayed, and a write that failed left no
//     record.
//  3. ReleaseIdempotencyKey(claim) whatever happened: it frees a claim whose
//     write did not happen (a refused write, a write that changed nothing),
//     so that a retry can run at once, and does nothing to a completed one.
//
// A process that dies between 1 and 3 leaves a claim that lapses after
// IdempotencyLease.

// IdempotencyTTL is how long a key is remembered after its write: the
// draft leaves it to the server; it is MaxObservationAge, so every report
// that a phone may still send (queued for up to a week in an outage, 三断)
// is still recognized when it is sent again. A client must not reuse a key
// after that.
const IdempotencyTTL = MaxObservationAge

// IdempotencyLease is how long a claim holds its key for a request in
// flight; a retry meanwhile gets InFlight (409). It is longer than any
// write may take (the server's write timeout is 120 s), and short enough
// that a key held by a process that died is free again soon.
const IdempotencyLease = 3 * time.Minute

// Limits of a stored response.
const (
	// MaxIdempotencyKey is the longest key, in bytes.
	MaxIdempotencyKey = 255
	// MaxStoredBody caps the body of a stored response: a write's answer
	// is one feature (at most 1 MiB as sent) and its metadata.
	MaxStoredBody = 2 << 20
	// MaxStoredHeaders caps the header fields of a stored response.
	MaxStoredHeaders = 16
)

// IdempotencyOutcome is the result of claiming a key.
type IdempotencyOutcome int

// The outcomes of ClaimIdempotencyKey.
const (
	// IdempotencyClaimed: the key was free (unknown, or its record
	// expired); the caller holds it and makes the write.
	IdempotencyClaimed IdempotencyOutcome = iota + 1
	// IdempotencyReplay: a write with this key and fingerprint happened;
	// Response is its answer. Nothing is written.
	IdempotencyReplay
	// IdempotencyInFlight: another request with this key holds it now
	// (the draft's 409 Conflict). Nothing is written; retry later.
	IdempotencyInFlight
	// IdempotencyMismatch: the key was used with another request (another
	// method, target, body or actor): the draft's 422 Unprocessable
	// Content. Nothing is written.
	IdempotencyMismatch
)

var outcomeNames = [...]string{"", "claimed", "replay", "in flight", "mismatch"}

// String names the outcome.
func (o IdempotencyOutcome) String() string {
	if o < 0 || int(o) >= len(outcomeNames) {
		return "outcome(?)"
	}
	return outcomeNames[o]
}

// IdempotencyClaim is the answer of ClaimIdempotencyKey.
type IdempotencyClaim struct {
	Outcome     IdempotencyOutcome
	Key         string
	Fingerprint []byte
	// Nonce identifies a claim (Outcome IdempotencyClaimed): the write
	// that completes it and the release must present it, so that a claim
	// that lapsed and was taken by a retry cannot be completed by the
	// request that lost it.
	Nonce []byte
	// Claimed is when the claim was made (the now of the call): the
	// record of its response expires IdempotencyTTL after it.
	Claimed time.Time
	// Response is the stored answer (Outcome IdempotencyReplay).
	Response *StoredResponse
}

// StoredResponse is the answer to a write, kept with its idempotency key:
// what the API sends again on a replay.
type StoredResponse struct {
	// Status is the HTTP status code (a success: 200 to 299).
	Status int
	// Header holds the header fields that matter to the client
	// (Content-Type, Location, ETag…), by canonical name.
	Header map[string][]string
	// Body is the response body as sent.
	Body []byte
}

// Validate checks r before it is stored: a 2xx status, at most
// MaxStoredHeaders fields with token names and values without control
// characters, and a body of at most MaxStoredBody bytes. Errors are
// Invalid.
func (r StoredResponse) Validate() error {
	switch {
	case r.Status < 200 || r.Status > 299:
		return InvalidField("status", "only a success (2xx) is stored with an idempotency key, not %d", r.Status)
	case len(r.Header) > MaxStoredHeaders:
		return InvalidField("header", "at most %d fields", MaxStoredHeaders)
	case len(r.Body) > MaxStoredBody:
		return InvalidField("body", "at most %d bytes", MaxStoredBody)
	}
	for name, values := range r.Header {
		if name == "" || len(name) > 64 || strings.IndexFunc(name, func(c rune) bool { return !isTokenChar(c) }) >= 0 {
			return InvalidField("header", "%q is not a field name", name)
		}
		for _, v := range values {
			if len(v) > 4096 || !utf8.ValidString(v) || strings.IndexFunc(v, func(c rune) bool { return c < 0x20 && c != '\t' || c == 0x7f }) >= 0 {
				return InvalidField("header", "the value of %s is not a field value", name)
			}
		}
	}
	return nil
}

// isTokenChar reports whether c may appear in an HTTP token (RFC 9110 §5.6.2).
func isTokenChar(c rune) bool {
	return c < 0x7f && c > 0x20 && !strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c)
}

// Clone returns a deep copy of r.
func (r *StoredResponse) Clone() *StoredResponse {
	if r == nil {
		return nil
	}
	c := &StoredResponse{Status: r.Status, Body: append([]byte{}, r.Body...), Header: make(map[string][]string, len(r.Header))}
	for k, v := range r.Header {
		c.Header[k] = append([]string(nil), v...)
	}
	return c
}

// ValidateIdempotencyKey checks a key as the store keeps it: 1 to
// MaxIdempotencyKey characters of printable ASCII (what an sf-string may
// hold). Errors are Invalid and name the field "Idempotency-Key".
func ValidateIdempotencyKey(key string) error {
	if key == "" || len(key) > MaxIdempotencyKey {
		return InvalidField("Idempotency-Key", "must be 1 to %d characters (a UUID is best)", MaxIdempotencyKey)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return InvalidField("Idempotency-Key", "must be printable ASCII")
		}
	}
	return nil
}

// ParseIdempotencyKey reads the value of an Idempotency-Key header field:
// a Structured Field String (RFC 8941 §3.3.3), a quoted string such as
// "8e03978e-40d5-43e8-bc93-6894a57f9324", with optional spaces around it.
// It returns the key without quotes and escapes. An unquoted value,
// parameters after the string, or a key that ValidateIdempotencyKey
// refuses are Invalid, naming the field "Idempotency-Key".
func ParseIdempotencyKey(field string) (string, error) {
	s := strings.Trim(field, " \t")
	bad := func(detail string) (string, error) { return "", InvalidField("Idempotency-Key", "%s", detail) }
	if len(s) < 2 || s[0] != '"' {
		return bad(`must be a quoted string (RFC 8941), e.g. "8e03978e-40d5-43e8-bc93-6894a57f9324"`)
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			i++
			if i == len(s) || (s[i] != '"' && s[i] != '\\') {
				return bad(`a backslash may only escape " or \`)
			}
			b.WriteByte(s[i])
		case c == '"':
			if i != len(s)-1 {
				return bad("nothing may follow the closing quote")
			}
			key := b.String()
			if err := ValidateIdempotencyKey(key); err != nil {
				return "", err
			}
			return key, nil
		case c < 0x20 || c > 0x7e:
			return bad("must be printable ASCII")
		default:
			b.WriteByte(c)
		}
	}
	return bad("the closing quote is missing")
}

// IdempotencyFingerprint returns the SHA-256 that stands for a request:
// its method, its target (path and query), its body and the id of the
// actor sending it, each length-prefixed so that no two requests share a
// fingerprint by moving bytes between fields. The same key with another
// fingerprint is IdempotencyMismatch — including the same request from
// another token, so that no one can read another's answer by its key.
func IdempotencyFingerprint(method, target string, body []byte, actorID string) []byte {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(method), []byte(target), body, []byte(actorID)} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	return h.Sum(nil)
}

// NewIdempotencyNonce returns a random claim nonce (16 bytes). Stores call
// it when they grant a claim.
func NewIdempotencyNonce() []byte {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b
}

// CheckClaim validates the arguments of ClaimIdempotencyKey: the key
// (ValidateIdempotencyKey), a 32-byte fingerprint and a time. Both stores
// call it first.
func CheckClaim(key string, fingerprint []byte, now time.Time) error {
	if err := ValidateIdempotencyKey(key); err != nil {
		return err
	}
	if len(fingerprint) != sha256.Size {
		return InvalidField("fingerprint", "must be a SHA-256 (32 bytes)")
	}
	if now.IsZero() {
		return InvalidField("now", "required")
	}
	return nil
}

// IdempotencyRecord is a key as stored: the store-side state behind
// ClaimIdempotencyKey. Both stores decide with Decide, so that they agree.
type IdempotencyRecord struct {
	Key         string
	Fingerprint []byte
	Nonce       []byte
	// Claimed is when the current claim was made.
	Claimed time.Time
	// Expires is the end of the lease while in flight, and Claimed +
	// IdempotencyTTL once done.
	Expires time.Time
	// Response is nil while the write is in flight.
	Response *StoredResponse
}

// Decide returns what claiming key with fingerprint at now makes of the
// stored record r (nil when there is none): a new claim to store (Outcome
// IdempotencyClaimed, and the record to write), or the outcome that
// refuses or replays. An expired record counts as none.
func Decide(r *IdempotencyRecord, key string, fingerprint []byte, now time.Time) (IdempotencyClaim, *IdempotencyRecord) {
	c := IdempotencyClaim{Key: key, Fingerprint: append([]byte(nil), fingerprint...), Claimed: now}
	switch {
	case r == nil || !now.Before(r.Expires):
		c.Outcome, c.Nonce = IdempotencyClaimed, NewIdempotencyNonce()
		return c, &IdempotencyRecord{Key: key, Fingerprint: c.Fingerprint, Nonce: c.Nonce,
			Claimed: now, Expires: now.Add(IdempotencyLease)}
	case string(r.Fingerprint) != string(fingerprint):
		c.Outcome = IdempotencyMismatch
	case r.Response == nil:
		c.Outcome = IdempotencyInFlight
	default:
		c.Outcome, c.Claimed, c.Response = IdempotencyReplay, r.Claimed, r.Response.Clone()
	}
	return c, nil
}

// Completed returns the record of claim c once its write has committed
// with response resp: expiring IdempotencyTTL after the claim.
func (c IdempotencyClaim) Completed(resp StoredResponse) *IdempotencyRecord {
	return &IdempotencyRecord{Key: c.Key, Fingerprint: c.Fingerprint, Nonce: c.Nonce, Claimed: c.Claimed,
		Expires: c.Claimed.Add(IdempotencyTTL), Response: &resp}
}

// IdempotencyStore keeps idempotency keys: every Store is one.
type IdempotencyStore interface {
	// ClaimIdempotencyKey looks key up at now and decides as Decide does:
	// it claims a key that is unknown or expired (storing the claim,
	// committed, before it returns) and otherwise answers Replay (with the
	// stored response), InFlight or Mismatch, writing nothing. Of several
	// concurrent claims of one key exactly one is Claimed. A bad key or
	// fingerprint is Invalid (CheckClaim).
	ClaimIdempotencyKey(ctx context.Context, key string, fingerprint []byte, now time.Time) (IdempotencyClaim, error)
	// ReleaseIdempotencyKey forgets claim c if it is still in flight with
	// c's nonce, so that the key may be claimed again at once; a completed
	// claim, or one that lapsed and was claimed again, is left alone.
	ReleaseIdempotencyKey(ctx context.Context, c IdempotencyClaim) error
	// PruneIdempotencyKeys deletes at most limit records that expired
	// before now (lapsed claims and answers older than IdempotencyTTL) and
	// returns how many it deleted, so that a caller can prune in bounded
	// steps. A limit below 1 is Invalid.
	PruneIdempotencyKeys(ctx context.Context, now time.Time, limit int) (int, error)
}

// WriteResult is what one write wrote, as the store hands it to the
// Respond function of an idempotent write.
type WriteResult struct {
	// Entries are the write's audit entries (Seq, Time, Actor set); their
	// After holds each feature as written, private properties included:
	// the API redacts for the client's role.
	Entries []AuditEntry
	// Observation is the stored report, for AddObservation (Photo without
	// its data).
	Observation *Observation
	// Proposal is the proposal written, for ProposeLocation,
	// AcceptLocation and RejectLocation.
	Proposal *LocationProposal
	// Reading is the stored reading, for AddReading.
	Reading *Reading
	// Alert is the alert as written, for OpenAlert and ChangeAlert.
	Alert *Alert
}

// Idempotent is a write that answers an idempotency key: the claim and the
// function that builds the answer from what the write wrote.
type Idempotent struct {
	Claim IdempotencyClaim
	// Respond is called by the store inside the write's transaction, after
	// the write; an error from it rolls the write back.
	Respond func(WriteResult) (StoredResponse, error)
}

// idempotentKey is the context key of an Idempotent.
type idempotentKey struct{}

// WithIdempotency returns a copy of ctx whose write completes claim c: in
// the write's transaction the store calls respond with what it wrote and
// records the answer under c's key, checking that c still holds the key
// (else the write is a Conflict and does not happen). Every write of a
// Store honours it — all that append audit entries; one that writes
// nothing leaves the claim in flight for ReleaseIdempotencyKey. Use it
// for one write: a second write with the same context finds the claim
// completed and is a Conflict.
func WithIdempotency(ctx context.Context, c IdempotencyClaim, respond func(WriteResult) (StoredResponse, error)) context.Context {
	return context.WithValue(ctx, idempotentKey{}, &Idempotent{Claim: c, Respond: respond})
}

// IdempotentFrom returns the idempotent write that ctx carries, or nil.
func IdempotentFrom(ctx context.Context) *Idempotent {
	i, _ := ctx.Value(idempotentKey{}).(*Idempotent)
	return i
}

// Answer runs i.Respond on res and validates the answer. Stores call it in
// the write's transaction.
func (i *Idempotent) Answer(res WriteResult) (StoredResponse, error) {
	if i.Claim.Outcome != IdempotencyClaimed || len(i.Claim.Nonce) == 0 {
		return StoredResponse{}, Errorf(Conflict, "the idempotency key %q was not claimed for this write", i.Claim.Key)
	}
	resp, err := i.Respond(res)
	if err != nil {
		return StoredResponse{}, err
	}
	if err := resp.Validate(); err != nil {
		return StoredResponse{}, err
	}
	return resp, nil
}

// ErrClaimLost is the error of a write whose idempotency claim no longer
// holds its key (it lapsed and another request claimed the key, or it was
// completed already).
func ErrClaimLost(key string) error {
	return &Error{Kind: Conflict, Err: errClaimLost{},
		Message: fmt.Sprintf("the Idempotency-Key %q is no longer held by this request (it lapsed after %v, or its write already happened); retry to get the answer", key, IdempotencyLease)}
}

// errClaimLost marks the error of ErrClaimLost (IsClaimLost).
type errClaimLost struct{}

func (errClaimLost) Error() string { return "idempotency claim lost" }

// IsClaimLost reports whether err is (or wraps) an ErrClaimLost: a
// Conflict of the key, not of the data, so that the API does not mistake
// it for a stale If-Match.
func IsClaimLost(err error) bool { return errors.As(err, new(errClaimLost)) }

// Idempotently runs write under key the way the flow above says, for the
// request whose fingerprint is fp, at now: it claims the key; when it
// holds it, it runs write with WithIdempotency(ctx, claim, respond) and
// then releases the claim (with a context that outlives ctx, so that a
// client going away does not leave the key held for the whole lease).
//
// It returns the outcome and the answer: the stored one on
// IdempotencyReplay, the one respond made for this write on
// IdempotencyClaimed (nil if the write wrote nothing), none on
// IdempotencyInFlight and IdempotencyMismatch; and write's error. The
// HTTP layer maps the outcomes to the draft's answers: replay the stored
// response, 409, 422.
func Idempotently(ctx context.Context, store IdempotencyStore, key string, fp []byte, now time.Time,
	respond func(WriteResult) (StoredResponse, error), write func(ctx context.Context) error) (IdempotencyOutcome, *StoredResponse, error) {
	c, err := store.ClaimIdempotencyKey(ctx, key, fp, now)
	if err != nil {
		return 0, nil, err
	}
	if c.Outcome != IdempotencyClaimed {
		return c.Outcome, c.Response, nil
	}
	var made *StoredResponse
	err = write(WithIdempotency(ctx, c, func(res WriteResult) (StoredResponse, error) {
		r, err := respond(res)
		if err == nil {
			made = &r
		}
		return r, err
	}))
	if err != nil {
		made = nil // the write rolled back, and its answer with it
	}
	if rerr := store.ReleaseIdempotencyKey(context.WithoutCancel(ctx), c); rerr != nil && err == nil {
		err = rerr
	}
	return c.Outcome, made, err
}
