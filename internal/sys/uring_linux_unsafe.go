//go:build linux

package sys

import (
	"os"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// uringParams is struct io_uring_params (120 bytes): what io_uring_setup
// takes and fills in.
type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff                                                                  [10]uint32
	cqOff                                                                  [10]uint32
}

// ProbeIOURing makes and closes a one-entry io_uring. It returns nil when
// this process may use io_uring, or an error wrapping the errno that says
// why not, its text naming the cause and the fix: ENOSYS (a kernel without
// it), EPERM with kernel.io_uring_disabled set, or EPERM otherwise (a
// seccomp filter, as container runtimes install).
func ProbeIOURing() error {
	var p uringParams
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, 1, uintptr(unsafe.Pointer(&p)), 0)
	if e == 0 {
		unix.Close(int(fd))
		return nil
	}
	switch e {
	case syscall.ENOSYS:
		return &uringError{"this kernel has no io_uring (CONFIG_IO_URING)", e}
	case syscall.EPERM, syscall.EACCES:
		b, _ := os.ReadFile("/proc/sys/kernel/io_uring_disabled")
		if v := strings.TrimSpace(string(b)); v != "" && v != "0" {
			return &uringError{"io_uring is disabled by sysctl kernel.io_uring_disabled=" + v +
				" (set it to 0, or to 1 and add the user to kernel.io_uring_group)", e}
		}
		return &uringError{"io_uring_setup is refused, likely by a seccomp filter (a container runtime's default profile): allow io_uring_setup, io_uring_enter and io_uring_register", e}
	}
	return &uringError{"io_uring_setup failed", e}
}

type uringError struct {
	why   string
	errno syscall.Errno
}

func (e *uringError) Error() string { return e.why + ": " + e.errno.Error() }
func (e *uringError) Unwrap() error { return e.errno }
