package geo

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Role is what a bearer token allows. The roles are ordered: each may do
// everything the roles below it may.
type Role string

// The roles, from least to most allowed.
const (
	// RolePublic reads the public layers; it is the role of a request
	// without a token. Household detail is hidden from it.
	RolePublic Role = "public"
	// RoleSensor is a telemetry station's: it may post water-level
	// readings (telemetry) and read what the public reads, nothing else.
	// It sits between public and crew, so that crews and above may post
	// readings too (manual ones) and a sensor may do nothing a crew may.
	RoleSensor Role = "sensor"
	// RoleCrew also reports status from the spot (observations on
	// waterlogging points); it does not edit features, so a crew cannot
	// overwrite what it is not allowed to see.
	RoleCrew Role = "crew"
	// RolePlanner also creates, edits and deletes features and sees
	// household detail and the audit log.
	RolePlanner Role = "planner"
	// RoleAdmin also manages tokens. The CLI acts as an admin (see
	// SystemActor).
	RoleAdmin Role = "admin"
)

// Roles returns every role, from least to most allowed.
func Roles() []Role { return []Role{RolePublic, RoleSensor, RoleCrew, RolePlanner, RoleAdmin} }

// rank returns the position of r in Roles, or -1 for an unknown role.
func (r Role) rank() int {
	switch r {
	case RolePublic:
		return 0
	case RoleSensor:
		return 1
	case RoleCrew:
		return 2
	case RolePlanner:
		return 3
	case RoleAdmin:
		return 4
	}
	return -1
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return r.rank() >= 0 }

// AtLeast reports whether r may do what o may (public < sensor < crew <
// planner < admin). An unknown role on either side is never at least anything, so
// that a typo fails closed.
func (r Role) AtLeast(o Role) bool {
	return r.Valid() && o.Valid() && r.rank() >= o.rank()
}

// ParseRole returns the role called s, or an Invalid error naming the
// field "role".
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", InvalidField("role", "%q is not one of public, sensor, crew, planner, admin", s)
	}
	return r, nil
}

// Actor is who writes: the holder of a token, or the system itself (the
// CLI seeding or importing). Stores record the actor of every write in its
// audit entry.
type Actor struct {
	// ID is the token's id, or "system".
	ID string
	// Name is the token's name, e.g. "城建局一队", or "system".
	Name string
	// Role is the token's role.
	Role Role
}

// SystemID is the Actor.ID of SystemActor. No token can have it: token ids
// are NewID hex strings.
const SystemID = "system"

// SystemActor returns the actor of writes made with no actor in their
// context: the CLI's seeding, imports and token commands. It is an admin.
func SystemActor() Actor { return Actor{ID: SystemID, Name: SystemID, Role: RoleAdmin} }

// Validate reports an actor that cannot be recorded: an empty or overlong
// id or name, or an unknown role. Stores call it before every write; an
// invalid actor is a bug in the caller (the API), so the error is of kind
// Internal and the write does not happen.
func (a Actor) Validate() error {
	switch {
	case a.ID == "" || len(a.ID) > 100:
		return fmt.Errorf("geo: actor id %q: must be 1 to 100 bytes", a.ID)
	case a.Name == "" || utf8.RuneCountInString(a.Name) > MaxTokenName || !utf8.ValidString(a.Name) || strings.ContainsRune(a.Name, 0):
		return fmt.Errorf("geo: actor name %q: must be 1 to %d characters of valid UTF-8 without NUL", a.Name, MaxTokenName)
	case !a.Role.Valid():
		return fmt.Errorf("geo: actor %q: unknown role %q", a.ID, a.Role)
	}
	return nil
}

// actorKey is the context key of the actor.
type actorKey struct{}

// WithActor returns a copy of ctx that carries a as the actor of the
// writes made with it. The API calls it once per authenticated request.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor that ctx carries, or SystemActor when it
// carries none.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return SystemActor()
}
