package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"hazardmap/api"
	"hazardmap/geo"
)

// tokenUsage is printed on a bad token command line.
const tokenUsage = `usage: hazardmap token create --role sensor|crew|planner|admin --name NAME [--expires 720h]
       hazardmap token list
       hazardmap token revoke ID`

// tokenCmd manages the API's bearer tokens: create (prints the secret
// once; only its hash is stored), list and revoke. It acts as the system
// actor (an admin), so every change is in the audit log as "system".
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
		if role, err = geo.ParseRole(c.role); err != nil {
			return fmt.Errorf("token create: --role %q: want sensor, crew, planner or admin", c.role)
		}
		if c.expires < 0 {
			return fmt.Errorf("token create: --expires %s: must not be negative", c.expires)
		}
	}
	store, _, err := openMigrated(ctx, c, stderr)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	defer store.Close()

	switch sub {
	case "create":
		t, secret, err := api.IssueToken(ctx, store, c.name, role, c.expires)
		if err != nil {
			return fmt.Errorf("token create: %w", err)
		}
		expires := "never"
		if !t.Expires.IsZero() {
			expires = t.Expires.Local().Format(time.RFC3339)
		}
		fmt.Fprintf(stdout, "created token %s for %q, role %s, expires %s.\n", t.ID, t.Name, t.Role, expires)
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
			expires := "never"
			if !t.Expires.IsZero() {
				expires = t.Expires.Local().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, api.TokenStatus(t, now), t.Created.Local().Format(time.RFC3339), expires)
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("token list: %w", err)
		}
	case "revoke":
		if err := store.RevokeToken(ctx, rest[0]); err != nil {
			return fmt.Errorf("token revoke %s: %w", rest[0], err)
		}
		fmt.Fprintf(stdout, "revoked token %s: it no longer works, on any instance.\n", rest[0])
	}
	return nil
}
