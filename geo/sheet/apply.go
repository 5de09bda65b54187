package sheet

import (
	"context"
	"fmt"

	"hazardmap/geo"
)

// ImportOptions say what Import writes.
type ImportOptions struct {
	// DryRun plans and writes nothing.
	DryRun bool
	// GoodOnly writes the good rows of a plan that has invalid ones;
	// without it such a plan writes nothing.
	GoodOnly bool
}

// Result is what Import did with a table.
type Result struct {
	// Plan is the plan the result comes from (the last one, when a write
	// had to be planned again).
	Plan *Plan
	// Written is what was written, in one transaction: empty on a dry run,
	// when Refused, or when no row creates or changes anything. After a
	// write its features carry their ids and new versions.
	Written geo.Batch
	// Refused reports a plan with invalid rows that was not written
	// because GoodOnly was not set.
	Refused bool
	// Would is what a dry run would have written (empty otherwise).
	Would geo.Batch
}

// MaxPlanAttempts bounds how often Import plans again when a feature
// changed between planning and writing.
const MaxPlanAttempts = 3

// Import plans t against the stored features that stored returns for
// t.IDs() and, unless opt says otherwise, writes the plan's creates and
// updates with apply (given the plan they come from), in one transaction (geo.Store.Apply, which audits
// every feature as an import). A feature that changed between planning
// and writing makes apply fail with Conflict or NotFound, and Import
// plans again, so that its row is reported stale rather than written;
// after MaxPlanAttempts the error is returned. Stale and unchanged rows
// are never written. Import does no I/O of its own.
func Import(ctx context.Context, t *Table, opt ImportOptions,
	stored func(ctx context.Context, ids []string) (map[string]*geo.Feature, error),
	apply func(ctx context.Context, p *Plan, b geo.Batch) error) (*Result, error) {
	for attempt := 1; ; attempt++ {
		current, err := stored(ctx, t.IDs())
		if err != nil {
			return nil, err
		}
		plan := MakePlan(t, current)
		batch, ok := plan.Batch(opt.GoodOnly)
		switch {
		case !ok:
			return &Result{Plan: plan, Refused: true}, nil
		case opt.DryRun:
			return &Result{Plan: plan, Would: batch}, nil
		case batch.Len() == 0:
			return &Result{Plan: plan}, nil
		}
		err = apply(ctx, plan, batch)
		if err == nil {
			return &Result{Plan: plan, Written: batch}, nil
		}
		if k := geo.KindOf(err); (k != geo.Conflict && k != geo.NotFound) || attempt == MaxPlanAttempts {
			return nil, fmt.Errorf("sheet: import into %s: nothing written: %w", t.Schema.ID, err)
		}
	}
}

// IDs returns the distinct valid ids of t's rows, in row order: those an
// import must compare with the store.
func (t *Table) IDs() []string {
	var out []string
	seen := map[string]bool{}
	for _, row := range t.Rows {
		id, _ := t.Cell(row, KeyID)
		if id == "" || seen[id] || geo.ValidateID(id) != nil {
			continue
		}
		seen[id] = true
		out = append(out, id)
	}
	return out
}
