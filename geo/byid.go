package geo

import (
	"context"
	"fmt"
)

// byIDPage is the page size FeaturesByID reads a collection in.
const byIDPage = 1000

// FeaturesByID returns the stored features of c whose ids are in ids, by
// id; ids the store does not hold are absent. A few ids are read one by
// one (Store.Feature); more are picked from one View of c, read a page at
// a time so that only the wanted features are kept.
func FeaturesByID(ctx context.Context, s Store, c string, ids []string) (map[string]*Feature, error) {
	out := make(map[string]*Feature, len(ids))
	if len(ids) <= 64 {
		for _, id := range ids {
			f, err := s.Feature(ctx, c, id)
			switch {
			case KindOf(err) == NotFound:
				continue
			case err != nil:
				return nil, fmt.Errorf("read %s/%s: %w", c, id, err)
			}
			out[id] = f
		}
		return out, nil
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	err := s.Read(ctx, func(v View) error {
		for offset := 0; ; offset += byIDPage {
			fs, matched, err := v.Features(ctx, c, Query{Limit: byIDPage, Offset: offset})
			if err != nil {
				return err
			}
			for _, f := range fs {
				if want[f.ID] {
					out[f.ID] = f
				}
			}
			if len(fs) == 0 || offset+len(fs) >= matched || len(out) == len(want) {
				return nil
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", c, err)
	}
	return out, nil
}

// AllFeatures returns every feature of c from one View of s, in id order.
func AllFeatures(ctx context.Context, s Store, c string) ([]*Feature, error) {
	var fs []*Feature
	err := s.Read(ctx, func(v View) (err error) {
		fs, _, err = v.Features(ctx, c, Query{})
		return err
	})
	return fs, err
}
