package engine

import (
	"fmt"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/internal/abi"
	"github.com/goiocp/goiocp/internal/sys"
)

// aioQueue is a native AIO context: iocbs go to io_submit as they are,
// events are reaped from the context's ring in user space (io_getevents
// where the ring is not one this reaper knows), a driver sleeps in
// io_getevents, and io_cancel cancels what the kernel lets it (POLLs).
type aioQueue struct {
	c    *Context
	kctx uint64
	ring *sys.Ring // nil: reap with io_getevents
}

// limitError wraps EAGAIN from io_setup with the name of the knob to raise.
type limitError struct{ depth int }

func (e *limitError) Error() string {
	return fmt.Sprintf("setup io context of %d events: system-wide AIO limit reached (raise /proc/sys/fs/aio-max-nr, see /proc/sys/fs/aio-nr): %v", e.depth, syscall.EAGAIN)
}

func (e *limitError) Unwrap() error { return syscall.EAGAIN }

func newAIOQueue(c *Context) (*aioQueue, error) {
	depth := c.depth
	if !sys.Supported {
		return nil, fmt.Errorf("setup io context: %w", syscall.ENOSYS)
	}
	kctx, err := sys.IoSetup(depth)
	if err != nil {
		if err == sys.Errno(syscall.EAGAIN) {
			return nil, &limitError{depth}
		}
		return nil, fmt.Errorf("setup io context of %d events: %w", depth, err)
	}
	return &aioQueue{c: c, kctx: kctx, ring: sys.NewRing(kctx)}, nil
}

func (q *aioQueue) kind() Kind { return KindAIO }

func (q *aioQueue) prepare([]*Request) {}

func (q *aioQueue) stageLocked(_ []*abi.IOCB, _ []*Request, refs []slotRef) []slotRef {
	return refs
}

// submit calls io_submit until every iocb is queued or refused. A short
// count means iocbs[n] was refused with an errno the kernel reports only
// when it comes first, so the rest is resubmitted to learn it.
func (q *aioQueue) submit(iocbs []*abi.IOCB, reqs []*Request, blocking int, _ []slotRef) map[int]syscall.Errno {
	c := q.c
	var failed map[int]syscall.Errno
	done := 0
	again := 0
	for done < len(iocbs) {
		var n int
		var err error
		if done > blocking {
			n, err = sys.IoSubmitNowait(q.kctx, iocbs[done:])
		} else {
			n, err = sys.IoSubmit(q.kctx, iocbs[done:])
		}
		if err != nil {
			e := err.(syscall.Errno)
			if e == syscall.EOPNOTSUPP && c.dropNowait(iocbs[done:], reqs[done:]) {
				// Resubmit them without RWF_NOWAIT; none of reqs[done:] is
				// in the kernel, so their modes may be read again.
				blocking = done + lastBlocking(reqs[done:])
				continue
			}
			if e == syscall.EAGAIN && again < 100 {
				// The kernel's own accounting ran out (per-CPU batching can hide
				// free events until the ring's head is re-read): reap and retry.
				again++
				c.Poll()
				time.Sleep(time.Duration(again) * time.Microsecond)
				continue
			}
			if failed == nil {
				failed = make(map[int]syscall.Errno)
			}
			failed[done] = e
			done++
			continue
		}
		done += n
	}
	return failed
}

func (q *aioQueue) mayHaveEvents() bool { return q.ring == nil || q.ring.Pending() }
func (q *aioQueue) pending() bool       { return q.ring != nil && q.ring.Pending() }

func (q *aioQueue) reap(dst []abi.IOEvent) int {
	if q.ring != nil {
		return q.ring.Reap(dst)
	}
	n, err := sys.IoGetevents(q.kctx, 0, dst, 0)
	if err != nil {
		return 0
	}
	return n
}

func (q *aioQueue) wait(dst []abi.IOEvent, timeout time.Duration) (int, bool, error) {
	n, err := sys.IoGetevents(q.kctx, 1, dst, timeout)
	return n, err == nil && n == 0, err
}

func (q *aioQueue) waitTakesEvents() bool { return true }

func (q *aioQueue) armPoll(cb *abi.IOCB) bool {
	list := [1]*abi.IOCB{cb}
	n, err := sys.IoSubmitNowait(q.kctx, list[:])
	return err == nil && n == 1
}

// cancel is io_cancel, which regular files refuse (EINVAL); EINPROGRESS
// means started.
func (q *aioQueue) cancel(cb *abi.IOCB) cancelResult {
	switch sys.IoCancel(q.kctx, cb) {
	case nil, sys.Errno(syscall.EINPROGRESS):
		return cancelStarted
	}
	return cancelNotFound
}

func (q *aioQueue) nowait() bool        { return true }
func (q *aioQueue) setSignal(bool)      {}
func (q *aioQueue) userspaceReap() bool { return q.ring != nil }
func (q *aioQueue) destroy() error      { return sys.IoDestroy(q.kctx) }
