package port

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/completion"
)

// waiter is a goroutine waiting on the port. Deliveries write into buf and
// count n under Port.mu; the waiter reads them after it is woken and has
// taken Port.mu.
type waiter struct {
	buf    []completion.Packet
	want   int
	n      int
	closed bool
	ch     chan struct{} // wake token, capacity 1
	timer  *time.Timer
}

func (w *waiter) wake() {
	select {
	case w.ch <- struct{}{}:
	default:
	}
}

// GetQueuedCompletionStatus dequeues one packet, waiting at most timeout:
// Infinite (or any negative duration) blocks, 0 polls. A failed I/O is a packet with Err set and a nil
// error; the error is ErrTimeout or ErrClosed.
func (p *Port) GetQueuedCompletionStatus(timeout time.Duration) (completion.Packet, error) {
	var pkt completion.Packet
	n, err := p.get(&pkt, 1, deadlineOf(timeout), timeout == 0, nil)
	if n == 0 {
		return completion.Packet{}, err
	}
	return pkt, nil
}

// GetQueuedCompletionStatusEx dequeues up to len(pkts) packets and returns
// how many. It returns as soon as it has one, and never blocks once it has
// one; timeout is as for GetQueuedCompletionStatus. An empty pkts is EINVAL
// (Windows rejects a count of 0), so a loop cannot mistake it for a wake-up.
func (p *Port) GetQueuedCompletionStatusEx(pkts []completion.Packet, timeout time.Duration) (int, error) {
	if len(pkts) == 0 {
		return 0, errEmpty
	}
	return p.getMany(pkts, deadlineOf(timeout), timeout == 0, nil)
}

// Wait dequeues one packet, waiting until ctx is done (its deadline, if
// any, is the timeout). On cancellation it returns ctx.Err().
func (p *Port) Wait(ctx context.Context) (completion.Packet, error) {
	var pkt completion.Packet
	if err := ctx.Err(); err != nil {
		// Still hand out a packet that is already there.
		if n, _ := p.get(&pkt, 1, time.Time{}, true, nil); n == 1 {
			return pkt, nil
		}
		return completion.Packet{}, err
	}
	deadline, _ := ctx.Deadline()
	stop := context.AfterFunc(ctx, p.ctx.Kick)
	defer stop()
	n, err := p.get(&pkt, 1, deadline, false, ctx.Done())
	if n == 0 {
		if err == ErrTimeout {
			// Our clock may pass the deadline a moment before ctx's does.
			if err = ctx.Err(); err == nil {
				err = context.DeadlineExceeded
			}
		}
		return completion.Packet{}, err
	}
	return pkt, nil
}

var errEmpty = fmt.Errorf("get queued completion status: no room for a packet: %w", syscall.EINVAL)

func deadlineOf(timeout time.Duration) time.Time {
	if timeout <= 0 {
		return time.Time{}
	}
	return time.Now().Add(timeout)
}

// get is getMany for a single packet into *pkt, kept apart so that pkt does
// not escape on the fast path.
func (p *Port) get(pkt *completion.Packet, _ int, deadline time.Time, poll bool, done <-chan struct{}) (int, error) {
	if p.popFast(pkt) {
		p.dequeuedN(1)
		return 1, nil
	}
	if poll {
		return 0, p.timeoutOrClosed()
	}
	n, err := p.park(1, func(w *waiter) { *pkt = w.buf[0] }, deadline, done)
	p.dequeuedN(n)
	return n, err
}

func (p *Port) getMany(pkts []completion.Packet, deadline time.Time, poll bool, done <-chan struct{}) (int, error) {
	if n := p.popManyFast(pkts); n > 0 {
		p.dequeuedN(n)
		return n, nil
	}
	if poll {
		return 0, p.timeoutOrClosed()
	}
	n, err := p.park(len(pkts), func(w *waiter) { copy(pkts, w.buf[:w.n]) }, deadline, done)
	p.dequeuedN(n)
	return n, err
}

func (p *Port) timeoutOrClosed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	return ErrTimeout
}

// popFast takes one queued packet, reaping the ring once if the queue is
// empty. It makes no system call.
func (p *Port) popFast(pkt *completion.Packet) bool {
	for reaped := false; ; reaped = true {
		p.mu.Lock()
		if !p.closed && p.q.len() > 0 {
			it := p.q.pop()
			p.mu.Unlock()
			if it.req != nil {
				it.req.Harvested()
			}
			*pkt = it.pkt
			return true
		}
		p.mu.Unlock()
		if reaped || p.ctx.Poll() == 0 {
			return false
		}
	}
}

// popManyFast takes up to len(pkts) queued packets, reaping the ring once if
// the queue is empty.
func (p *Port) popManyFast(pkts []completion.Packet) int {
	for reaped := false; ; reaped = true {
		n := 0
		p.mu.Lock()
		if !p.closed {
			for n < len(pkts) && p.q.len() > 0 {
				it := p.q.pop()
				if it.req != nil {
					it.req.Harvested()
				}
				pkts[n] = it.pkt
				n++
			}
		}
		p.mu.Unlock()
		if n > 0 || reaped || p.ctx.Poll() == 0 {
			return n
		}
	}
}

// park waits as a waiter for up to want packets; take copies them out.
func (p *Port) park(want int, take func(*waiter), deadline time.Time, done <-chan struct{}) (int, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return 0, ErrClosed
	}
	w := p.getWaiterLocked(want)
	// A reap between the fast path and here may have queued packets.
	for w.n < want && p.q.len() > 0 {
		it := p.q.pop()
		if it.req != nil {
			it.req.Harvested()
		}
		w.buf[w.n] = it.pkt
		w.n++
	}
	if w.n > 0 {
		return p.leaveLocked(w, take)
	}
	p.waiters = append(p.waiters, w)
	p.mu.Unlock()

	for {
		if p.ctx.TryDrive() {
			p.mu.Lock()
			parked := w.n == 0 && !w.closed
			if parked {
				p.driver = w
			}
			p.mu.Unlock()
			if parked {
				_ = p.ctx.Park(deadline)
				p.mu.Lock()
				p.driver = nil
				p.mu.Unlock()
			}
			p.ctx.Poll()
			p.ctx.ReleaseDrive()
		} else {
			var tc <-chan time.Time
			if !deadline.IsZero() {
				if w.timer == nil {
					w.timer = time.NewTimer(time.Until(deadline))
				} else {
					w.timer.Reset(time.Until(deadline))
				}
				tc = w.timer.C
			}
			select {
			case <-w.ch:
			case <-tc:
			case <-done:
			}
			if w.timer != nil {
				w.timer.Stop()
			}
		}

		p.mu.Lock()
		if w.n > 0 {
			return p.leaveLocked(w, take)
		}
		if w.closed {
			p.putWaiterLocked(w)
			p.mu.Unlock()
			return 0, ErrClosed
		}
		expired := !deadline.IsZero() && !time.Now().Before(deadline)
		canceled := false
		if done != nil {
			select {
			case <-done:
				canceled = true
			default:
			}
		}
		if expired || canceled {
			p.removeWaiterLocked(w)
			p.putWaiterLocked(w)
			p.mu.Unlock()
			return 0, ErrTimeout
		}
		p.mu.Unlock()
	}
}

// leaveLocked copies out what w received, recycles w and unlocks p.mu.
func (p *Port) leaveLocked(w *waiter, take func(*waiter)) (int, error) {
	n := w.n
	take(w)
	p.putWaiterLocked(w)
	p.mu.Unlock()
	return n, nil
}

// removeWaiterLocked takes w off the stack after a timeout and, since w may
// have been told to take the driver role, passes that on.
func (p *Port) removeWaiterLocked(w *waiter) {
	for i := len(p.waiters) - 1; i >= 0; i-- {
		if p.waiters[i] == w {
			copy(p.waiters[i:], p.waiters[i+1:])
			p.waiters[len(p.waiters)-1] = nil
			p.waiters = p.waiters[:len(p.waiters)-1]
			break
		}
	}
	if len(p.waiters) > 0 {
		p.waiters[len(p.waiters)-1].wake()
	}
}

// passDrive tells the most recent waiter that the driver role is free. It
// is the context's OnRelease hook.
func (p *Port) passDrive() {
	p.mu.Lock()
	if len(p.waiters) > 0 {
		p.waiters[len(p.waiters)-1].wake()
	}
	p.mu.Unlock()
}

func (p *Port) getWaiterLocked(want int) *waiter {
	var w *waiter
	if n := len(p.pool); n > 0 {
		w = p.pool[n-1]
		p.pool[n-1] = nil
		p.pool = p.pool[:n-1]
	} else {
		w = &waiter{ch: make(chan struct{}, 1)}
	}
	if cap(w.buf) < want {
		w.buf = make([]completion.Packet, want)
	}
	w.buf, w.want, w.n, w.closed = w.buf[:want], want, 0, false
	select { // a stale token from an earlier wait
	case <-w.ch:
	default:
	}
	return w
}

func (p *Port) putWaiterLocked(w *waiter) {
	clear(w.buf[:w.n])
	w.n = 0
	p.pool = append(p.pool, w)
}
