// Package check holds the rules a request's control block must meet before
// any I/O, shared by package submit (which adds the rules of the extended
// fields and the lookups) and package libaio (which fills the extended
// fields itself).
package check

import (
	"math"
	"syscall"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/internal/abi"
	"github.com/goiocp/goiocp/internal/sys"
)

// maxReqprio is AIO_PRIO_DELTA_MAX, the largest aio_reqprio.
const maxReqprio = 20

// Request applies the rules that need no lookup to cb, for a request
// performing op: a known Opcode, a valid notification, a file descriptor
// that is not negative, and for reads and writes at most IOV_MAX iovecs, a
// Reqprio in 0..20 and an Offset that neither is negative nor overflows
// with the transfer; for a poll, Events not empty. It returns 0 when cb may proceed.
func Request(cb *aiocb.AIOCB, op aiocb.Opcode) syscall.Errno {
	if cb.Opcode < aiocb.OpRead || cb.Opcode > aiocb.OpPoll {
		return syscall.EINVAL
	}
	if e := Sigevent(&cb.Sigevent); e != 0 {
		return e
	}
	if cb.Fildes < 0 {
		return syscall.EBADF
	}
	switch op {
	case aiocb.OpFsync, aiocb.OpFdsync:
		// aio_fsync reads only aio_fildes, aio_sigevent and the extended
		// fields (POSIX; LTP aio_fsync 8-1..8-4).
		return 0
	case aiocb.OpPoll:
		// A poll reads Fildes and Events; it waits for no event at all
		// with none asked.
		if cb.Events == 0 {
			return syscall.EINVAL
		}
		return 0
	case aiocb.OpReadv, aiocb.OpWritev:
		if len(cb.Iov) > abi.IOV_MAX {
			return syscall.EINVAL
		}
	}
	if cb.Reqprio < 0 || cb.Reqprio > maxReqprio {
		return syscall.EINVAL
	}
	if cb.Offset < 0 || int64(cb.Nbytes()) > math.MaxInt64-cb.Offset {
		return syscall.EINVAL
	}
	return 0
}

// Sigevent validates a notification.
func Sigevent(s *aiocb.Sigevent) syscall.Errno {
	switch s.Notify {
	case aiocb.SigevNone:
	case aiocb.SigevSignal:
		if s.Signo <= 0 || s.Signo > sys.MaxSignal {
			return syscall.EINVAL
		}
	case aiocb.SigevThread:
		if s.Func == nil {
			return syscall.EINVAL
		}
	default:
		return syscall.EINVAL
	}
	return 0
}
