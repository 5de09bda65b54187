package postgis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"hazardmap/geo"
)

// fail turns err from the operation described by format and args into the
// error a Store method returns:
//   - a *geo.Error (Invalid, NotFound, Conflict from the store's own
//     checks, possibly wrapped with the index of an imported feature) is
//     returned unchanged;
//   - an error that means the database cannot be reached becomes
//     geo.Unavailable with the client-safe message "database unavailable"
//     and the cause, with context, for the logs;
//   - an error of the server about the data of the request (refused) is
//     geo.Invalid (a value it cannot take: never a 500) or geo.Conflict,
//     or geo.Unavailable when the server is out of time or resources;
//   - anything else is wrapped with context ("postgis: replace depots/x: …")
//     and so is geo.Internal.
func fail(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	if geo.AsError(err) != nil {
		return err
	}
	wrapped := fmt.Errorf(format+": %w", append(args, err)...)
	if unreachable(err) {
		return &geo.Error{Kind: geo.Unavailable, Message: "database unavailable", Err: wrapped}
	}
	if k, msg, ok := refused(err); ok {
		return &geo.Error{Kind: k, Message: msg, Err: wrapped}
	}
	return wrapped
}

// refused classifies the server's errors about what a request asked of
// it, by SQLSTATE class: the kind and a client-safe message (no server
// text: it may quote the data).
func refused(err error) (geo.Kind, string, bool) {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || len(pgErr.Code) != 5 {
		return 0, "", false
	}
	code := pgErr.Code
	switch {
	case strings.HasPrefix(code, "22"), // data_exception: bad encoding, out of range, bad JSON…
		code == "23502", code == "23514", code == "23P01", // not null, check, exclusion
		strings.HasPrefix(code, "54"): // program_limit_exceeded: a value too large to index…
		return geo.Invalid, "the database cannot take a value of this request (SQLSTATE " + code + "); correct it and send it again", true
	case code == "23505": // unique_violation
		return geo.Conflict, "this conflicts with what is stored (SQLSTATE " + code + ")", true
	case code == "57014", // query_canceled: a statement timeout
		strings.HasPrefix(code, "40"), // serialization failure, deadlock: retry
		strings.HasPrefix(code, "53"): // insufficient resources
		return geo.Unavailable, "the database could not finish this request now (SQLSTATE " + code + "); retry", true
	}
	return 0, "", false
}

// unreachable reports whether err means that the database cannot be
// reached or did not answer in time, as opposed to a bug or a bad
// statement: a failed connection attempt, a network error, a connection
// that broke or was closed, a server that is shutting down or starting up,
// or a deadline that ran out while waiting for the database. A cancelled
// context is the caller going away, not the database, and is not.
func unreachable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	// Before PgError: a connection attempt that the server refused (bad
	// password, no such database, too many clients) is also a ConnectError,
	// and the store cannot serve until that is fixed either.
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", // admin_shutdown
			"57P02", // crash_shutdown
			"57P03", // cannot_connect_now (starting up, recovering)
			"53300": // too_many_connections
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08") // connection_exception class
	}
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	return errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) ||
		errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE)
}
