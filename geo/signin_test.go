package geo

import (
	"strings"
	"testing"
	"time"
)

func TestNewSignInCode(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		code, hash := NewSignInCode()
		if len(code) != 19 || strings.Count(code, "-") != 3 {
			t.Fatalf("code %q: want 4 groups of 4", code)
		}
		canonical, err := ParseSignInCode(code)
		if err != nil || canonical != strings.ReplaceAll(code, "-", "") {
			t.Fatalf("ParseSignInCode(%q) = %q, %v", code, canonical, err)
		}
		if string(HashSignInCode(canonical)) != string(hash) || len(hash) != 32 {
			t.Fatalf("hash of %q is not HashSignInCode of its canonical form", code)
		}
		if seen[code] {
			t.Fatalf("code %q twice", code)
		}
		seen[code] = true
	}
}

func TestParseSignInCode(t *testing.T) {
	good := map[string]string{
		"7KQ2-M9XD-4TRA-0ZPB":  "7KQ2M9XD4TRA0ZPB",
		"7kq2 m9xd 4tra 0zpb":  "7KQ2M9XD4TRA0ZPB",
		"7KQ2M9XD4TRAOZPB":     "7KQ2M9XD4TRA0ZPB", // O reads as 0
		"iKQ2-M9XD-4TRA-lZPB":  "1KQ2M9XD4TRA1ZPB", // I and L read as 1
		" 7KQ2-M9XD-4TRA-0ZPB": "7KQ2M9XD4TRA0ZPB",
	}
	for in, want := range good {
		got, err := ParseSignInCode(in)
		if err != nil || got != want {
			t.Errorf("ParseSignInCode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "7KQ2-M9XD-4TRA", "7KQ2-M9XD-4TRA-0ZPB-0", "7KQ2-M9XD-4TRA-0ZPU", "7KQ2-M9XD-4TRA-0ZP!", "７KQ2-M9XD-4TRA-0ZPB", strings.Repeat("-", 65)} {
		if _, err := ParseSignInCode(in); KindOf(err) != Invalid {
			t.Errorf("ParseSignInCode(%q) = %v, want Invalid", in, err)
		}
	}
}

func FuzzParseSignInCode(f *testing.F) {
	for _, s := range []string{"7KQ2-M9XD-4TRA-0ZPB", "7kq2m9xd4traozpb", "", "----", "ÖKQ2-M9XD-4TRA-0ZPB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseSignInCode(s)
		if err != nil {
			if KindOf(err) != Invalid {
				t.Fatalf("ParseSignInCode(%q) = %v, want Invalid", s, err)
			}
			return
		}
		if len(c) != SignInCodeLength || strings.Trim(c, signInAlphabet) != "" {
			t.Fatalf("ParseSignInCode(%q) = %q: not canonical", s, c)
		}
		if again, err := ParseSignInCode(c); err != nil || again != c {
			t.Fatalf("canonical %q reads as %q, %v", c, again, err)
		}
	})
}

func TestSignInLink(t *testing.T) {
	for base, want := range map[string]string{
		"https://hazardmap.example.org":          "https://hazardmap.example.org/#signin=AAAA-BBBB-CCCC-DDDD",
		"https://hazardmap.example.org/":         "https://hazardmap.example.org/#signin=AAAA-BBBB-CCCC-DDDD",
		"http://10.0.0.5:8080/flood":             "http://10.0.0.5:8080/flood/#signin=AAAA-BBBB-CCCC-DDDD",
		"https://example.org/%E9%98%B2%E6%B1%9B": "https://example.org/%E9%98%B2%E6%B1%9B/#signin=AAAA-BBBB-CCCC-DDDD",
	} {
		got, err := SignInLink(base, "AAAA-BBBB-CCCC-DDDD")
		if err != nil || got != want {
			t.Errorf("SignInLink(%q) = %q, %v; want %q", base, got, err, want)
		}
	}
	for _, base := range []string{"", "example.org", "ftp://example.org", "https://example.org/?a=1", "https://example.org/#x", "https://"} {
		if _, err := SignInLink(base, "AAAA-BBBB-CCCC-DDDD"); KindOf(err) != Invalid {
			t.Errorf("SignInLink(%q) = %v, want Invalid", base, err)
		}
	}
}

func TestSignInCodeCheckAndToken(t *testing.T) {
	now := time.Date(2024, 7, 20, 8, 0, 0, 0, time.UTC)
	c := SignInCode{TokenID: "t1", Name: "一队", Role: RoleCrew, TokenTTL: time.Hour, Created: now, Expires: now.Add(SignInCodeTTL)}
	if err := c.Check(now.Add(SignInCodeTTL - time.Nanosecond)); err != nil {
		t.Errorf("Check just before expiry = %v", err)
	}
	used := now
	for name, cc := range map[string]SignInCode{"expired": c, "used": func() SignInCode { d := c; d.Used = &used; return d }(),
		"revoked": func() SignInCode { d := c; d.Revoked = &used; return d }()} {
		at := now
		if name == "expired" {
			at = c.Expires
		}
		if err := cc.Check(at); KindOf(err) != Unauthorized || err.Error() != "invalid, used or expired sign-in code; ask for a new link" {
			t.Errorf("Check(%s) = %v; want one Unauthorized message for all", name, err)
		}
	}
	tok := c.Token(make([]byte, 32), now.Add(time.Minute))
	if tok.ID != "t1" || tok.Role != RoleCrew || !tok.Expires.Equal(now.Add(time.Minute+time.Hour)) || tok.Validate() != nil {
		t.Errorf("Token = %+v", tok)
	}
	c.TokenTTL = 0
	if tok := c.Token(make([]byte, 32), now); !tok.Expires.IsZero() {
		t.Errorf("Token without a lifetime expires %v", tok.Expires)
	}
}
