//go:build linux

package sys

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// fstat is fstat(2) as a raw system call: the engine calls it on every
// batch it submits, and an fstat of an open file never blocks, so it skips
// the scheduler's system-call bookkeeping that unix.Fstat pays.
func fstat(fd int, st *unix.Stat_t) error {
	_, _, e := unix.RawSyscall(unix.SYS_FSTAT, uintptr(fd), uintptr(unsafe.Pointer(st)), 0)
	if e != 0 {
		return e
	}
	return nil
}
