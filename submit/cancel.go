package submit

import (
	"syscall"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/internal/engine"
	"github.com/goiocp/goiocp/internal/sys"
)

// CancelResult is the outcome of Cancel.
type CancelResult int

// The results of Cancel.
const (
	Canceled    CancelResult = iota // AIO_CANCELED: every request asked for was cancelled
	NotCanceled                     // AIO_NOTCANCELED: at least one is running and could not be
	AllDone                         // AIO_ALLDONE: none was in flight
)

// String returns the AIO_ name of the result.
func (r CancelResult) String() string {
	switch r {
	case Canceled:
		return "AIO_CANCELED"
	case NotCanceled:
		return "AIO_NOTCANCELED"
	case AllDone:
		return "AIO_ALLDONE"
	}
	return "CancelResult(?)"
}

// Cancel is aio_cancel: it cancels cb's request, or with cb == nil every
// request on fd still cancellable, in every context. A cancelled request's
// status is ECANCELED and Return gives -1 with that error; its sigevent
// still fires, but it makes no packet. Linux cannot cancel a read or write
// of a regular file once the kernel has it: such requests are reported
// NotCanceled and complete normally. What goiocp still holds in user space
// (an fsync waiting for earlier requests) is really cancelled. A fd that is
// not open is EBADF; a cb for another fd is EINVAL.
func Cancel(fd int, cb *aiocb.AIOCB) (CancelResult, error) {
	if err := sys.FdValid(fd); err != nil {
		return 0, err
	}
	var only *engine.Request
	if cb != nil {
		if cb.Fildes != fd {
			return 0, errno(syscall.EINVAL)
		}
		only = engine.RequestOf(cb)
	}
	cc := engine.Cancel(fd, only)
	switch {
	case cc.NotCanceled > 0:
		return NotCanceled, nil
	case cc.Canceled > 0:
		return Canceled, nil
	}
	return AllDone, nil
}
