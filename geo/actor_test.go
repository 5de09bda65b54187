package geo

import (
	"context"
	"testing"
)

func TestRoleAtLeast(t *testing.T) {
	roles := Roles()
	for i, r := range roles {
		for j, o := range roles {
			if got := r.AtLeast(o); got != (i >= j) {
				t.Errorf("%s.AtLeast(%s) = %v, want %v", r, o, got, i >= j)
			}
		}
		if r.AtLeast("root") || Role("root").AtLeast(r) || Role("").AtLeast(RolePublic) {
			t.Errorf("an unknown role compared as known with %s", r)
		}
	}
}

func TestParseRole(t *testing.T) {
	for _, r := range Roles() {
		if got, err := ParseRole(string(r)); err != nil || got != r {
			t.Errorf("ParseRole(%q) = %q, %v", r, got, err)
		}
	}
	for _, s := range []string{"", "Admin", "root", " crew"} {
		_, err := ParseRole(s)
		if e := AsError(err); e == nil || e.Kind != Invalid || e.Fields[0].Field != "role" {
			t.Errorf("ParseRole(%q) = %v, want Invalid naming role", s, err)
		}
	}
}

func TestActorContext(t *testing.T) {
	if got := ActorFrom(context.Background()); got != SystemActor() || got.Role != RoleAdmin || got.ID != "system" {
		t.Errorf("ActorFrom(no actor) = %+v, want the system admin", got)
	}
	crew := Actor{ID: "abc", Name: "城建局一队", Role: RoleCrew}
	if got := ActorFrom(WithActor(context.Background(), crew)); got != crew {
		t.Errorf("ActorFrom(WithActor(crew)) = %+v", got)
	}
}

func TestActorValidate(t *testing.T) {
	good := []Actor{SystemActor(), {ID: "abc", Name: "城建局一队", Role: RoleCrew}}
	for _, a := range good {
		if err := a.Validate(); err != nil {
			t.Errorf("%+v.Validate() = %v", a, err)
		}
	}
	bad := []Actor{{}, {ID: "x", Name: "x"}, {ID: "x", Role: RoleCrew}, {Name: "x", Role: RoleCrew},
		{ID: "x", Name: "a\x00b", Role: RoleCrew}, {ID: "x", Name: "x", Role: "root"}}
	for _, a := range bad {
		if err := a.Validate(); err == nil || KindOf(err) != Internal {
			t.Errorf("%+v.Validate() = %v, want an Internal error", a, err)
		}
	}
}
