package engine

import (
	"os"
	"time"

	"github.com/goiocp/goiocp/internal/sys"
)

// The driver role. At most one goroutine at a time parks on a context's
// eventfd, in the Go netpoller, so no OS thread blocks while it waits. The
// driver reaps what woke it and hands the packets out; other waiters wait on
// channels and are told through listeners or the OnRelease hook when the
// role is free again.

// TryDrive takes the driver role if nobody holds it and the context is not
// closed.
func (c *Context) TryDrive() bool {
	if !c.drive.TryLock() {
		return false
	}
	if c.isClosed() {
		c.drive.Unlock()
		return false
	}
	return true
}

// Park waits, as the driver, until the eventfd is readable or deadline
// passes (the zero time: no deadline), consuming its counter. A completion
// posted after the caller last reaped keeps the counter non-zero, so no
// wake-up is lost between reaping and parking. Park returns nil when woken,
// os.ErrDeadlineExceeded on timeout.
//
// A driver parks in the netpoller unless requests without the eventfd
// signal are in flight, or the context is in kernel-wait mode: then it
// sleeps in io_getevents (see signal.go and kwait.go).
func (c *Context) Park(deadline time.Time) error {
	c.flushArms()
	if c.kernelWait {
		return c.parkKernel(deadline)
	}
	if c.q.kind() == KindIOURing {
		return c.parkURing(deadline)
	}
	start := time.Now()
	how := c.parkHow()
	if how == waitKernel {
		err := c.parkKernel(deadline)
		kernelSleepers.Add(-1)
		c.sleptKernel(time.Since(start))
		return err
	}
	defer func() { c.unparkNet(time.Since(start)) }()
	if tick := start.Add(pollTick); how == waitPolling && (deadline.IsZero() || tick.Before(deadline)) {
		// Too many threads asleep in io_getevents already: wait in the
		// netpoller, but only for pollTick at a time, since the quiet
		// requests in flight cannot wake it. The caller reaps and parks
		// again.
		if err := c.parkNetpoll(tick); err != os.ErrDeadlineExceeded {
			return err
		}
		return nil
	}
	return c.parkNetpoll(deadline)
}

// parkURing is Park on io_uring outside kernel-wait mode: the ring
// signals the eventfd on every completion, so the driver parks in the
// netpoller unless completions already wait.
//
// The signal is not turned off while no driver parks, as AIO's adaptive
// signalling does per request: the ring's switch (IORING_CQ_EVENTFD_DISABLED)
// is read by the kernel after it publishes a completion with no full
// barrier between the two, so a driver turning it on and then finding the
// CQ empty could miss the completion published meanwhile, and sleep.
func (c *Context) parkURing(deadline time.Time) error {
	if c.q.pending() {
		return nil // the caller's Poll takes them
	}
	return c.parkNetpoll(deadline)
}

// parkNetpoll waits in the netpoller until the eventfd is readable or
// deadline passes, consuming its count.
func (c *Context) parkNetpoll(deadline time.Time) error {
	if !deadline.Equal(c.deadline) {
		if err := c.efile.SetReadDeadline(deadline); err != nil {
			return err
		}
		c.deadline = deadline
	}
	_, err := c.efile.Read(c.efbuf[:])
	return err
}

// ReleaseDrive gives the driver role up and tells the other waiters.
func (c *Context) ReleaseDrive() {
	c.drive.Unlock()
	if c.OnRelease != nil {
		c.OnRelease()
	}
	c.notifyListeners()
}

// Kick makes the eventfd readable, waking the driver (or making its next
// Park return at once). It does nothing once the context is destroyed.
func (c *Context) Kick() {
	c.life.RLock()
	if !c.dead {
		_ = sys.EventfdAdd(c.efd)
	}
	c.life.RUnlock()
}

// Listen registers ch to receive a token (a non-blocking send) whenever a
// reap made requests final or the driver role was released.
func (c *Context) Listen(ch chan struct{}) {
	c.lisMu.Lock()
	c.lis = append(c.lis, ch)
	c.nlis.Store(int32(len(c.lis)))
	c.lisMu.Unlock()
}

// Unlisten removes ch.
func (c *Context) Unlisten(ch chan struct{}) {
	c.lisMu.Lock()
	for i, l := range c.lis {
		if l == ch {
			c.lis[i] = c.lis[len(c.lis)-1]
			c.lis[len(c.lis)-1] = nil
			c.lis = c.lis[:len(c.lis)-1]
			break
		}
	}
	c.nlis.Store(int32(len(c.lis)))
	c.lisMu.Unlock()
}

func (c *Context) notifyListeners() {
	if c.nlis.Load() == 0 {
		return
	}
	c.lisMu.Lock()
	for _, ch := range c.lis {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	c.lisMu.Unlock()
}

// Await waits until cond reports true or deadline passes (zero: never),
// reaping ctxs and driving one of them when nobody else does. It returns
// false on timeout. With several contexts it polls the ones it cannot
// drive every millisecond (with none, it checks cond every millisecond);
// cond is checked after every reap. cond must read what reaps change
// through atomics or under a mutex (a request's state, a group's count),
// so that a reap finishing after cond looked is sure to see the driver
// waiting and kick it. ctxs must hold every context whose reaps can make
// cond true, even one with nothing left in flight: a reap makes requests
// final before it runs their effects (a ListIO group's count), and then
// wakes only its own context's waiters.
func Await(ctxs []*Context, cond func() bool, deadline time.Time) bool {
	ch := make(chan struct{}, 1)
	for _, c := range ctxs {
		c.Listen(ch)
	}
	defer func() {
		for _, c := range ctxs {
			c.Unlisten(ch)
		}
	}()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		for _, c := range ctxs {
			c.pollLive()
		}
		if cond() {
			return true
		}
		now := time.Now()
		if !deadline.IsZero() && !now.Before(deadline) {
			return false
		}
		wake := deadline
		if len(ctxs) != 1 {
			if tick := now.Add(time.Millisecond); wake.IsZero() || tick.Before(wake) {
				wake = tick
			}
		}
		if len(ctxs) > 0 && ctxs[0].TryDrive() {
			c := ctxs[0]
			// Another goroutine's reap may have consumed the eventfd's count
			// and made requests final since cond was checked. Look again
			// with awaiting set: a reap finishing after that kicks.
			// The mark is needed only until Park returns: the loop looks
			// at cond again before it parks next. Dropping it before our
			// own Poll keeps that reap from kicking us.
			c.awaiting.Add(1)
			parked := !cond()
			if parked {
				_ = c.Park(wake)
			}
			c.awaiting.Add(-1)
			if parked {
				c.Poll()
			}
			c.ReleaseDrive()
			continue
		}
		var tc <-chan time.Time
		if !wake.IsZero() {
			d := time.Until(wake)
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			tc = timer.C
		}
		select {
		case <-ch:
		case <-tc:
		}
	}
}
