package api

import "syscall"

// lowerPriority lowers the scheduling priority of the calling thread
// (nice 10, a tenth of the weight of nice 0), which the caller has locked
// and never unlocks: an unprivileged process cannot raise it again, so
// the thread must end with its goroutine.
func lowerPriority() {
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), 10)
}
