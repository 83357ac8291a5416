//go:build linux

package sys

import (
	"syscall"

	"github.com/goiocp/goiocp/internal/abi"
	"golang.org/x/sys/unix"
)

// Perform finishes a read or write the blocking way, in the calling
// goroutine: what a worker does with a request the kernel would not complete
// without blocking (RWF_NOWAIT). done bytes at the start are already
// transferred; Perform moves the rest, until the request is complete, a
// read reaches end of file, or an error. It returns the total byte count, or
// a negated errno when nothing was transferred, as an io_event would. On a
// file without positions (a pipe, a socket: ESPIPE) it reads or writes at
// the current position, as kernel AIO does there.
func Perform(cmd uint16, fd int, buf []byte, iov [][]byte, off, done int64) int64 {
	positioned := true
	for {
		b, v := skip(buf, iov, done)
		if len(b) == 0 && len(v) == 0 {
			return done
		}
		res := perform(cmd, fd, b, v, off+done, positioned)
		if res == -int64(syscall.ESPIPE) && positioned {
			positioned = false
			continue
		}
		if res < 0 {
			if done > 0 {
				return done
			}
			return res
		}
		if res == 0 {
			return done // end of file
		}
		done += res
	}
}

// skip returns buf, or iov, without its first n bytes.
func skip(buf []byte, iov [][]byte, n int64) ([]byte, [][]byte) {
	if iov == nil {
		return buf[min(n, int64(len(buf))):], nil
	}
	for len(iov) > 0 && n >= int64(len(iov[0])) {
		n -= int64(len(iov[0]))
		iov = iov[1:]
	}
	if len(iov) == 0 {
		return nil, nil
	}
	if n > 0 {
		rest := make([][]byte, len(iov))
		copy(rest, iov)
		rest[0] = rest[0][n:]
		iov = rest
	}
	return nil, iov
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
