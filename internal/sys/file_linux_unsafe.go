//go:build linux

package sys

import (
	"runtime"
	"syscall"
	"unsafe"

	"github.com/goiocp/goiocp/internal/abi"
	"golang.org/x/sys/unix"
)

// AlignedBuffer returns n bytes of the Go heap whose first byte is aligned
// to align (a power of two), for O_DIRECT. The collector keeps the whole
// allocation alive through the returned slice.
func AlignedBuffer(n, align int) []byte {
	if n <= 0 {
		return []byte{}
	}
	raw := make([]byte, n+align)
	skip := (align - int(uintptr(unsafe.Pointer(&raw[0]))&uintptr(align-1))) & (align - 1)
	return raw[skip : skip+n : skip+n]
}

// Aligned reports whether b's first byte is aligned to align.
func Aligned(b []byte, align int) bool {
	if len(b) == 0 {
		return true
	}
	return uintptr(unsafe.Pointer(&b[0]))&uintptr(align-1) == 0
}

// PreadNowait is preadv2(fd, buf, off, RWF_NOWAIT): the bytes the page
// cache (or a memory file system) has at once, -EAGAIN when any would have
// to wait for a device, -EOPNOTSUPP when the file cannot say. It goes
// through the scheduler all the same: a file system that ignores the flag
// (FUSE may) would otherwise hold a P in the kernel, and a stop-the-world
// would wait for it while the server, perhaps in this process, cannot run.
func PreadNowait(fd int, buf []byte, off int64) int64 {
	return rwNowait(unix.SYS_PREADV2, fd, buf, off)
}

// PwriteNowait is pwritev2(fd, buf, off, RWF_NOWAIT), as PreadNowait.
func PwriteNowait(fd int, buf []byte, off int64) int64 {
	return rwNowait(unix.SYS_PWRITEV2, fd, buf, off)
}

func rwNowait(trap uintptr, fd int, buf []byte, off int64) int64 {
	iov := unix.Iovec{Len: uint64(len(buf))}
	if len(buf) > 0 {
		iov.Base = &buf[0]
	}
	for {
		n, _, e := syscall.Syscall6(trap, uintptr(fd), uintptr(unsafe.Pointer(&iov)), 1,
			uintptr(off), 0, unix.RWF_NOWAIT)
		runtime.KeepAlive(buf)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return -int64(e)
		}
		return int64(n)
	}
}

// Pwrite is pwrite(2) through the scheduler, for a write that may block
// briefly (page cache, dirty throttling): the byte count or a negated
// errno.
func Pwrite(fd int, buf []byte, off int64) int64 {
	return perform(abi.IOCB_CMD_PWRITE, fd, buf, nil, off, true)
}

// StatusFlags returns fd's file status flags (fcntl F_GETFL).
func StatusFlags(fd int) (int, error) {
	return unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
}

// O_DIRECT is the open flag of direct I/O.
const O_DIRECT = unix.O_DIRECT

// OnFUSE reports whether fd is a file of a FUSE file system, whose kernel
// AIO goes to its server asynchronously even on a buffered open.
func OnFUSE(fd int) bool {
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return false
	}
	return st.Type == unix.FUSE_SUPER_MAGIC
}

// Pread is pread(2) through the scheduler: the byte count or a negated
// errno.
func Pread(fd int, buf []byte, off int64) int64 {
	return perform(abi.IOCB_CMD_PREAD, fd, buf, nil, off, true)
}
