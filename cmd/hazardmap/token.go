package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"hazardmap/geo"
)

// tokenUsage is printed on a bad token command line.
const tokenUsage = `usage: hazardmap token create --role sensor|crew|planner|admin --name NAME [--expires 720h] [--link [--link-expires 15m] [--base-url URL]]
       hazardmap token list
       hazardmap token revoke ID`

// tokenCmd manages the API's bearer tokens: create (prints the secret
// once, or with --link a one-time sign-in link and its QR code; only
// hashes are stored), list and revoke. It acts as the system actor (an
// admin), so every change is in the audit log as "system". While `serve`
// holds the embedded store the commands go through its control socket.
func tokenCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, rest, err := parse("token", args, getenv, stderr)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		fmt.Fprintln(stderr, tokenUsage)
		return errUsage
	}
	sub, rest := rest[0], rest[1:]
	switch {
	case sub == "create" && len(rest) == 0:
	case sub == "list" && len(rest) == 0:
	case sub == "revoke" && len(rest) == 1:
	default:
		fmt.Fprintln(stderr, tokenUsage)
		return errUsage
	}
	var role geo.Role
	if sub == "create" {
		if c.role == "" || strings.TrimSpace(c.name) == "" {
			fmt.Fprintln(stderr, "hazardmap token create: --role and --name are required\n"+tokenUsage)
			return errUsage
		}
		if role, err = geo.ParseRole(c.role); err != nil || role == geo.RolePublic {
			return fmt.Errorf("token create: --role %q: want sensor, crew, planner or admin", c.role)
		}
		if c.expires < 0 {
			return fmt.Errorf("token create: --expires %s: must not be negative", c.expires)
		}
		if c.linkExpires <= 0 || c.linkExpires > geo.MaxSignInCodeTTL {
			return fmt.Errorf("token create: --link-expires %s: want more than 0 and at most %s", c.linkExpires, geo.MaxSignInCodeTTL)
		}
	}
	store, err := openCLI(ctx, c, stderr)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	defer store.Close()

	switch sub {
	case "create":
		if c.link {
			return createLink(ctx, c, store, role, stdout)
		}
		t, secret, err := geo.IssueToken(ctx, store, c.name, role, c.expires)
		if err != nil {
			return fmt.Errorf("token create: %w", err)
		}
		fmt.Fprintf(stdout, "created token %s for %q, role %s, expires %s%s.\n", t.ID, t.Name, t.Role, expiry(t.Expires), via(store))
		fmt.Fprintln(stdout, "The token is shown this once (only its hash is stored); send it as \"Authorization: Bearer <token>\":")
		fmt.Fprintln(stdout, secret)
	case "list":
		ts, err := store.Tokens(ctx)
		if err != nil {
			return fmt.Errorf("token list: %w", err)
		}
		now := time.Now()
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tSTATUS\tCREATED\tEXPIRES")
		for _, t := range ts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.Status(now), t.Created.Local().Format(time.RFC3339), expiry(t.Expires))
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("token list: %w", err)
		}
	case "revoke":
		if err := store.RevokeToken(ctx, rest[0]); err != nil {
			return fmt.Errorf("token revoke %s: %w", rest[0], err)
		}
		fmt.Fprintf(stdout, "revoked %s: neither the token nor an unused sign-in link for it works any more, on any instance%s.\n", rest[0], via(store))
	}
	return nil
}

// expiry formats a token's expiry: local time, or "never".
func expiry(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format(time.RFC3339)
}

// createLink makes a one-time sign-in code for a token to come and prints
// the link that holds it, the same link as a QR code, and the code to type
// where a phone cannot scan. The link's base is --base-url, else the
// running server's. Neither the link nor the code is stored (only the
// code's hash); the token's secret does not exist yet: it is made when the
// phone exchanges the code.
func createLink(ctx context.Context, c *config, store cliStore, role geo.Role, stdout io.Writer) error {
	base := c.baseURL
	if r, ok := store.(*remote); ok && base == "" {
		base = r.baseURL
	}
	if base == "" {
		return fmt.Errorf("token create --link: set --base-url (or HAZARDMAP_BASE_URL) to the address the phones open, e.g. https://hazardmap.example.org")
	}
	if _, err := geo.SignInLink(base, "0000-0000-0000-0000"); err != nil {
		return fmt.Errorf("token create --link: --base-url %q: want the service's public http(s) URL, e.g. https://hazardmap.example.org", base)
	}
	sc, code, err := geo.IssueSignInCode(ctx, store, c.name, role, c.expires, c.linkExpires, time.Now())
	if err != nil {
		return fmt.Errorf("token create --link: %w", err)
	}
	link, err := geo.SignInLink(base, code)
	if err != nil {
		return fmt.Errorf("token create --link: %w", err)
	}
	life := "until revoked"
	if c.expires > 0 {
		life = "for " + c.expires.String() + " from sign-in"
	}
	fmt.Fprintf(stdout, "Sign-in link for %q, role %s%s. It works once, until %s (%s).\n\n%s\n\n",
		sc.Name, sc.Role, via(store), sc.Expires.Local().Format("15:04 on 2006-01-02"), c.linkExpires, link)
	if err := writeQR(stdout, link); err != nil {
		return fmt.Errorf("token create --link: %w", err)
	}
	fmt.Fprintf(stdout, "\nA phone that cannot scan may type the code on the map's sign-in page: %s\n", code)
	fmt.Fprintf(stdout, "The token it gets is %s; it works %s. To cancel the link or the token: hazardmap token revoke %s\n", sc.TokenID, life, sc.TokenID)
	return nil
}
