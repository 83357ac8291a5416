package libaio

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/internal/check"
	"github.com/goiocp/goiocp/submit"
)

// SubmitError is the error of a Submit that did not queue every request:
// Index is the position in Submit's slice of the first request not queued
// and Err why (a syscall.Errno; errors.Is(err, syscall.EAGAIN) ...).
type SubmitError struct {
	Index int
	Err   error
}

func (e *SubmitError) Error() string {
	return fmt.Sprintf("submit request %d: %v", e.Index, e.Err)
}

// Unwrap returns Err.
func (e *SubmitError) Unwrap() error { return e.Err }

// Submit is io_submit: it queues the requests of cbs, filled by the Prep
// functions (or by hand), and returns how many it queued. Each completes to
// the queue's port: Submit sets each AIOCB's Flags to aiocb.Extended,
// Version to aiocb.Vers2 and IOCPFD to the port, and associates each file
// with the port (key 0) the first time it sees it. All the requests reach
// the kernel in one io_submit (submit.ListIO with submit.NoWait).
//
// Like io_submit, Submit takes the requests in order and stops at the first
// it cannot queue, returning the count before it and a *SubmitError naming
// it: a nil entry, an unknown Opcode (OpNop included), a bad Sigevent, more
// than IOV_MAX iovecs, a negative Offset or an Offset+Nbytes overflow, a
// Reqprio outside 0..20 (EINVAL); a file that is not open (EBADF); an AIOCB
// already in flight on the queue (EBUSY); no room left, Depth requests being
// in flight (EAGAIN; once completions have been delivered, submit the rest
// again). The one difference: when the kernel itself refuses a request (a
// file not open for reading, say), the requests after it in cbs have been
// queued all the same; the count then covers them and the error names the
// first refused.
//
// From a successful Submit until its completion is delivered (GetEvents,
// Run, Wait) or Cancel cancels it, a request and its buffers belong to the
// kernel: the caller must not touch them. An AIOCB must not be in flight
// elsewhere (submitted through package submit, or on another queue).
func (q *Queue) Submit(cbs []*aiocb.AIOCB) (int, error) {
	if len(cbs) == 0 {
		return 0, nil
	}
	if len(cbs) > submit.ListIOMax {
		cbs = cbs[:submit.ListIOMax]
	}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return 0, ErrReleased
	}
	var stop error
	n := 0
	for ; n < len(cbs); n++ {
		if len(q.inflight) == q.port.Depth() {
			stop = syscall.EAGAIN
			break
		}
		if stop = q.admitLocked(cbs[n]); stop != nil {
			break
		}
	}
	list := cbs[:n]
	q.mu.Unlock()
	if n == 0 {
		return 0, &SubmitError{Index: 0, Err: stop}
	}

	err := submit.ListIO(submit.NoWait, list, nil)
	if err != nil {
		n, err = q.sortOut(list, err)
		return n, err
	}
	if stop != nil {
		return n, &SubmitError{Index: n, Err: stop}
	}
	return n, nil
}

// admitLocked checks cb, fills its extended fields, associates its file
// and records it in flight. It returns why cb cannot be queued, or nil.
func (q *Queue) admitLocked(cb *aiocb.AIOCB) error {
	if cb == nil {
		return syscall.EINVAL
	}
	if _, busy := q.inflight[cb]; busy {
		return syscall.EBUSY
	}
	if cb.Opcode == aiocb.OpNop {
		return syscall.EINVAL // io_submit has no no-op to queue
	}
	if e := check.Request(cb, cb.Opcode); e != 0 {
		return e
	}
	if _, ok := q.assoc[cb.Fildes]; !ok {
		if err := q.port.Associate(cb.Fildes, 0); err != nil {
			var errno syscall.Errno
			if errors.As(err, &errno) {
				return errno
			}
			return err
		}
		q.assoc[cb.Fildes] = struct{}{}
	}
	cb.Flags = aiocb.Extended
	cb.Version = aiocb.Vers2
	cb.IOCPFD = q.port.Fd()
	q.inflight[cb] = struct{}{}
	return nil
}

// sortOut finds which entries of list a failed ListIO queued, forgets the
// others, and returns the count queued and the error naming the first not
// queued. An entry refused before or by io_submit is final at once with
// one of the errnos of refusedErr; one queued is in flight, done, or (in a
// call where another entry was refused, rarely) finished at once by the
// kernel with an errno of its own.
func (q *Queue) sortOut(list []*aiocb.AIOCB, err error) (int, error) {
	whole := !errors.Is(err, syscall.EIO) && !errors.Is(err, syscall.EAGAIN)
	n := 0
	var first *SubmitError
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, cb := range list {
		st := err
		if !whole {
			st = submit.Error(cb)
			if !refusedErr(st) {
				n++
				continue
			}
		}
		delete(q.inflight, cb)
		if first == nil {
			first = &SubmitError{Index: i, Err: st}
		}
	}
	return n, first
}

// refusedErr reports whether st, the status of a ListIO entry right after
// ListIO, means the entry was refused: by validation or by io_submit
// (fs/aio.c io_submit_one and aio_read/aio_write fail with these before the
// I/O starts).
func refusedErr(st error) bool {
	for _, e := range [...]syscall.Errno{syscall.EBADF, syscall.EINVAL, syscall.EFAULT,
		syscall.EAGAIN, syscall.EOPNOTSUPP, syscall.EBUSY} {
		if errors.Is(st, e) {
			return true
		}
	}
	return false
}
