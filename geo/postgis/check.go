package postgis

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"hazardmap/geo"
)

// This file is the one door between the store and SQL: every statement's
// arguments pass checkArgs before they are sent, whether the statement
// runs on the pool or in a transaction (inTx). A string that PostgreSQL
// cannot store as text (not UTF-8, or holding NUL) is an Invalid error
// here, not a "22021 invalid byte sequence" from the server that would
// reach a client as a 500. The API has refused such strings already,
// naming the field (api/request.go, geo.DecodeJSON, the stores' own id
// checks); this door keeps it so for every caller to come.

// checkedPool is the pool of a Store: a pgxpool.Pool whose statements
// check their arguments (checkArgs), and whose transactions do too.
type checkedPool struct{ *pgxpool.Pool }

// checkArgs returns an Invalid error when a string argument is not text
// every store can keep (geo.ValidText).
func checkArgs(args []any) error {
	for _, a := range args {
		switch v := a.(type) {
		case string:
			if !geo.ValidText(v) {
				return errArg
			}
		case *string:
			if v != nil && !geo.ValidText(*v) {
				return errArg
			}
		case []string:
			for _, s := range v {
				if !geo.ValidText(s) {
					return errArg
				}
			}
		case []*string:
			for _, s := range v {
				if s != nil && !geo.ValidText(*s) {
					return errArg
				}
			}
		}
	}
	return nil
}

// errArg is the error of an argument checkArgs refuses.
var errArg = geo.InvalidField("text", "a value is not valid UTF-8 or holds NUL (U+0000), which the database cannot store")

// errRow is a pgx.Row whose Scan returns its error.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// querier runs statements: the pool, or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

func execChecked(ctx context.Context, q querier, sql string, args []any) (pgconn.CommandTag, error) {
	if err := checkArgs(args); err != nil {
		return pgconn.CommandTag{}, err
	}
	return q.Exec(ctx, sql, args...)
}

func queryChecked(ctx context.Context, q querier, sql string, args []any) (pgx.Rows, error) {
	if err := checkArgs(args); err != nil {
		return nil, err
	}
	return q.Query(ctx, sql, args...)
}

func queryRowChecked(ctx context.Context, q querier, sql string, args []any) pgx.Row {
	if err := checkArgs(args); err != nil {
		return errRow{err}
	}
	return q.QueryRow(ctx, sql, args...)
}

func sendBatchChecked(ctx context.Context, q querier, b *pgx.Batch) pgx.BatchResults {
	for _, qq := range b.QueuedQueries {
		if err := checkArgs(qq.Arguments); err != nil {
			return errBatch{err}
		}
	}
	return q.SendBatch(ctx, b)
}

// Exec runs sql with checked arguments.
func (p checkedPool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return execChecked(ctx, p.Pool, sql, args)
}

// Query runs sql with checked arguments.
func (p checkedPool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return queryChecked(ctx, p.Pool, sql, args)
}

// QueryRow runs sql with checked arguments.
func (p checkedPool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return queryRowChecked(ctx, p.Pool, sql, args)
}

// Begin starts a transaction whose statements check their arguments.
func (p checkedPool) Begin(ctx context.Context) (pgx.Tx, error) {
	return p.BeginTx(ctx, pgx.TxOptions{})
}

// BeginTx starts a transaction whose statements check their arguments.
func (p checkedPool) BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error) {
	tx, err := p.Pool.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return checkedTx{Tx: tx}, nil
}

// SendBatch sends b once every queued statement's arguments pass.
func (p checkedPool) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return sendBatchChecked(ctx, p.Pool, b)
}

// checkedTx is a transaction whose statements check their arguments.
// When stmt is set, its statements run under stmt rather than the context
// each call is given (a read's: see Store.read).
type checkedTx struct {
	pgx.Tx
	stmt context.Context
}

// ctx returns the context a statement of t runs under.
func (t checkedTx) ctx(given context.Context) context.Context {
	if t.stmt != nil {
		return t.stmt
	}
	return given
}

// Exec runs sql with checked arguments.
func (t checkedTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return execChecked(t.ctx(ctx), t.Tx, sql, args)
}

// Query runs sql with checked arguments.
func (t checkedTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return queryChecked(t.ctx(ctx), t.Tx, sql, args)
}

// QueryRow runs sql with checked arguments.
func (t checkedTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return queryRowChecked(t.ctx(ctx), t.Tx, sql, args)
}

// Begin starts a nested transaction (a savepoint) that checks too.
func (t checkedTx) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := t.Tx.Begin(t.ctx(ctx))
	if err != nil {
		return nil, err
	}
	return checkedTx{tx, t.stmt}, nil
}

// SendBatch sends b once every queued statement's arguments pass.
func (t checkedTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return sendBatchChecked(t.ctx(ctx), t.Tx, b)
}

// errBatch is the pgx.BatchResults of a batch that was not sent.
type errBatch struct{ err error }

func (b errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b errBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b errBatch) QueryRow() pgx.Row                { return errRow(b) }
func (b errBatch) Close() error                     { return b.err }

// Tx returns nil: the batch began no transaction.
func (b errBatch) Tx() pgx.Tx { return nil }
