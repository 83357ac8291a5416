package engine

import (
	"sync/atomic"
	"syscall"

	"github.com/goiocp/goiocp/internal/abi"
	"github.com/goiocp/goiocp/internal/sys"
)

// effect is something that must happen once a request is final, run after
// the ring lock is released: a notification, a ListIO group count, an fsync
// barrier count.
type effect struct {
	sev     Sigevent
	group   *Group
	barrier *barrier
}

func (e *effect) run() {
	switch {
	case e.group != nil:
		e.group.done()
	case e.barrier != nil:
		e.barrier.priorDone()
	default:
		e.sev.fire()
	}
}

// Poll reaps every event the kernel has posted to c's ring, without
// blocking, and returns how many it reaped. When the ring is empty it costs
// a few loads and no system call. Final requests go to the sink in ring
// order; notifications, ListIO groups and fsync barriers run after the locks
// are released. Poll on a closed context reaps nothing.
func (c *Context) Poll() int {
	c.flushArms()
	return c.poll(false)
}

// reapNow is Poll for a submitter that must know every completion posted
// before it was called is final (or held for it): it waits for a reaper
// that has taken events off the ring but not yet handled them.
func (c *Context) reapNow() { c.poll(true) }

func (c *Context) poll(force bool) int {
	c.life.RLock()
	if c.dead || (!force && !c.q.mayHaveEvents() && c.kn.Load() == 0) {
		c.life.RUnlock()
		return 0
	}
	c.reapMu.Lock()
	if c.kernelReaping {
		// A driver sleeps in io_getevents, which takes events off the ring
		// itself: the ring is empty, and a reap now would race the kernel's.
		c.reapMu.Unlock()
		c.life.RUnlock()
		return 0
	}
	total := 0
	if kn := c.kn.Load(); kn > 0 {
		// What a kernel-wait driver's io_getevents left; the reap below
		// reuses the buffer only after.
		total += c.handleLocked(c.events[:kn])
		c.kn.Store(0)
	}
	for {
		n, m := c.reapLocked()
		total += m
		if n < len(c.events) {
			break
		}
	}
	after := c.takeAfterLocked()
	ready := c.takeReadyLocked()
	c.reapMu.Unlock()
	c.life.RUnlock()
	if total > 0 {
		runReapHook()
	}
	c.runAfter(after)
	if ready != nil {
		pollFired(ready)
		c.putReady(ready)
	}
	if total > 0 {
		c.notifyListeners()
		if c.awaiting.Load() > 0 {
			// An Await driver may have consumed the eventfd's count for
			// these events and looked at its condition before they were
			// final: wake it to look again.
			c.Kick()
		}
	}
	return total
}

// pollLive is Poll for callers that may hold a context past its Close.
func (c *Context) pollLive() { c.Poll() }

// takeAfterLocked swaps the queued effects out, so that reapers running
// meanwhile queue into the other buffer; each buffer is owned by at most one
// goroutine at a time. c.reapMu is held.
func (c *Context) takeAfterLocked() []effect {
	if len(c.after) == 0 {
		return nil
	}
	after := c.after
	c.after, c.spare = c.spare, nil
	return after
}

// takeReadyLocked swaps out the stream requests whose POLL fired, as
// takeAfterLocked does the effects. c.reapMu is held.
func (c *Context) takeReadyLocked() []*Request {
	if len(c.ready) == 0 {
		return nil
	}
	ready := c.ready
	c.ready, c.spareReady = c.spareReady, nil
	return ready
}

// putReady recycles a buffer taken by takeReadyLocked.
func (c *Context) putReady(ready []*Request) {
	clear(ready)
	c.reapMu.Lock()
	if c.spareReady == nil {
		c.spareReady = ready[:0]
	}
	c.reapMu.Unlock()
}

// runAfter runs effects taken by takeAfterLocked and recycles their buffer.
func (c *Context) runAfter(after []effect) {
	if after == nil {
		return
	}
	for i := range after {
		after[i].run()
		after[i] = effect{}
	}
	c.reapMu.Lock()
	if c.spare == nil {
		c.spare = after[:0]
	}
	c.reapMu.Unlock()
}

// reapLocked copies one ring's worth of events and makes their requests
// final. It returns how many events it took (n) and how many of them were
// requests' (m). c.reapMu is held.
func (c *Context) reapLocked() (n, m int) {
	n = c.q.reap(c.events)
	if n == 0 {
		return 0, 0
	}
	return n, c.handleLocked(c.events[:n])
}

// handleLocked makes the requests of evs final (or hands them to workers)
// and returns how many events were requests'. c.reapMu is held.
func (c *Context) handleLocked(evs []abi.IOEvent) int {
	runReapHook()
	m := len(evs)
	batch := c.batch[:0]
	c.mu.Lock()
	for _, ev := range evs {
		if ev.Data == pollData {
			// The kernel-wait driver's POLL on the eventfd fired (see
			// kwait.go): a Kick, not a request. The count stays for the
			// next park to consume, as Park's read would.
			c.pollArmed = false
			m--
			continue
		}
		// aio_data is the slot index and the slot's generation: an event
		// for a slot since reused would finish the wrong request.
		i := ev.Data & 0xffffffff
		if i >= uint64(len(c.slots)) || c.slots[i].req == nil || uint32(ev.Data>>32) != c.slots[i].gen {
			staleEvents.Add(1)
			continue
		}
		r := c.slots[i].req
		if s := &c.slots[i]; s.submitting && ev.Res == -int64(syscall.EBADF) {
			// io_uring refused it within its submitter's io_uring_enter
			// (the file is not open, or not for this direction): the
			// submitter refuses it as io_submit does (queue_uring_linux.go).
			s.refused = syscall.EBADF
			continue
		}
		if r.stream != nil {
			// A stream request's POLL fired (or was cancelled): it keeps its
			// slot, and pollFired retries it once the locks are released.
			c.unquietLocked(int32(i))
			r.pollRes = ev.Res
			c.ready = append(c.ready, r)
			continue
		}
		if c.iocbs[i].RWFlags&abi.RWF_NOWAIT != 0 && !r.canceled && unfinished(r, ev.Res) {
			// It would have blocked (EAGAIN), stopped where it would have
			// (a short count), or the file system cannot do it without
			// blocking at all (EOPNOTSUPP, as ext4's buffered writes): a
			// worker finishes it, keeping the slot. Its event is reaped,
			// so it is no longer quiet (freeSlotLocked says so for the
			// others).
			c.unquietLocked(int32(i))
			r.res = max(ev.Res, 0)
			if ev.Res == -int64(syscall.EOPNOTSUPP) {
				c.setModeLocked(r.Fd, r.Cmd, modeBlocking)
			}
			r.worker = workerQueued
			c.toWorkers = append(c.toWorkers, r)
			continue
		}
		r.res = ev.Res
		if r.canceled {
			c.settleCanceled(r, ev.Res)
		} else if r.cancelTried && ev.Res == -int64(syscall.EINTR) {
			r.res = -int64(syscall.ECANCELED) // its io-wq worker was stopped (cancel.go)
		}
		c.freeSlotLocked(r)
		batch = append(batch, r)
	}
	if m > 0 {
		c.calmLocked()
	}
	c.mu.Unlock()
	c.finishBatchLocked(batch)
	clear(batch)
	c.batch = batch[:0]
	for _, r := range c.toWorkers {
		c.dispatch(r)
	}
	clear(c.toWorkers)
	c.toWorkers = c.toWorkers[:0]
	return m
}

// settleCanceled decides whether r, cancelled while in the kernel, was
// cancelled or ran first, from its result res. On AIO a cancelled POLL
// completes with an empty mask, and one that fired first has its events;
// io_uring says ECANCELED, or EINTR for a request whose io-wq worker was
// interrupted, and anything else means it ran.
func (c *Context) settleCanceled(r *Request, res int64) {
	var ran bool
	if c.q.kind() == KindIOURing {
		ran = res != -int64(syscall.ECANCELED) && res != -int64(syscall.EINTR)
	} else {
		ran = res > 0 || (res == 0 && r.Cmd != abi.IOCB_CMD_POLL)
	}
	if l := r.cancelNote; l != nil {
		l.canceled, r.cancelNote = !ran, nil
	}
	if ran {
		r.canceled = false // the cancellation came too late
		return
	}
	r.res = -int64(syscall.ECANCELED)
}

// finishBatchLocked makes every request of batch final with the result
// stored in its res, hands the packet-making ones to the sink, and queues
// the side effects. It reports whether it kicked the eventfd for the sink.
// c.reapMu is held; the requests no longer hold slots.
func (c *Context) finishBatchLocked(batch []*Request) (kicked bool) {
	accepting := c.sink != nil && c.sink.Accepting()
	pkts := c.pkts[:0]
	for _, r := range batch {
		packet := accepting && !r.canceled && !r.doneAtOnce
		c.countFinal(r, packet)
		// r no longer holds a slot, so no fsync can find it and add a
		// barrier: r.barriers is stable without c.mu.
		bs := r.barriers
		r.barriers = nil
		if r.Sev.Notify != NotifyNone {
			c.after = append(c.after, effect{sev: r.Sev})
		}
		if g := r.Group; g != nil {
			c.after = append(c.after, effect{group: g})
		}
		for _, b := range bs {
			c.after = append(c.after, effect{barrier: b})
		}
		r.finish(r.res, packet)
		if packet {
			pkts = append(pkts, r)
		}
	}
	if !accepting {
		if rec, ok := c.sink.(Recorder); ok {
			rec.Record(batch)
		}
	}
	if len(pkts) > 0 {
		ok, kick := c.sink.Deliver(pkts)
		if !ok {
			for _, r := range pkts {
				r.Harvested()
			}
		}
		if kick {
			// The sink handed packets to a waiter parked as driver. The
			// context cannot be dead: these requests held slots until now.
			_ = sys.EventfdAdd(c.efd)
			kicked = true
		}
	}
	clear(pkts)
	c.pkts = pkts[:0]
	return kicked
}

// Finish makes a request that never reached the kernel (a held fsync, a
// request cancelled in user space, one run by a worker) final with res, as
// if its event had been reaped: packet, notification and all. r must hold a
// slot of c.
func (c *Context) Finish(r *Request, res int64) {
	c.reapMu.Lock()
	c.mu.Lock()
	c.freeSlotLocked(r)
	c.mu.Unlock()
	r.res = res
	batch := append(c.batch[:0], r)
	kicked := c.finishBatchLocked(batch)
	clear(batch)
	c.batch = batch[:0]
	after := c.takeAfterLocked()
	c.reapMu.Unlock()
	c.runAfter(after)
	c.notifyListeners()
	// No event reached the ring, so the eventfd did not count this
	// completion: count it (unless handing the packet out already did), so
	// a driver parked (or about to park) on the eventfd wakes and its
	// waiters see the request final.
	if !kicked {
		c.Kick()
	}
}

// staleEvents counts events whose slot was free or reused: the mark of a
// request finished twice, which must not happen.
var staleEvents atomic.Int64

// StaleEvents returns how many stale events the reapers dropped.
func StaleEvents() int64 { return staleEvents.Load() }

// reapHook, when set, runs after a reap took events off the ring and before
// their requests are final, and again before their effects run (ListIO
// groups, notifications): tests widen those windows with it. It is atomic
// because a reaper goroutine an earlier test started may still be reaping
// when the next test sets it.
var reapHook atomic.Pointer[func()]

// runReapHook runs the reap hook, if one is set.
func runReapHook() {
	if f := reapHook.Load(); f != nil {
		(*f)()
	}
}

// SetReapHook sets the reap hook (nil: none) for a test and returns a func
// restoring the previous one.
func SetReapHook(f func()) (restore func()) {
	var p *func()
	if f != nil {
		p = &f
	}
	old := reapHook.Swap(p)
	return func() { reapHook.Store(old) }
}
