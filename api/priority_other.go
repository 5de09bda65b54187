//go:build !linux

package api

// lowerPriority does nothing where threads have no priority of their own
// that the process may set.
func lowerPriority() {}
