package submit

import (
	"syscall"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/internal/engine"
	"github.com/goiocp/goiocp/internal/sys"
)

// Infinite makes Suspend, Nwait and Waitcomplete wait without limit.
const Infinite time.Duration = -1

// Read is aio_read: it queues a read of len(cb.Buf) bytes at cb.Offset of
// cb.Fildes into cb.Buf (into cb.Iov when cb.Opcode is OpReadv; any other
// Opcode is ignored). It returns once the request is queued; a request that
// fails validation, or that the kernel refuses at once (EBADF for a file
// not open for reading, EAGAIN with no room in its context), performs no
// I/O and its error is returned. A read past end of file is a short read.
func Read(cb *aiocb.AIOCB) error {
	op := aiocb.OpRead
	if cb != nil && cb.Opcode == aiocb.OpReadv {
		op = aiocb.OpReadv
	}
	return submitOne(cb, op)
}

// Write is aio_write: as Read, writing cb.Buf (or gathering cb.Iov for
// OpWritev). On a file opened with O_APPEND the kernel appends regardless of
// cb.Offset.
func Write(cb *aiocb.AIOCB) error {
	op := aiocb.OpWrite
	if cb != nil && cb.Opcode == aiocb.OpWritev {
		op = aiocb.OpWritev
	}
	return submitOne(cb, op)
}

// Fsync is aio_fsync: it queues a synchronisation of cb.Fildes, as fsync
// for op unix.O_SYNC and as fdatasync for unix.O_DSYNC (any other op is
// EINVAL). It covers every request on the file queued before it, in any
// context: it is not final before they are. It reads only Fildes, Sigevent
// and the extended fields. A bad fd is EBADF at the call.
func Fsync(op int, cb *aiocb.AIOCB) error {
	var o aiocb.Opcode
	switch op {
	case sys.O_SYNC:
		o = aiocb.OpFsync
	case sys.O_DSYNC:
		o = aiocb.OpFdsync
	default:
		return errno(syscall.EINVAL)
	}
	return submitOne(cb, o)
}

// Poll starts a poll request: it completes once cb.Fildes is ready for any
// of cb.Events (or has POLLERR or POLLHUP), and its byte count (Return,
// the packet's Bytes) is the ready mask, revents. It is one-shot, validated
// like Read (Events == 0 is EINVAL), and cb.Opcode is ignored. It works on
// any file whose poll(2) waits on a single queue, which is every socket,
// pipe and eventfd; a tty waits on two, and kernel AIO fails its POLL with
// EINVAL (a stream read or write of a tty works: it waits through an epoll
// instance). A listening socket is ready for POLLIN when a connection
// waits. It holds no thread while it waits; Cancel of a
// pending poll is Canceled, and closing its port cancels it.
func Poll(cb *aiocb.AIOCB) error {
	return submitOne(cb, aiocb.OpPoll)
}

func submitOne(cb *aiocb.AIOCB, op aiocb.Opcode) error {
	r, c, err := prepare(cb, op)
	if err != nil {
		return err
	}
	one := [1]*engine.Request{r}
	if e := c.Submit(one[:]); e != 0 {
		return errno(e)
	}
	return nil
}

// Error is aio_error: syscall.EINPROGRESS while cb's request is in flight,
// nil once it succeeded, syscall.ECANCELED if it was cancelled, otherwise
// the request's errno. It reaps the request's context first, without
// blocking, so the status is final as soon as the kernel has finished,
// whether or not anyone harvests its port. An AIOCB never submitted (or
// nil) is EINVAL.
func Error(cb *aiocb.AIOCB) error {
	if cb == nil {
		return errno(syscall.EINVAL)
	}
	return engine.RequestOf(cb).Status()
}

// Return is aio_return: the byte count of cb's final request, exactly
// once; -1 and its error when it failed (ECANCELED when cancelled). A call
// while in flight is EINPROGRESS; a second call, or one on an AIOCB never
// submitted, is EINVAL.
func Return(cb *aiocb.AIOCB) (int, error) {
	if cb == nil {
		return -1, errno(syscall.EINVAL)
	}
	return engine.RequestOf(cb).Return()
}

// Suspend is aio_suspend: it returns nil once at least one request of list
// is final (nil entries, and AIOCBs never submitted, are ignored), or EAGAIN
// when timeout passes first; Infinite waits without limit and 0 polls. Any
// number of goroutines may suspend at once. It harvests nothing: packets of
// port requests stay on their ports. While it waits it drives the context
// of the requests (parking on its eventfd); with requests spread over
// several contexts it also polls them every millisecond.
func Suspend(list []*aiocb.AIOCB, timeout time.Duration) error {
	var reqs []*engine.Request
	var ctxs []*engine.Context
	for _, cb := range list {
		if cb == nil {
			continue
		}
		r := engine.RequestOf(cb)
		// In flight first: a request can finish between two looks, never
		// go back in flight (its owner is the one waiting), so this order
		// cannot miss one that finished meanwhile.
		if !r.InFlight() {
			if r.Done() {
				return nil
			}
			continue // never submitted
		}
		reqs = append(reqs, r)
		ctxs = appendCtx(ctxs, r.Context())
	}
	if len(reqs) == 0 {
		return errno(syscall.EINVAL)
	}
	cond := func() bool {
		for _, r := range reqs {
			if r.Done() {
				return true
			}
		}
		return false
	}
	if timeout == 0 {
		for _, c := range ctxs {
			c.Poll()
		}
		if cond() {
			return nil
		}
		return errno(syscall.EAGAIN)
	}
	if !engine.Await(ctxs, cond, deadlineOf(timeout)) {
		return errno(syscall.EAGAIN)
	}
	return nil
}

func appendCtx(ctxs []*engine.Context, c *engine.Context) []*engine.Context {
	if c == nil {
		// Claimed by a submit still running in another goroutine, which
		// has not given it a slot yet: Await polls until it has one.
		return ctxs
	}
	for _, o := range ctxs {
		if o == c {
			return ctxs
		}
	}
	return append(ctxs, c)
}

func deadlineOf(timeout time.Duration) time.Time {
	if timeout < 0 {
		return time.Time{}
	}
	return time.Now().Add(timeout)
}
