//go:build linux

package sys

import (
	"runtime"
	"syscall"
	"unsafe"

	"github.com/goiocp/goiocp/internal/abi"
	"golang.org/x/sys/unix"
)

// The transfers of stream requests (see internal/engine/stream.go). Each is
// one system call that never waits for the stream: RWF_NOWAIT (or
// MSG_DONTWAIT) makes the kernel return EAGAIN instead, whatever the file's
// O_NONBLOCK says, so they run as raw calls. They return the byte count, or
// a negated errno, as an io_event carries them.

// maxStackIov is how many iovecs a transfer builds without allocating.
const maxStackIov = 8

// iovecs fills dst (or a new slice when dst is too short) with buf, or with
// the buffers of iov, and returns it.
func iovecs(dst []unix.Iovec, buf []byte, iov [][]byte) []unix.Iovec {
	if len(iov) == 0 {
		dst = dst[:1]
		dst[0] = unix.Iovec{Len: uint64(len(buf))}
		if len(buf) > 0 {
			dst[0].Base = &buf[0]
		}
		return dst
	}
	if len(iov) > len(dst) {
		dst = make([]unix.Iovec, len(iov))
	}
	dst = dst[:len(iov)]
	for i, b := range iov {
		dst[i] = unix.Iovec{Len: uint64(len(b))}
		if len(b) > 0 {
			dst[i].Base = &b[0]
		}
	}
	return dst
}

// StreamRead reads what one read(2) of fd into buf (or iov) would return,
// without waiting: -EAGAIN when nothing is there yet, 0 at end of stream,
// -EOPNOTSUPP when the file cannot read without waiting (then call
// StreamReadPlain once it polls ready).
func StreamRead(fd int, buf []byte, iov [][]byte) int64 {
	var stack [maxStackIov]unix.Iovec
	v := iovecs(stack[:], buf, iov)
	for {
		// preadv2 at offset -1 reads at the current position, which a stream
		// does not have: it is read(2) with flags.
		n, _, e := syscall.RawSyscall6(unix.SYS_PREADV2, uintptr(fd), uintptr(unsafe.Pointer(&v[0])), uintptr(len(v)),
			^uintptr(0), 0, unix.RWF_NOWAIT)
		runtime.KeepAlive(buf)
		runtime.KeepAlive(iov)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return -int64(e)
		}
		return int64(n)
	}
}

// StreamReadPlain is read(2) or readv(2): for a stream whose file cannot
// honour RWF_NOWAIT, called once it polled readable, through the scheduler
// since it may wait if someone else took the data.
func StreamReadPlain(fd int, buf []byte, iov [][]byte) int64 {
	return perform(readCmd(iov), fd, buf, iov, 0, false)
}

// StreamWrite writes as much of buf (or iov) to fd as fits now, without
// waiting and without raising SIGPIPE: -EAGAIN when nothing fits, -EPIPE to
// a reader that is gone. A socket is written with MSG_NOSIGNAL; any other
// stream with SIGPIPE blocked on this thread for the call, the signal
// pipe_write sends to the writing thread taken back before it is unblocked.
func StreamWrite(fd int, buf []byte, iov [][]byte, socket bool) int64 {
	var stack [maxStackIov]unix.Iovec
	v := iovecs(stack[:], buf, iov)
	defer runtime.KeepAlive(buf)
	defer runtime.KeepAlive(iov)
	if socket {
		var msg unix.Msghdr
		msg.Iov = &v[0]
		msg.SetIovlen(len(v))
		for {
			n, _, e := syscall.RawSyscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)),
				unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
			if e == syscall.EINTR {
				continue
			}
			if e == syscall.ENOTSOCK {
				break // not a socket after all (the fd was replaced): write it as a stream
			}
			if e != 0 {
				return -int64(e)
			}
			return int64(n)
		}
	}
	return withoutSigpipe(func() int64 {
		for {
			n, _, e := syscall.RawSyscall6(unix.SYS_PWRITEV2, uintptr(fd), uintptr(unsafe.Pointer(&v[0])), uintptr(len(v)),
				^uintptr(0), 0, unix.RWF_NOWAIT)
			if e == syscall.EINTR {
				continue
			}
			if e != 0 {
				return -int64(e)
			}
			return int64(n)
		}
	})
}

// StreamWritePlain is write(2) or writev(2) for a stream whose file cannot
// honour RWF_NOWAIT, called once it polled writable; SIGPIPE is held back as
// for StreamWrite.
func StreamWritePlain(fd int, buf []byte, iov [][]byte) int64 {
	cmd := uint16(abi.IOCB_CMD_PWRITE)
	if iov != nil {
		cmd = abi.IOCB_CMD_PWRITEV
	}
	return withoutSigpipe(func() int64 { return perform(cmd, fd, buf, iov, 0, false) })
}

func readCmd(iov [][]byte) uint16 {
	if iov != nil {
		return abi.IOCB_CMD_PREADV
	}
	return abi.IOCB_CMD_PREAD
}

// sigpipeSet is the signal set holding SIGPIPE alone.
var sigpipeSet = unix.Sigset_t{Val: [16]uint64{1 << (uint(syscall.SIGPIPE) - 1)}}

// withoutSigpipe runs f on this OS thread with SIGPIPE blocked, and takes
// back a SIGPIPE that f raised against the thread (a write to a pipe with
// no reader) before unblocking it, so the process never sees it.
func withoutSigpipe(f func() int64) int64 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old unix.Sigset_t
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &sigpipeSet, &old); err != nil {
		return -int64(err.(syscall.Errno))
	}
	res := f()
	if res == -int64(syscall.EPIPE) {
		var zero unix.Timespec
		// rt_sigtimedwait with a zero timeout takes the pending SIGPIPE, or
		// fails with EAGAIN when none is (the signal is ignored).
		_, _, _ = syscall.RawSyscall6(unix.SYS_RT_SIGTIMEDWAIT, uintptr(unsafe.Pointer(&sigpipeSet)), 0,
			uintptr(unsafe.Pointer(&zero)), 8, 0, 0)
	}
	_ = unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
	return res
}
