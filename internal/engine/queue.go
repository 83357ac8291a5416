package engine

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/internal/abi"
	"github.com/goiocp/goiocp/internal/sys"
)

// Kind is a kernel interface a context runs on.
type Kind int

// The kinds of kernel queue.
const (
	KindAIO     Kind = iota // native AIO: io_setup, io_submit, the AIO ring
	KindIOURing             // io_uring: one ring per context, its eventfd registered
)

// String returns the kind's name, as GOIOCP_ENGINE spells it.
func (k Kind) String() string {
	if k == KindIOURing {
		return "io_uring"
	}
	return "aio"
}

// kernelQueue is what differs between the kernel interfaces under a
// context: how filled iocbs reach the kernel, how completions come back and
// how a driver sleeps for them, how a request is cancelled. Everything else
// (slots, the request state machine, packets, waiters, barriers, streams,
// the close protocol) is the context's, the same on both.
//
// Requests are described to both as iocbs, the seed's control block: the
// AIO queue hands them to io_submit as they are, the io_uring queue
// translates each into a submission entry with the iocb's aio_data as its
// user_data. Completions come back as io_events: data and res.
type kernelQueue interface {
	// kind names the queue.
	kind() Kind
	// prepare runs in the submitter for reqs, claimed, given slots and
	// identified, before c.mu is taken again to submit them.
	prepare(reqs []*Request)
	// stageLocked is called with c.mu held for iocbs about to be submitted,
	// after their RESFD is decided: the io_uring queue copies them into
	// its SQ there, while the iocbs may not change under it.
	// It returns what submit needs to find the requests' slots again.
	// refs is a buffer to append them to.
	stageLocked(iocbs []*abi.IOCB, reqs []*Request, refs []slotRef) []slotRef
	// submit has the kernel take the iocbs staged (or, for AIO, given) and
	// returns the errnos of those it refused at once, by index. blocking
	// is the index of the last request whose submission may block, or -1.
	submit(iocbs []*abi.IOCB, reqs []*Request, blocking int, refs []slotRef) map[int]syscall.Errno
	// mayHaveEvents reports, without a system call where it can, whether
	// a reap could find completions.
	mayHaveEvents() bool
	// pending reports whether completions are known to wait for a reap.
	pending() bool
	// reap copies completions into dst without blocking and returns how
	// many. c.reapMu is held.
	reap(dst []abi.IOEvent) int
	// wait sleeps until a completion is posted or timeout passes
	// (negative: no limit). Where the kernel takes the completions off the
	// ring itself (AIO's io_getevents) they are copied into dst and counted
	// in n; otherwise n is 0 and the next reap takes them. timedOut reports
	// that timeout passed with none.
	wait(dst []abi.IOEvent, timeout time.Duration) (n int, timedOut bool, err error)
	// waitTakesEvents reports whether wait takes completions off the ring,
	// so that no reap may run meanwhile.
	waitTakesEvents() bool
	// armPoll submits cb, a POLL of the context's eventfd for a driver
	// asleep in wait, and reports whether the kernel took it. c.reapMu is
	// held.
	armPoll(cb *abi.IOCB) bool
	// cancel tries to cancel the request cb describes, in flight in the
	// kernel. cancelStarted: its completion still comes, with ECANCELED
	// unless it ran first; cancelRunning: it runs, and was told to stop,
	// so it may end either way; cancelNotFound: beyond reach, or done.
	cancel(cb *abi.IOCB) cancelResult
	// nowait reports whether requests go with RWF_NOWAIT, what would
	// block coming back to the context's workers (AIO), or the kernel
	// makes every request asynchronous by itself (io_uring).
	nowait() bool
	// setSignal turns the eventfd's signal for every completion on or off
	// (io_uring; AIO decides it per request with IOCB_FLAG_RESFD).
	setSignal(on bool)
	// userspaceReap reports whether completions are reaped without a
	// system call.
	userspaceReap() bool
	// destroy releases the kernel queue; nothing is in flight.
	destroy() error
}

// newQueue makes a kernel queue of kind for c's depth of requests in
// flight, and its eventfd's registration where the kind needs one.
func newQueue(k Kind, c *Context) (kernelQueue, error) {
	if err := Usable(k); err != nil {
		return nil, err
	}
	if k == KindIOURing {
		q, err := newURingQueue(c)
		if err != nil {
			return nil, err
		}
		return q, nil
	}
	q, err := newAIOQueue(c)
	if err != nil {
		return nil, err
	}
	return q, nil
}

// uringMaxDepth is the most requests a context on io_uring holds in flight:
// the kernel's largest CQ (IORING_MAX_CQ_ENTRIES) less the kernel-wait POLL.
const uringMaxDepth = 65535

// cancelResult is what a kernel queue's cancel found.
type cancelResult int

const (
	cancelNotFound cancelResult = iota
	cancelStarted
	cancelRunning
)

// slotRef names a slot at one use: its index and generation.
type slotRef struct {
	i   int32
	gen uint32
}

// EngineEnv is the environment variable that picks the kind of the
// contexts made without one named: "aio" or "io_uring".
const EngineEnv = "GOIOCP_ENGINE"

// DefaultKind returns the kind EngineEnv names, read and parsed once.
var DefaultKind = sync.OnceValues(func() (Kind, error) {
	return ParseKind(os.Getenv(EngineEnv))
})

// ParseKind parses an EngineEnv value; empty is KindAIO.
func ParseKind(v string) (Kind, error) {
	switch v {
	case "", "aio":
		return KindAIO, nil
	case "io_uring", "iouring", "uring":
		return KindIOURing, nil
	}
	return KindAIO, fmt.Errorf("%s=%q: want aio or io_uring: %w", EngineEnv, v, syscall.EINVAL)
}

// Usable returns nil when contexts of kind k can be made here, or why
// not, probed once per kind: the error wraps ENOSYS, and for io_uring
// names what refused it (the kernel, kernel.io_uring_disabled, seccomp).
func Usable(k Kind) error {
	switch k {
	case KindAIO:
		return aioUsable()
	case KindIOURing:
		return uringUsable()
	}
	return fmt.Errorf("engine %d: %w", int(k), syscall.EINVAL)
}

var (
	aioUsable = sync.OnceValue(func() error {
		if !sys.Supported {
			return fmt.Errorf("native AIO is Linux's: %w", syscall.ENOSYS)
		}
		return nil
	})
	uringUsable = sync.OnceValue(func() error {
		if err := sys.ProbeURingQueue(); err != nil {
			return fmt.Errorf("io_uring: %w", err)
		}
		return nil
	})
)
