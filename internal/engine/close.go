package engine

import (
	"time"
)

// Close is the context's close protocol: refuse new requests, wake the
// driver, take the driver role, wait until every request holding a slot is
// final (their results are recorded; the sink, already closed, makes no
// packets), then mark the context dead, destroy the kernel context (which
// also waits for the kernel to let go of every buffer) and close the
// eventfd. The caller wakes its own waiters first.
func (c *Context) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.Kick()
	c.drive.Lock()
	defer c.drive.Unlock()
	for c.InFlight() > 0 {
		// Requests waiting for a stream may never finish by themselves;
		// one whose transfer was running may have armed a POLL since.
		c.cancelWaiting()
		if c.Poll() == 0 && c.InFlight() > 0 {
			_ = c.Park(time.Now().Add(10 * time.Millisecond))
		}
	}
	c.mu.Lock()
	if c.quiet != 0 {
		quietLeaks.Add(1)
	}
	c.mu.Unlock()
	c.life.Lock()
	c.dead = true
	c.life.Unlock()
	err := c.q.destroy()
	unregisterContext(c)
	if cerr := c.efile.Close(); err == nil {
		err = cerr
	}
	return err
}

// Closed reports whether Close has begun.
func (c *Context) Closed() bool { return c.isClosed() }
