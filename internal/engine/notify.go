package engine

import "time"

// Notifications must fire when a request finishes even if nobody waits on
// its context: POSIX delivers aio_sigevent asynchronously. A context with
// such requests in flight runs a reaper goroutine that drives it (or, when
// another goroutine already drives it, waits for that one's reaps) until
// none is left; then the goroutine exits.

// notifies reports whether r's completion must be noticed without a
// waiter: it has a notification, or its ListIO group has one.
func (r *Request) notifies() bool {
	return r.Sev.Notify != NotifyNone || (r.Group != nil && r.Group.sev.Notify != NotifyNone)
}

// ensureReaper starts the reaper goroutine if requests that notify are in
// flight and none runs.
func (c *Context) ensureReaper() {
	if c.notifying.Load() > 0 && c.reaping.CompareAndSwap(false, true) {
		go c.reaper()
	}
}

func (c *Context) reaper() {
	ch := make(chan struct{}, 1)
	c.Listen(ch)
	defer c.Unlisten(ch)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		c.Poll()
		if c.notifying.Load() == 0 || c.Closed() {
			c.reaping.Store(false)
			// A submit may have counted a request after the load above and
			// seen the reaper still running: look again.
			if c.notifying.Load() == 0 || c.Closed() || !c.reaping.CompareAndSwap(false, true) {
				return
			}
			continue
		}
		if c.TryDrive() {
			_ = c.Park(time.Now().Add(100 * time.Millisecond))
			c.Poll()
			c.ReleaseDrive()
			continue
		}
		t.Reset(10 * time.Millisecond)
		select {
		case <-ch:
		case <-t.C:
		}
	}
}
