package engine

import (
	"sync/atomic"
	"time"

	"github.com/goiocp/goiocp/internal/abi"
)

// Adaptive signalling. A driver parked in the netpoller is woken by the
// eventfd, so every request that can complete while it is parked must carry
// IOCB_FLAG_RESFD. But the signal is not free: eventfd_signal wakes the
// eventfd's wait queue, and so runs the callback of the runtime's single
// epoll instance, whose lock every port in the process shares. On 16 cores
// that shared lock capped tmpfs reads at about 2.2 M/s for any number of
// ports, against 6.5 M/s without the signal (bench/README.md). A port whose
// harvests keep finding completions ready never parks, and pays for nothing.
//
// So a submission carries RESFD only while the context waits long
// (signalAll); otherwise the request goes without, and its slot is marked
// quiet until its event is reaped. A driver about to park looks at the
// quiet count under c.mu, the lock a submission decides under:
//
//   - With none quiet, it turns signalAll on and parks in the netpoller:
//     every submission from then on signals.
//   - With some quiet, it sleeps in io_getevents instead (kwait.go), which
//     their completions wake by themselves and Kicks reach through the POLL
//     iocb on the eventfd. That holds an OS thread for the wait, as a
//     blocking read would. A sleep of longWait or more turns signalAll on,
//     so a port that waits long goes back to the netpoller; shorter ones,
//     as for a busy disk, leave the port quiet, and are as quick as fio's
//     (the netpoller's wake-up cost 15 % there, bench/README.md). At most
//     maxKernelSleepers drivers sleep there at once; past that a driver
//     waits in the netpoller a millisecond at a time, reaping in between,
//     and turns signalAll on.
//
// signalAll turns off again after calmReaps reaps with no netpoller park
// or long sleep between them, and never while a driver is parked in the
// netpoller (netParked > 0).
//
// A context in kernel-wait mode never signals: its driver always sleeps in
// io_getevents.

// calmReaps is how many reaps with no long wait between them turn
// signalAll off.
const calmReaps = 64

// longWait is how long a sleep in io_getevents must last to turn signalAll
// on.
const longWait = time.Millisecond

// signalLocked sets or clears RESFD on the iocbs of reqs, about to go to
// io_submit, and counts the quiet ones. c.mu is held.
func (c *Context) signalLocked(reqs []*Request) {
	signal := c.signalAll && !c.kernelWait
	for _, r := range reqs {
		cb := &c.iocbs[r.slot]
		if signal {
			cb.Flags |= abi.IOCB_FLAG_RESFD
			cb.ResFD = uint32(c.efd)
			continue
		}
		cb.Flags &^= abi.IOCB_FLAG_RESFD
		cb.ResFD = 0
		if s := &c.slots[r.slot]; !s.quiet {
			s.quiet = true
			c.quiet++
		}
	}
}

// unquietLocked notes that slot i's event was reaped (or its request never
// reached the kernel). c.mu is held.
func (c *Context) unquietLocked(i int32) {
	if s := &c.slots[i]; s.quiet {
		s.quiet = false
		c.quiet--
	}
}

// calmLocked counts a reap that found requests' events, and turns signalAll
// off after calmReaps of them with no Park between. c.mu is held.
func (c *Context) calmLocked() {
	if !c.signalAll || c.netParked > 0 {
		return
	}
	if c.calm++; c.calm >= calmReaps {
		c.signalAll = false
	}
}

// How a driver of a context not in kernel-wait mode waits (parkHow).
const (
	waitNetpoller = iota // on the eventfd: no quiet request is in flight
	waitKernel           // in io_getevents, holding a kernelSleepers place
	waitPolling          // on the eventfd for pollTick at a time: quiet requests, no place
)

// kernelSleepers counts the drivers of contexts not in kernel-wait mode
// asleep in io_getevents, each holding an OS thread; maxKernelSleepers
// bounds them, far below the runtime's limit of 10,000 threads. Past it a
// driver polls instead (waitPolling) and its port turns signalling on, so
// it is soon back in the netpoller.
var (
	kernelSleepers    atomic.Int32
	maxKernelSleepers atomic.Int32
)

func init() { maxKernelSleepers.Store(1024) }

// pollTick is how long a waitPolling driver waits before it reaps again.
const pollTick = time.Millisecond

// SetMaxKernelSleepers sets the bound on drivers asleep in io_getevents
// for a test and returns a func restoring the previous one.
func SetMaxKernelSleepers(n int) (restore func()) {
	old := maxKernelSleepers.Swap(int32(n))
	return func() { maxKernelSleepers.Store(old) }
}

// parkHow decides how a driver waits. With no request in flight without
// RESFD it turns signalAll on and counts the driver parked in the
// netpoller. Otherwise the driver sleeps in io_getevents if a
// kernelSleepers place is free (it takes it; the caller gives it back and
// reports the sleep's length to sleptKernel), or polls, with signalAll on.
// waitNetpoller and waitPolling must be followed by unparkNet.
func (c *Context) parkHow() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.quiet > 0 {
		if kernelSleepers.Add(1) <= maxKernelSleepers.Load() {
			return waitKernel
		}
		kernelSleepers.Add(-1)
		c.signalAll, c.calm = true, 0
		c.netParked++
		return waitPolling
	}
	c.signalAll = true
	c.netParked++
	return waitNetpoller
}

// unparkNet ends a netpoller park counted by parkHow, which lasted d.
func (c *Context) unparkNet(d time.Duration) {
	c.mu.Lock()
	c.netParked--
	if d >= longWait {
		c.calm = 0
	}
	c.mu.Unlock()
}

// sleptKernel notes a sleep in io_getevents of d: a long one turns
// signalAll on.
func (c *Context) sleptKernel(d time.Duration) {
	if d < longWait {
		return
	}
	c.mu.Lock()
	c.signalAll, c.calm = true, 0
	c.mu.Unlock()
}
