package postgis

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// filter collects the conditions of a WHERE clause with numbered
// parameters: values never enter the SQL text.
type filter struct {
	conds []string
	args  []any
}

// add adds the condition "expr $n" with value v, e.g. add("seq >", 5).
func (f *filter) add(expr string, v any) {
	f.args = append(f.args, v)
	f.conds = append(f.conds, expr+" $"+strconv.Itoa(len(f.args)))
}

// where returns the WHERE clause, or "" when there are no conditions.
func (f *filter) where() string {
	if len(f.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(f.conds, " AND ")
}

// readPage returns the page (limit, offset) of the rows of selectSQL with
// f's conditions in order, scanned by scan, and the number of rows of
// countSQL with them, both from one snapshot, so that they agree. No row
// is an empty, non-nil slice.
func readPage[T any](ctx context.Context, s *Store, countSQL, selectSQL string, f filter, order string, limit, offset int,
	scan func(pgx.Row) (T, error)) ([]T, int, error) {
	page, pageArgs := paged(selectSQL+f.where()+order, f.args, limit, offset)
	out := []T{}
	var total int
	err := s.read(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, countSQL+f.where(), f.args...).Scan(&total); err != nil || total <= offset {
			return err
		}
		rows, err := tx.Query(ctx, page, pageArgs...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
		return err
	})
	return out, total, err
}
