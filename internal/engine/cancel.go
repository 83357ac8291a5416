package engine

import (
	"syscall"

	"github.com/goiocp/goiocp/internal/abi"
)

// CancelCounts is what a cancellation found.
type CancelCounts struct {
	Canceled    int // made final with ECANCELED (or cancellation started in the kernel)
	NotCanceled int // in flight and beyond reach: the kernel runs them
}

// Cancel cancels the in-flight requests on fd: only only when it is not
// nil, else all of them, in every context. A request still held in user
// space (an fsync waiting for earlier requests) is cancelled for real: it
// becomes final with ECANCELED, its notification fires, and it makes no
// packet. A request the kernel has is offered to the kernel queue's
// cancellation: AIO's io_cancel refuses regular files, io_uring cancels what
// waits in it or in its io-wq workers. What it refuses is counted
// NotCanceled and completes normally.
func Cancel(fd int, only *Request) CancelCounts {
	var cc CancelCounts
	var ctxs []*Context
	if only != nil {
		if !only.InFlight() {
			return cc
		}
		ctxs = []*Context{only.ctx.Load()}
	} else {
		ctxs = contexts()
	}
	for _, c := range ctxs {
		c.Poll() // what the kernel has finished is not cancellable
		var userspace, streams, polls []*Request
		var later []*laterCancel
		c.mu.Lock()
		if c.closed {
			// Close is draining it; those requests finish normally.
			for i := range c.slots {
				if r := c.slots[i].req; r != nil && r.Fd == fd && (only == nil || r == only) {
					cc.NotCanceled++
				}
			}
			c.mu.Unlock()
			continue
		}
		for i := range c.slots {
			r := c.slots[i].req
			if r == nil || r.Fd != fd || (only != nil && r != only) || r.canceled {
				continue
			}
			if r.worker == workerQueued {
				r.canceled = true // the worker finishes it with ECANCELED
				cc.Canceled++
				continue
			}
			if r.worker == workerRunning {
				cc.NotCanceled++
				continue
			}
			if r.stream != nil {
				streams = append(streams, r) // see stream.go
				continue
			}
			if r.held.Load() != nil {
				r.canceled = true
				userspace = append(userspace, r)
				continue
			}
			if c.q.kind() == KindIOURing {
				// io_uring's cancellation may wait for a worker to stop:
				// not under c.mu. Marked now, r's completion tells a
				// cancellation from a run (settleCanceled).
				r.canceled = true
				l := &laterCancel{r: r, ref: slotRef{int32(i), c.slots[i].gen}, gen: r.Gen(), cb: c.iocbs[i]}
				r.cancelNote = l
				later = append(later, l)
				continue
			}
			if c.q.cancel(&c.iocbs[i]) == cancelStarted {
				r.canceled = true
				cc.Canceled++
				if r.Cmd == abi.IOCB_CMD_POLL {
					polls = append(polls, r)
				}
			} else {
				cc.NotCanceled++
			}
		}
		c.mu.Unlock()
		for _, l := range later {
			// IORING_REGISTER_SYNC_CANCEL also says 0 for a request that
			// ran to its end while it waited, so the request's own
			// completion tells (settleCanceled notes it). The ring may be
			// closed meanwhile (the request done, Close drained it), its
			// fd even another port's: life keeps it, dead says so.
			res := cancelNotFound
			c.life.RLock()
			if !c.dead {
				res = c.q.cancel(&l.cb)
			}
			c.life.RUnlock()
			if res == cancelStarted {
				c.awaitFinal(l.r, l.gen)
			}
			c.mu.Lock()
			if s := &c.slots[l.ref.i]; s.req == l.r && s.gen == l.ref.gen {
				// Still in flight: beyond reach, it runs. If it was told to
				// stop, an EINTR it ends with is reported as ECANCELED.
				l.r.canceled, l.r.cancelNote = false, nil
				l.r.cancelTried = res == cancelRunning
				cc.NotCanceled++
			} else if l.canceled {
				cc.Canceled++
			} else {
				cc.NotCanceled++
			}
			c.mu.Unlock()
		}
		for _, r := range userspace {
			c.Finish(r, -int64(syscall.ECANCELED))
			cc.Canceled++
		}
		for _, r := range streams {
			if c.cancelStream(r, true) {
				cc.Canceled++
			}
		}
		// A cancelled POLL is final once its event is reaped, which the
		// kernel posts within microseconds: Canceled means final.
		for _, r := range polls {
			c.awaitFinal(r, r.Gen())
		}
	}
	return cc
}

// laterCancel is an io_uring request Cancel offers to the kernel once
// c.mu is released: its slot at the time, its generation, and a copy of
// its iocb.
type laterCancel struct {
	r        *Request
	ref      slotRef
	gen      uint32
	cb       abi.IOCB
	canceled bool // r's completion said it was cancelled (settleCanceled), under c.mu
}

// cancelWaiting cancels, for Close, the requests of c that wait for a
// stream: stream requests and POLLs, which may never complete by
// themselves. It does not wait for them to be final.
func (c *Context) cancelWaiting() {
	var streams []*Request
	c.mu.Lock()
	for i := range c.slots {
		r := c.slots[i].req
		switch {
		case r == nil:
		case r.stream != nil:
			streams = append(streams, r)
		case r.Cmd == abi.IOCB_CMD_POLL && !r.canceled:
			if c.q.cancel(&c.iocbs[i]) == cancelStarted {
				r.canceled = true
			}
		}
	}
	c.mu.Unlock()
	for _, r := range streams {
		c.cancelStream(r, false)
	}
}
