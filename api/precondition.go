package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"hazardmap/geo"
)

// This file is the optimistic concurrency of the writes. GET
// …/items/{featureId} sends a strong ETag (featureETag). PUT, PATCH and
// DELETE must send it back in If-Match (without it: 428). The handler
// reads the feature, compares the tags with the ETag the same GET would
// send now (412 with the current version when none matches), and passes
// the version it compared to the store, which writes only if that is
// still the stored version — so a write that lands between the comparison
// and the store's check is a 412 too, never a silent overwrite.

// parseETags reads an If-Match (or If-None-Match) field value: "*", or a
// comma-separated list of entity tags (RFC 9110 §8.8.3), each returned as
// written, W/ prefix and quotes included; empty list elements are
// skipped. star reports "*". A malformed value is an Invalid error naming
// field.
func parseETags(field, value string) (tags []string, star bool, err error) {
	v := strings.TrimSpace(value)
	if v == "*" {
		return nil, true, nil
	}
	bad := func(detail string) ([]string, bool, error) {
		return nil, false, geo.InvalidField(field, "%s; want \"*\" or entity tags such as \"3-00ab…\" (quotes included), comma-separated", detail)
	}
	for i := 0; i < len(v); {
		switch c := v[i]; {
		case c == ' ' || c == '\t' || c == ',':
			i++
			continue
		case c == '"' || strings.HasPrefix(v[i:], `W/"`):
			start := i
			if c == 'W' {
				i += 2
			}
			i++ // the opening quote
			for i < len(v) && v[i] != '"' {
				if b := v[i]; b < 0x21 || b == 0x7f {
					return bad("an entity tag holds a control character or space")
				}
				i++
			}
			if i == len(v) {
				return bad("an entity tag is not closed")
			}
			i++ // the closing quote
			tags = append(tags, v[start:i])
			if i < len(v) && v[i] != ',' && v[i] != ' ' && v[i] != '\t' {
				return bad("entity tags must be separated by commas")
			}
		default:
			return bad("an entity tag must be quoted")
		}
	}
	if len(tags) == 0 {
		return bad("no entity tag")
	}
	return tags, false, nil
}

// ifMatch returns the entity tags of r's If-Match. Without one, or with
// "*" (which would let a write overwrite whatever is there), the write
// is refused with 428.
func ifMatch(r *http.Request) ([]string, error) {
	values := r.Header.Values("If-Match")
	if len(values) == 0 {
		return nil, errPreconditionRequired("this write needs If-Match with the feature's current ETag (from GET of the feature), so that two crews never overwrite each other's edits unseen")
	}
	tags, star, err := parseETags("If-Match", strings.Join(values, ","))
	if err != nil {
		return nil, err
	}
	if star {
		return nil, errPreconditionRequired(`If-Match: * would overwrite whatever version is there; send the ETag of the version you edited`)
	}
	return tags, nil
}

// etagMatches reports whether one of tags names the version of the
// feature whose ETag is etag, by strong comparison (RFC 9110 §13.1.1: a
// weak tag never matches) of their version and state (featureState): the
// plain and the gzip form, and the tags of the same version read through
// another host name, all stand for that version.
func etagMatches(tags []string, etag string) bool {
	want := featureState(etag)
	for _, t := range tags {
		if want != "" && featureState(t) == want {
			return true
		}
	}
	return false
}

// featureIfMatch reads feature id of sc and checks tags (If-Match)
// against the ETag the requester's GET would get: it returns the feature,
// or the 412 of its current version, or NotFound.
func (s *Server) featureIfMatch(ctx context.Context, r *http.Request, sc *geo.Schema, id string, tags []string) (*geo.Feature, error) {
	f, err := s.store.Feature(ctx, sc.ID, id)
	if err != nil {
		return nil, err
	}
	if !etagMatches(tags, featureETag(sc, f, s.baseURL(r), roleOf(r))) {
		return nil, s.errChanged(r, sc, f)
	}
	return f, nil
}

// errChanged returns the 412 of a write based on an older version than
// f, which holds f as the requester may see it.
func (s *Server) errChanged(r *http.Request, sc *geo.Schema, f *geo.Feature) error {
	body, etag, err := featureBody(sc, f, s.baseURL(r), roleOf(r))
	if err != nil {
		return err
	}
	return errPreconditionFailed(&currentVersion{ETag: etag, Version: f.Version, Updated: f.Updated.UTC().Format(time.RFC3339Nano), Feature: body})
}

// errIfRaced turns the Conflict of a store write that lost a race after
// its If-Match matched (another write committed in between) into the 412
// of the newer version; other errors pass through.
func (s *Server) errIfRaced(ctx context.Context, r *http.Request, sc *geo.Schema, id string, err error) error {
	if geo.KindOf(err) != geo.Conflict {
		return err
	}
	f, ferr := s.store.Feature(ctx, sc.ID, id)
	if ferr != nil {
		return ferr
	}
	return s.errChanged(r, sc, f)
}

// writeIfMatch runs a write of the feature featureId of sc (op names it
// in errors) whose If-Match tags (ifMatch, checked before the body was
// read) must name its current version: the tags are checked against the
// feature's current version (412 with the current one when none
// matches), then write runs with that version. A Conflict from write
// (another write came in between) is the 412 of the newer version; a
// lost idempotency claim stays what it is.
func (s *Server) writeIfMatch(ctx context.Context, r *http.Request, sc *geo.Schema, op string, tags []string, write func(id string, version int64) error) error {
	id := chi.URLParam(r, "featureId")
	cur, err := s.featureIfMatch(ctx, r, sc, id, tags)
	if err != nil {
		return err
	}
	if err := write(id, cur.Version); err != nil {
		err = fmt.Errorf("api: %s %s/%s: %w", op, sc.ID, id, err)
		if geo.IsClaimLost(err) {
			return err
		}
		return s.errIfRaced(ctx, r, sc, id, err)
	}
	return nil
}
