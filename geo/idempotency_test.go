package geo

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestParseIdempotencyKey(t *testing.T) {
	good := []struct{ in, want string }{
		{`"8e03978e-40d5-43e8-bc93-6894a57f9324"`, "8e03978e-40d5-43e8-bc93-6894a57f9324"},
		{`  "a"  `, "a"},
		{"\t\"a b\"", "a b"},
		{`"say \"hi\" \\ there"`, `say "hi" \ there`},
		{`"` + strings.Repeat("k", MaxIdempotencyKey) + `"`, strings.Repeat("k", MaxIdempotencyKey)},
	}
	for _, c := range good {
		got, err := ParseIdempotencyKey(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseIdempotencyKey(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	bad := []string{
		"", `""`, "8e03978e-40d5-43e8-bc93-6894a57f9324", `"a`, `a"`, `"a";p=1`, `"a" "b"`, `"a\b"`,
		`"é"`, "\"a\x00\"", "\"a\nb\"", `"` + strings.Repeat("k", MaxIdempotencyKey+1) + `"`, `"\"`,
	}
	for _, in := range bad {
		_, err := ParseIdempotencyKey(in)
		if KindOf(err) != Invalid || AsError(err).Fields[0].Field != "Idempotency-Key" {
			t.Errorf("ParseIdempotencyKey(%q) = %v, want Invalid naming Idempotency-Key", in, err)
		}
	}
}

func FuzzParseIdempotencyKey(f *testing.F) {
	for _, s := range []string{`"8e03978e-40d5-43e8-bc93-6894a57f9324"`, `"a\"b"`, `"a"`, "x", `"\`, ` "a" `, `"a";q`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, field string) {
		key, err := ParseIdempotencyKey(field)
		if err != nil {
			if KindOf(err) != Invalid {
				t.Fatalf("ParseIdempotencyKey(%q) = %v, want Invalid", field, err)
			}
			return
		}
		if ValidateIdempotencyKey(key) != nil {
			t.Fatalf("ParseIdempotencyKey(%q) = %q, which ValidateIdempotencyKey refuses", field, key)
		}
		// Quoting the key again reads back the same key.
		quoted := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(key) + `"`
		if again, err := ParseIdempotencyKey(quoted); err != nil || again != key {
			t.Fatalf("round trip of %q via %q = %q, %v", key, quoted, again, err)
		}
	})
}

func TestIdempotencyFingerprint(t *testing.T) {
	base := IdempotencyFingerprint("POST", "/a", []byte("body"), "t1")
	if len(base) != 32 {
		t.Fatalf("fingerprint of %d bytes", len(base))
	}
	for name, other := range map[string][]byte{
		"method": IdempotencyFingerprint("PUT", "/a", []byte("body"), "t1"),
		"target": IdempotencyFingerprint("POST", "/b", []byte("body"), "t1"),
		"body":   IdempotencyFingerprint("POST", "/a", []byte("bodY"), "t1"),
		"actor":  IdempotencyFingerprint("POST", "/a", []byte("body"), "t2"),
		// Bytes moved from one field to the next are another request.
		"shifted": IdempotencyFingerprint("POST", "/ab", []byte("ody"), "t1"),
	} {
		if bytes.Equal(other, base) {
			t.Errorf("another %s gives the same fingerprint", name)
		}
	}
	if !bytes.Equal(base, IdempotencyFingerprint("POST", "/a", []byte("body"), "t1")) {
		t.Error("the fingerprint is not deterministic")
	}
}

func TestDecide(t *testing.T) {
	now := time.Date(2024, 7, 20, 8, 0, 0, 0, time.UTC)
	fp, other := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	resp := &StoredResponse{Status: 201, Header: map[string][]string{"Location": {"/x"}}, Body: []byte("{}")}
	inFlight := &IdempotencyRecord{Key: "k", Fingerprint: fp, Nonce: []byte("n"), Claimed: now, Expires: now.Add(IdempotencyLease)}
	done := &IdempotencyRecord{Key: "k", Fingerprint: fp, Nonce: []byte("n"), Claimed: now, Expires: now.Add(IdempotencyTTL), Response: resp}
	cases := []struct {
		name string
		r    *IdempotencyRecord
		fp   []byte
		at   time.Time
		want IdempotencyOutcome
	}{
		{"unknown", nil, fp, now, IdempotencyClaimed},
		{"in flight", inFlight, fp, now.Add(time.Second), IdempotencyInFlight},
		{"in flight, other request", inFlight, other, now, IdempotencyMismatch},
		{"lease over", inFlight, fp, now.Add(IdempotencyLease), IdempotencyClaimed},
		{"done", done, fp, now.Add(time.Hour), IdempotencyReplay},
		{"done, other request", done, other, now.Add(time.Hour), IdempotencyMismatch},
		{"expired", done, other, now.Add(IdempotencyTTL), IdempotencyClaimed},
	}
	for _, c := range cases {
		got, rec := Decide(c.r, "k", c.fp, c.at)
		if got.Outcome != c.want {
			t.Errorf("%s: %v, want %v", c.name, got.Outcome, c.want)
			continue
		}
		switch c.want {
		case IdempotencyClaimed:
			if rec == nil || len(got.Nonce) != 16 || !bytes.Equal(rec.Nonce, got.Nonce) || !rec.Expires.Equal(c.at.Add(IdempotencyLease)) || rec.Response != nil {
				t.Errorf("%s: claim %+v record %+v", c.name, got, rec)
			}
			done := got.Completed(*resp)
			if !done.Expires.Equal(c.at.Add(IdempotencyTTL)) || !bytes.Equal(done.Nonce, got.Nonce) {
				t.Errorf("%s: completed %+v", c.name, done)
			}
		case IdempotencyReplay:
			if rec != nil || got.Response == resp || string(got.Response.Body) != "{}" {
				t.Errorf("%s: replay %+v (want a copy of the stored answer), record %+v", c.name, got.Response, rec)
			}
		default:
			if rec != nil || got.Response != nil {
				t.Errorf("%s: refusal with record %+v, response %+v", c.name, rec, got.Response)
			}
		}
	}
}

func TestStoredResponseValidate(t *testing.T) {
	ok := StoredResponse{Status: 201, Header: map[string][]string{"Content-Type": {"application/json"}, "Etag": {`"v2"`}}, Body: []byte("{}")}
	if err := ok.Validate(); err != nil {
		t.Errorf("Validate(%+v) = %v", ok, err)
	}
	for name, r := range map[string]StoredResponse{
		"status 412":   {Status: 412},
		"status 0":     {},
		"header name":  {Status: 200, Header: map[string][]string{"Content Type": {"x"}}},
		"header value": {Status: 200, Header: map[string][]string{"Location": {"/a\r\nSet-Cookie: x"}}},
		"body":         {Status: 200, Body: make([]byte, MaxStoredBody+1)},
	} {
		if err := r.Validate(); KindOf(err) != Invalid {
			t.Errorf("Validate(%s) = %v, want Invalid", name, err)
		}
	}
}
