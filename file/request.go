package file

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/submit"
)

// Request states, request.state, under its port's mutex.
const (
	stPending   = iota // queued on its port, not yet submitted
	stSubmitted        // in the kernel (or the engine)
	stDone             // final; res and err are set and ch has its token
)

// request is one port request of a call. Its AIOCB's Sigevent.Value points
// back at it, as aio(7)'s example keeps its struct ioRequest in
// sigev_value: the harvester finds the request from the packet's AIOCB.
type request struct {
	cb        aiocb.AIOCB
	ch        chan struct{} // a token once final
	sp        *sharedPort
	state     int
	abandoned bool // its packet, if any, is to be dropped: not reused
	res       int
	err       error
}

var requests = sync.Pool{New: func() any {
	r := &request{ch: make(chan struct{}, 1)}
	r.cb.Sigevent.Value = r
	return r
}}

func getRequest() *request { return requests.Get().(*request) }

// put recycles r once it is final and its token taken.
func (r *request) put() {
	if r.abandoned {
		return // a packet for it may still come
	}
	r.cb.Buf, r.sp, r.err = nil, nil, nil
	requests.Put(r)
}

// run submits r on a port of pl and waits until it is final or ctx is
// done, and returns its byte count and error. On ctx done it cancels r
// when it can and otherwise waits for it, so r's buffer is never touched
// after run returns; it then returns ctx's error.
func (r *request) run(ctx context.Context, pl *pool) (int, error) {
	sp := pl.pick()
	sp.enqueue(r)
	if sp.await(r, ctx.Done()) {
		return r.res, r.err
	}
	sp.mu.Lock()
	switch r.state {
	case stPending:
		for i, o := range sp.pending {
			if o == r {
				copy(sp.pending[i:], sp.pending[i+1:])
				sp.pending[len(sp.pending)-1] = nil
				sp.pending = sp.pending[:len(sp.pending)-1]
				break
			}
		}
		r.state = stDone
		active.Dec()
		sp.mu.Unlock()
		return 0, ctx.Err()
	case stSubmitted:
		sp.mu.Unlock()
		if res, _ := submit.Cancel(r.cb.Fildes, &r.cb); res == submit.Canceled {
			// Final with ECANCELED and no packet: nobody harvests it, so
			// count it out here, unless it raced to a packet. A request
			// waiting for an engine worker is cancelled but final only
			// once the worker takes it: wait for that, so that r is not
			// reused while the engine still has it.
			for d := time.Microsecond; errors.Is(submit.Error(&r.cb), syscall.EINPROGRESS); d = min(2*d, time.Millisecond) {
				time.Sleep(d)
			}
			sp.mu.Lock()
			// ECANCELED: no packet comes. Any other final status came
			// from the I/O itself, and its packet is on its way.
			if r.state != stDone && errors.Is(submit.Error(&r.cb), syscall.ECANCELED) {
				sp.inflight--
				r.state = stDone
				active.Dec()
				submit.Return(&r.cb)
				sp.mu.Unlock()
				return 0, ctx.Err()
			}
			sp.mu.Unlock()
		}
	default:
		sp.mu.Unlock()
	}
	sp.await(r, nil) // the kernel has it: wait, so the buffer is ours again
	if r.err != nil && errors.Is(r.err, syscall.ECANCELED) {
		return 0, ctx.Err()
	}
	return r.res, ctx.Err()
}
