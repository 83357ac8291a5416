package libaio

import (
	"errors"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/port"
)

// Callback is libaio's io_callback_t: it receives a completed request, the
// bytes it transferred (res) and its error (libaio's negative res or res2).
type Callback func(cb *aiocb.AIOCB, res int, err error)

// SetCallback is io_set_callback: Run or Wait calls fn when cb's next
// request completes. The callback is used once: it is forgotten when that
// completion is delivered (by Run, Wait or GetEvents) or the request is
// cancelled, so set it again before submitting cb again (libaio's io_prep_*
// clear it the same way). fn == nil forgets the callback set for cb.
// SetCallback is usually called before Submit; from a callback, or for a
// request in flight, it applies to the completion not yet delivered.
func (q *Queue) SetCallback(cb *aiocb.AIOCB, fn Callback) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	if fn == nil {
		delete(q.cbfns, cb)
		return
	}
	q.cbfns[cb] = fn
}

// Run is io_queue_run: it delivers every completion already there, without
// blocking, calling the callback of each request that has one, and returns
// how many it delivered (with a callback or without). Completions that
// callbacks cause (a write submitted from a read's callback, finished
// inside io_submit for a buffered file) are delivered by the same call.
// After Release the error is ErrReleased.
func (q *Queue) Run() (int, error) {
	pb := getPackets()
	defer putPackets(pb)
	n := 0
	for {
		k, err := q.port.GetQueuedCompletionStatusEx(pb.p[:], 0)
		for i := range k {
			ev, fn := q.takeFn(&pb.p[i])
			pb.p[i] = completion.Packet{}
			if fn != nil {
				fn(ev.CB, ev.Res, ev.Err)
			}
			n++
		}
		switch {
		case errors.Is(err, port.ErrTimeout):
			return n, nil
		case err != nil:
			return n, err
		}
	}
}

// Wait is io_queue_wait: it waits for one completion, at most timeout
// (Infinite blocks, 0 polls), and calls its request's callback, if any,
// before returning. It returns port.ErrTimeout (errors.Is(err,
// os.ErrDeadlineExceeded) is true) when none came in time, and ErrReleased
// after Release.
func (q *Queue) Wait(timeout time.Duration) error {
	pkt, err := q.port.GetQueuedCompletionStatus(timeout)
	if err != nil {
		return err
	}
	ev, fn := q.takeFn(&pkt)
	if fn != nil {
		fn(ev.CB, ev.Res, ev.Err)
	}
	return nil
}
