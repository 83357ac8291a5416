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
//     sleeperLimit() drivers sleep there at once (see kernelSleepers);
//     past that a driver waits in the netpoller a millisecond at a time,
//     reaping in between, and turns signalAll on.
//
// signalAll turns off again after calmReaps reaps with no wait of longWait
// or more between them (in the netpoller or the kernel), and never while a
// driver is parked in the netpoller (netParked > 0) or no place to sleep in
// io_getevents is free. An idle port's waits are long, so once its quiet
// requests are done it holds no thread while it waits.
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
	// io_uring signals the eventfd for every completion or none
	// (setSignal): only kernel-wait mode turns it off.
	signal := (c.signalAll || c.q.kind() == KindIOURing) && !c.kernelWait
	for _, r := range reqs {
		cb := &c.iocbs[r.slot]
		// A POLL may wait forever: a driver must wait for it in the
		// netpoller, not asleep in io_getevents holding a thread.
		if signal || (r.waitsLong() && !c.kernelWait) {
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
// off after calmReaps of them with no long wait between, if a place to sleep
// in io_getevents is free. c.mu is held.
func (c *Context) calmLocked() {
	if !c.signalAll || c.netParked > 0 {
		return
	}
	if c.calm++; c.calm >= calmReaps && kernelSleepers.Load() < sleeperLimit() {
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
// asleep in io_getevents, each holding an OS thread and, until the
// runtime's sysmon takes it back, a P. A few are cheaper than the
// netpoller; many are not: on 2 cores, 16 ports asleep there ran a virtio
// disk at 0.7x the netpoller's rate with a 30 ms p99, since the goroutines
// they wake wait for Ps the sleepers still hold. So at most sleeperLimit()
// of them sleep at once: half of GOMAXPROCS, at least one. Past that a
// driver polls instead (waitPolling) and its port turns signalling on, and
// no port turns it off while no place is free, so ports beyond the limit
// wait in the netpoller.
var (
	kernelSleepers atomic.Int32
	sleeperKnob    atomic.Int32 // a test's limit; -1: sleeperLimit decides
	procs          atomic.Int32 // GOMAXPROCS when the last context was made (NewContext)
)

func init() { sleeperKnob.Store(-1) }

// sleeperLimit is how many drivers may sleep in io_getevents at once.
func sleeperLimit() int32 {
	if n := sleeperKnob.Load(); n >= 0 {
		return n
	}
	return max(procs.Load()/2, 1)
}

// SetSleeperLimit sets how many drivers may sleep in io_getevents at once,
// for a test (-1: half of GOMAXPROCS, the default), and returns a func
// restoring the previous setting.
func SetSleeperLimit(n int) (restore func()) {
	old := sleeperKnob.Swap(int32(n))
	return func() { sleeperKnob.Store(old) }
}

// quietLeaks counts contexts closed with slots still marked quiet once
// every request was final: the mark of a path that frees a slot without
// unquietLocked, which must not happen.
var quietLeaks atomic.Int64

// QuietLeaks returns how many contexts were closed with a quiet count left.
func QuietLeaks() int64 { return quietLeaks.Load() }

// KernelSleepers returns how many drivers of contexts not in kernel-wait
// mode sleep in io_getevents now: 0 whenever no goroutine waits.
func KernelSleepers() int { return int(kernelSleepers.Load()) }

// pollTick is how long a waitPolling driver waits before it reaps again.
const pollTick = time.Millisecond

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
		if kernelSleepers.Add(1) <= sleeperLimit() {
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
