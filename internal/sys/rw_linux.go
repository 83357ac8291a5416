//go:build linux

package sys

import (
	"syscall"

	"github.com/goiocp/goiocp/internal/abi"
	"golang.org/x/sys/unix"
)

// Perform runs a read or write the blocking way, in the calling goroutine:
// what a worker does with a request the kernel would not start without
// blocking (RWF_NOWAIT gave EAGAIN). It returns the byte count, or a
// negated errno, as an io_event would. On a file without positions (a pipe,
// a socket: ESPIPE) it reads or writes at the current position, as kernel
// AIO does there.
func Perform(cmd uint16, fd int, buf []byte, iov [][]byte, off int64) int64 {
	res := perform(cmd, fd, buf, iov, off, true)
	if res == -int64(syscall.ESPIPE) {
		res = perform(cmd, fd, buf, iov, off, false)
	}
	return res
}

func perform(cmd uint16, fd int, buf []byte, iov [][]byte, off int64, positioned bool) int64 {
	for {
		var n int
		var err error
		switch {
		case !positioned && cmd == abi.IOCB_CMD_PREAD:
			n, err = unix.Read(fd, buf)
		case !positioned && cmd == abi.IOCB_CMD_PWRITE:
			n, err = unix.Write(fd, buf)
		case !positioned && cmd == abi.IOCB_CMD_PREADV:
			n, err = unix.Readv(fd, iov)
		case !positioned && cmd == abi.IOCB_CMD_PWRITEV:
			n, err = unix.Writev(fd, iov)
		case cmd == abi.IOCB_CMD_PREAD:
			n, err = unix.Pread(fd, buf, off)
		case cmd == abi.IOCB_CMD_PWRITE:
			n, err = unix.Pwrite(fd, buf, off)
		case cmd == abi.IOCB_CMD_PREADV:
			n, err = unix.Preadv(fd, iov, off)
		case cmd == abi.IOCB_CMD_PWRITEV:
			n, err = unix.Pwritev(fd, iov, off)
		default:
			return -int64(syscall.EINVAL)
		}
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			if e, ok := err.(syscall.Errno); ok {
				return -int64(e)
			}
			return -int64(syscall.EIO)
		}
		return int64(n)
	}
}
