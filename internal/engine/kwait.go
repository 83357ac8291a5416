package engine

import (
	"math"
	"os"
	"time"

	"github.com/goiocp/goiocp/internal/abi"
	"github.com/goiocp/goiocp/internal/sys"
	"golang.org/x/sys/unix"
)

// Kernel wait. A driver sleeps inside io_getevents, as fio and libaio
// programs do: the completion wakes the sleeping thread directly, with no
// eventfd signal, no epoll wake-up and no scheduler round trip, at the
// price of one OS thread per sleeping driver. A context in kernel-wait mode
// always waits so and submits every request without RESFD; any other
// context does while requests without RESFD are in flight (signal.go).
//
// Besides completions, a Kick must wake such a driver (posted packets,
// Close, cancellation, a request finished in user space). While it sleeps,
// a POLL iocb for the eventfd is in the kernel, so a Kick (an eventfd write)
// completes it and io_getevents returns; its event carries pollData. The
// eventfd's count is consumed only by a driver about to sleep, as Park's
// read consumes it: a Kick that came before then makes that park return at
// once, so none is lost between a driver's last look and its sleep.
//
// io_getevents takes events off the ring itself, and the user-space reaper
// moves the ring's head without the kernel's lock: the two must never run
// at once. The driver sets kernelReaping under reapMu before it sleeps, and
// Poll reaps nothing while it is set (the ring is empty then: io_getevents
// returns as soon as it is not). The events the kernel returned are kept
// in the reapers' own buffer, events, which no reap touches meanwhile, and
// made final by the next Poll, the driver's own, like any reap.

// pollData is the aio_data of the POLL iocb: no slot's (index, generation).
const pollData = math.MaxUint64

// SetKernelWait puts c in kernel-wait mode. Call it before c is used.
func (c *Context) SetKernelWait() {
	c.kernelWait = true
	c.q.setSignal(false) // io_uring: no eventfd signal per completion
}

// parkKernel is Park in kernel-wait mode: it sleeps in io_getevents until
// an event comes (a request's, or the POLL's after a Kick) or deadline
// passes, and keeps the events for the next Poll.
func (c *Context) parkKernel(deadline time.Time) error {
	timeout := time.Duration(-1)
	if !deadline.IsZero() {
		if timeout = time.Until(deadline); timeout <= 0 {
			return os.ErrDeadlineExceeded
		}
	}
	// Close takes the driver role before it destroys the kernel context, so
	// no driver is here then; life keeps the ring mapped meanwhile anyway.
	c.life.RLock()
	defer c.life.RUnlock()
	if c.dead {
		return os.ErrClosed
	}
	c.reapMu.Lock()
	if c.kn.Load() > 0 || c.q.pending() {
		c.reapMu.Unlock()
		return nil // events are waiting: the caller's Poll takes them
	}
	// While the POLL is armed the count is zero, or the POLL is completing
	// and will end the sleep. Once it has fired, a Kick's count may be
	// waiting: consume it (the caller looks again) before arming anew.
	if !c.pollArmed && sys.EventfdDrain(c.efd) {
		c.reapMu.Unlock()
		return nil // kicked since the caller last looked
	}
	// A Kick from here on completes the POLL (at once if it is armed now).
	if !c.armPollLocked() {
		// No room for the POLL (the kernel's own count ran out): a Kick
		// could go unnoticed, so sleep briefly and look again. A context
		// that may wait in the netpoller turns signalling on, to get there.
		if timeout < 0 || timeout > time.Millisecond {
			timeout = time.Millisecond
		}
		if !c.kernelWait {
			c.mu.Lock()
			c.signalAll, c.calm = true, 0
			c.mu.Unlock()
		}
	}
	takes := c.q.waitTakesEvents()
	c.kernelReaping = takes
	c.reapMu.Unlock()
	n, timedOut, err := c.q.wait(c.events, timeout)
	if takes {
		c.reapMu.Lock()
		c.kernelReaping = false
		c.kn.Store(int32(n))
		c.reapMu.Unlock()
	}
	switch {
	case err != nil:
		return err
	case timedOut:
		return os.ErrDeadlineExceeded
	}
	return nil
}

// armPollLocked puts the POLL iocb for the eventfd in the kernel unless it
// is there, and reports whether it is. c.reapMu is held.
func (c *Context) armPollLocked() bool {
	if c.pollArmed {
		return true
	}
	c.pollIocb = abi.IOCB{Data: pollData, Opcode: abi.IOCB_CMD_POLL, Fildes: uint32(c.efd), Buf: unix.POLLIN}
	c.pollArmed = c.q.armPoll(&c.pollIocb)
	return c.pollArmed
}
