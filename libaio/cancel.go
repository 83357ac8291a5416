package libaio

import (
	"fmt"
	"syscall"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/submit"
)

// Cancel is io_cancel: it tries to cancel cb's request, submitted through
// this queue and not yet delivered. When it can, the request is final with
// ECANCELED, it will deliver nothing (no event, no callback: its callback
// is forgotten), and Cancel returns its Event (Err syscall.ECANCELED), as
// io_cancel fills its io_event.
//
// Linux cannot cancel a read or write of a regular file once the kernel has
// it, nor a request already complete: Cancel then returns an error wrapping
// syscall.EAGAIN (as io_cancel does) and the completion is delivered as
// usual. What goiocp still holds in user space, an fsync waiting for
// earlier requests on its file, is really cancelled, and so are a pending
// poll (PrepPoll) and a read or write of a pipe, socket or tty still
// waiting for its stream. A cb not in flight on
// this queue is EINVAL.
func (q *Queue) Cancel(cb *aiocb.AIOCB) (Event, error) {
	q.mu.Lock()
	_, ok := q.inflight[cb]
	closed := q.closed
	q.mu.Unlock()
	if closed {
		return Event{}, ErrReleased
	}
	if !ok {
		return Event{}, fmt.Errorf("cancel request: not in flight on this queue: %w", syscall.EINVAL)
	}
	res, err := submit.Cancel(cb.Fildes, cb)
	if err != nil {
		return Event{}, fmt.Errorf("cancel request: %w", err)
	}
	switch res {
	case submit.Canceled:
		q.mu.Lock()
		delete(q.inflight, cb)
		delete(q.cbfns, cb)
		q.mu.Unlock()
		return Event{CB: cb, Err: syscall.ECANCELED}, nil
	case submit.NotCanceled:
		return Event{}, fmt.Errorf("cancel request: running in the kernel, its completion will be delivered: %w", syscall.EAGAIN)
	}
	return Event{}, fmt.Errorf("cancel request: already complete, its completion will be delivered: %w", syscall.EAGAIN)
}
