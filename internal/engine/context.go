package engine

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/internal/abi"
	"github.com/goiocp/goiocp/internal/sys"
)

// Sink receives the requests a reaper made final, in ring order, one batch
// at a time, with Context.reapMu held. Deliver returns, for each request,
// whether it queued a packet for it; it must not call back into the
// context's Poll.
type Sink interface {
	// Accepting reports whether the sink still takes packets; a closed port
	// does not.
	Accepting() bool
	// Deliver queues the packets of batch. It is called only with requests
	// that were finished with a packet; ok is false if the sink closed
	// meanwhile and dropped them. kick asks the engine to wake the goroutine
	// parked as the context's driver, which the sink gave packets to.
	Deliver(batch []*Request) (ok, kick bool)
}

// Recorder is an optional interface of a Sink that takes no packets
// (Accepting reports false): Record sees every batch of final requests, as
// the default context's list of requests for Nwait and Waitcomplete. It is
// called with Context.reapMu held.
type Recorder interface {
	Record(batch []*Request)
}

// slot is one entry of a context's slot table. A slot is in use from Submit
// until its event is reaped; its iocb is what io_submit was given.
type slot struct {
	req   *Request
	iov   []abi.Iovec // the iovec array of a vectored request, reused
	gen   uint32      // bumped at every use; aio_data carries it beside the index
	quiet bool        // in the kernel without RESFD, its event not yet reaped

	// io_uring (queue_uring_linux.go): submitting is set while the
	// submitter has not looked at what the kernel did with the request
	// within its call; refused is an errno it refused the request with
	// then, as io_submit would.
	submitting bool
	refused    syscall.Errno
	fixed      bool // io_uring: the ring's file table holds the request's file at this slot's index
}

// Context is one kernel AIO context with its eventfd and slot table.
//
// All methods are safe for concurrent use. Submit may be called by any
// number of goroutines; Poll serialises the ring's consumers; the driver
// role lets one goroutine at a time park on the eventfd.
type Context struct {
	q     kernelQueue
	efd   int
	efile *os.File // efd, registered with the netpoller
	depth int
	sink  Sink

	mu       sync.Mutex // guards the fields below
	slots    []slot
	iocbs    []abi.IOCB // iocbs[i] is slot i's iocb
	free     []int32
	inflight int
	seq      uint64 // submission order, for fsync barriers
	closed   bool
	blocking map[int]uint8 // fd -> submission mode per direction, see modeNowait

	// Adaptive signalling (see signal.go): which submissions carry RESFD.
	quiet     int  // slots with quiet set
	netParked int  // drivers parked in the netpoller, relying on the eventfd
	signalAll bool // a driver parked lately: every submission signals
	calm      int  // reaps since the last long wait

	reapMu     sync.Mutex    // serialises ring consumers; taken before mu
	events     []abi.IOEvent // under reapMu, or the wait of the driver that set kernelReaping
	batch      []*Request    // scratch under reapMu
	pkts       []*Request    // scratch under reapMu
	toWorkers  []*Request    // scratch under reapMu: requests for workers
	ready      []*Request    // under reapMu: stream requests whose POLL fired, see stream.go
	spareReady []*Request    // under reapMu: the other buffer of ready
	after      []effect      // under reapMu: side effects to run after unlock
	spare      []effect      // under reapMu: the other buffer of after

	drive    sync.Mutex // the driver role: held while parked on efd
	efbuf    [8]byte    // eventfd read buffer, driver only
	deadline time.Time  // efile's read deadline, driver only

	// Kernel wait (see kwait.go): the driver sleeps in io_getevents instead
	// of the netpoller, always with kernelWait (set before first use), or
	// when requests without RESFD are in flight. The rest is under reapMu.
	kernelWait    bool
	kernelReaping bool         // a driver is inside io_getevents: user space must not reap
	kn            atomic.Int32 // events the last io_getevents left in events, for the next Poll; written under reapMu
	pollArmed     bool         // the POLL iocb on efd is in the kernel
	pollIocb      abi.IOCB

	notifying atomic.Int32 // requests in flight that notify; see notify.go
	reaping   atomic.Bool  // the reaper goroutine runs

	// OnRelease, if set before the context is used, runs whenever the
	// driver role is released, so the owner can pass it to another waiter.
	OnRelease func()

	lisMu sync.Mutex
	lis   []chan struct{} // see Listen
	nlis  atomic.Int32    // len(lis), read without lisMu

	// awaiting is set while an Await driver checks its condition and parks:
	// a reap by another goroutine then kicks the eventfd (see Poll).
	awaiting atomic.Int32

	assocMu sync.Mutex                 // serialises writers of assoc
	assoc   atomic.Pointer[assocTable] // fd -> association; grown by copy

	// life guards the ring mapping and the eventfd: readers of either hold
	// it shared; Close takes it exclusively to mark the context dead before
	// io_destroy unmaps the ring and the eventfd is closed.
	life sync.RWMutex
	dead bool

	stats counters // see stats.go

	armMu         sync.Mutex   // guards deferred
	deferred      []*Request   // stream requests whose POLL waits for the next Poll or Park (stream.go)
	spareDeferred []*Request   // the other buffer of deferred, under armMu
	ndeferred     atomic.Int32 // len(deferred), read without armMu
}

// NewContext makes a context on a kernel queue of kind able to hold depth
// requests in flight, and its eventfd. sink receives the final requests;
// it may be nil (no packets).
func NewContext(kind Kind, depth int, sink Sink) (*Context, error) {
	if depth <= 0 {
		return nil, fmt.Errorf("setup io context: depth %d: %w", depth, syscall.EINVAL)
	}
	if !sys.Supported {
		return nil, fmt.Errorf("setup io context: %w", syscall.ENOSYS)
	}
	if kind == KindIOURing && depth > uringMaxDepth {
		return nil, fmt.Errorf("setup io_uring: depth %d: at most %d requests in flight: %w", depth, uringMaxDepth, syscall.EINVAL)
	}
	efd, err := sys.Eventfd()
	if err != nil {
		return nil, fmt.Errorf("create eventfd: %w", err)
	}
	// The kernel queue first: it is where a depth too large for the
	// system's limits fails, before the tables are allocated.
	c := &Context{efd: efd, depth: depth, sink: sink}
	if c.q, err = newQueue(kind, c); err != nil {
		sys.CloseFd(efd)
		return nil, err
	}
	c.efile = os.NewFile(uintptr(efd), "goiocp-eventfd")
	c.slots = make([]slot, depth)
	c.iocbs = make([]abi.IOCB, depth)
	c.free = make([]int32, depth)
	c.blocking = make(map[int]uint8)
	c.events = make([]abi.IOEvent, depth)
	c.batch = make([]*Request, 0, depth)
	c.pkts = make([]*Request, 0, depth)
	for i := range c.free {
		c.free[i] = int32(depth - 1 - i)
	}
	procs.Store(int32(runtime.GOMAXPROCS(0)))
	registerContext(c)
	return c, nil
}

// Fd returns the context's eventfd, which also names a port.
func (c *Context) Fd() int { return c.efd }

// Depth returns how many requests the context holds in flight.
func (c *Context) Depth() int { return c.depth }

// InFlight returns how many requests hold a slot.
func (c *Context) InFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inflight
}

// UserspaceReap reports whether the ring is reaped without system calls.
func (c *Context) UserspaceReap() bool { return c.q.userspaceReap() }

// Submit queues reqs, all claimed and filled by the caller, on c in order.
// A request that cannot be queued is made final with its errno (EAGAIN when
// no slot is free, EBADF when the context is closed, or what io_submit
// refused it with) and performs no I/O. Submit returns the errno of the
// first request refused, or 0.
func (c *Context) Submit(reqs []*Request) syscall.Errno {
	e, _ := c.submit(reqs)
	return e
}

// SubmitAtOnce submits r, a stream request with AtOnce set, and reports
// whether its transfer was done within the call: then r is final with no
// packet and the caller takes its result with Return.
func (c *Context) SubmitAtOnce(r *Request) (done bool, e syscall.Errno) {
	one := [1]*Request{r}
	e, done = c.submit(one[:])
	return done, e
}

func (c *Context) submit(reqs []*Request) (first syscall.Errno, atOnce bool) {
	n := c.allocSlots(reqs)
	accepted := n
	defer func() { c.stats.submitted.Add(uint64(accepted)) }()
	fail := func(r *Request, e syscall.Errno) {
		if first == 0 {
			first = e
		}
		r.Fail(e)
	}
	for _, r := range reqs[n:] {
		if c.isClosed() {
			fail(r, syscall.EBADF)
		} else {
			fail(r, syscall.EAGAIN)
		}
	}
	reqs = reqs[:n]
	if len(reqs) == 0 {
		return first, false
	}
	// Before io_submit: a worker may take a RWF_NOWAIT request as soon as
	// its event is reaped. The reaper that hands it to a worker reads the
	// identity after taking c.mu, and submitIocbs takes c.mu before
	// io_submit, which orders the read after these writes (the kernel's
	// event does too, but neither Go's memory model nor the race detector
	// knows that).
	identify(reqs)
	c.q.prepare(reqs)

	// Fsyncs with earlier requests on their file still in flight wait in
	// user space; stream requests join their streams (stream.go); the
	// others go to the kernel now.
	sb := getScratch()
	defer putScratch(sb)
	for _, r := range reqs {
		if r.isFsync() && c.holdFsync(r) {
			continue
		}
		if r.inline {
			sb.inline = append(sb.inline, r)
			continue
		}
		if r.kind != sys.KindFile {
			if c.enqueue(r, r.id) {
				r.firstTry = true
				sb.heads = append(sb.heads, r)
			}
			continue
		}
		sb.iocbs = append(sb.iocbs, &c.iocbs[r.slot])
		sb.reqs = append(sb.reqs, r)
	}
	if len(sb.iocbs) > 0 {
		for i, e := range c.submitIocbs(sb.iocbs, sb.reqs) {
			c.release(sb.reqs[i])
			fail(sb.reqs[i], e)
			accepted--
		}
	}
	if len(sb.inline) > 0 {
		done := sb.inline[:0]
		for _, r := range sb.inline {
			res := sys.Perform(r.Cmd, r.Fd, r.Buf, r.Iov, r.Offset, 0)
			if res == -int64(syscall.EBADF) {
				// What io_submit refuses at once (uring_prepare.go).
				c.release(r)
				fail(r, syscall.EBADF)
				accepted--
				continue
			}
			r.res = res
			done = append(done, r)
		}
		if len(done) > 0 {
			c.finishAll(done)
		}
	}
	if len(sb.heads) > 0 {
		var refused []*Request
		refused, atOnce = advance(sb.heads)
		for _, r := range refused {
			c.release(r)
			fail(r, syscall.Errno(-r.res))
			accepted--
		}
	}
	c.ensureReaper()
	return first, atOnce
}

// allocSlots gives as many of reqs as it can a slot and fills their iocbs,
// reaping once if the table is full. It returns how many got one.
func (c *Context) allocSlots(reqs []*Request) int {
	n := 0
	for polled := false; ; polled = true {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return n
		}
		for n < len(reqs) && len(c.free) > 0 {
			i := c.free[len(c.free)-1]
			c.free = c.free[:len(c.free)-1]
			c.inflight++
			r := reqs[n]
			c.seq++
			r.slot, r.seq = i, c.seq
			// A request resubmitted to its last context, with no fsync
			// barrier left, needs neither atomic store.
			if r.ctx.Load() != c {
				r.ctx.Store(c)
			}
			if r.held.Load() != nil {
				r.held.Store(nil)
			}
			r.barriers = nil
			r.worker = 0
			r.cancelNote, r.cancelTried = nil, false
			r.stream, r.sstate, r.scancel, r.firstTry, r.doneAtOnce = nil, sNone, false, false, false
			r.plain, r.polled, r.sdone, r.epfd = false, false, 0, -1
			c.slots[i].req = r
			c.slots[i].gen++
			if r.notifies() {
				c.notifying.Add(1)
			}
			c.fillLocked(i, r)
			n++
		}
		c.mu.Unlock()
		if n == len(reqs) || polled || c.Poll() == 0 {
			return n
		}
	}
}

// fillLocked writes slot i's iocb for r.
func (c *Context) fillLocked(i int32, r *Request) {
	cb := &c.iocbs[i]
	*cb = abi.IOCB{
		Data:   uint64(c.slots[i].gen)<<32 | uint64(i),
		Opcode: r.Cmd,
		Fildes: uint32(r.Fd),
		Offset: r.Offset,
	}
	// RESFD is decided just before io_submit (see signalLocked).
	r.raw, r.nowait = false, false
	if d := direction(r.Cmd); d != noDirection && !BlockingSubmit && c.q.nowait() {
		switch c.blocking[r.Fd] >> d & 3 {
		case modeNowait:
			// Never block in io_submit: what would block comes back as
			// EAGAIN and goes to a worker (see worker.go). The call goes
			// through the scheduler all the same: FUSE honours the flag
			// but still makes a submitter wait for a free background
			// request (max_background, fs/fuse/dev.c), and a raw call
			// would hold its P meanwhile, which a stop-the-world then
			// waits for while the server, if in this process, cannot run.
			cb.RWFlags = abi.RWF_NOWAIT
			r.raw, r.nowait = false, true
		case modeMemory:
			r.raw = true
		}
	}
	switch r.Cmd {
	case abi.IOCB_CMD_PREAD, abi.IOCB_CMD_PWRITE:
		sys.SetBuf(cb, r.Buf)
	case abi.IOCB_CMD_PREADV, abi.IOCB_CMD_PWRITEV:
		s := &c.slots[i]
		if cap(s.iov) < len(r.Iov) {
			s.iov = make([]abi.Iovec, len(r.Iov))
		}
		sys.SetIovec(cb, s.iov[:len(r.Iov)], r.Iov)
	case abi.IOCB_CMD_POLL:
		// fs/aio.c aio_poll: the events in aio_buf, offset, count and
		// rw_flags zero.
		cb.Offset = 0
		cb.Buf = uint64(uint16(r.Events))
	default: // fsync: offset, buffer and count must be zero (fs/aio.c aio_fsync)
		cb.Offset = 0
	}
	if r.Prio > 0 {
		// POSIX lowers a request's priority by aio_reqprio; map 1..20 onto the
		// best-effort levels below the default (4) one.
		cb.Flags |= abi.IOCB_FLAG_IOPRIO
		cb.Reqprio = int16(abi.IOPRIO_PRIO_VALUE(abi.IOPRIO_CLASS_BE, 4+(r.Prio*3+19)/20))
	}
}

// submitIocbs has the kernel queue take iocbs, and returns the errnos of
// those refused at once, by index; their slots stay taken.
//
// An iocb is only touched under c.mu once filled: after submission the
// kernel owns it, and the race detector cannot see that the reaper which
// frees its slot comes after the kernel. What the queue needs to know
// about a request it reads from reqs[i].raw, which fillLocked set.
func (c *Context) submitIocbs(iocbs []*abi.IOCB, reqs []*Request) map[int]syscall.Errno {
	c.mu.Lock()
	c.signalLocked(reqs)
	// Whether submission may be a raw call is read here, under c.mu, for
	// every request: once one is submitted it may complete and be reused
	// (its fields rewritten under c.mu) while the queue still submits, an
	// order the kernel's event gives but the race detector cannot see.
	blocking := lastBlocking(reqs)
	rp := refsPool.Get().(*[]slotRef)
	refs := c.q.stageLocked(iocbs, reqs, (*rp)[:0])
	c.mu.Unlock()
	failed := c.q.submit(iocbs, reqs, blocking, refs)
	*rp = refs[:0]
	refsPool.Put(rp)
	return failed
}

// refsPool holds the buffers of submitIocbs's slot references.
var refsPool = sync.Pool{New: func() any { return new([]slotRef) }}

// How a file's reads or writes are submitted, two bits per direction in
// Context.blocking.
const (
	modeNowait   uint8 = 0 // with RWF_NOWAIT, by a raw system call (the default)
	modeMemory   uint8 = 1 // without RWF_NOWAIT, by a raw call: tmpfs never waits for a device
	modeBlocking uint8 = 2 // without RWF_NOWAIT, as a blocking system call
)

// setModeLocked records how later requests of cmd's direction on fd are
// submitted, and returns that direction. c.mu is held.
func (c *Context) setModeLocked(fd int, cmd uint16, mode uint8) uint8 {
	d := direction(cmd)
	c.blocking[fd] = c.blocking[fd]&^(uint8(3)<<d) | mode<<d
	return d
}

// direction returns the shift of cmd's two bits in Context.blocking.
func direction(cmd uint16) uint8 {
	switch cmd {
	case abi.IOCB_CMD_PREAD, abi.IOCB_CMD_PREADV:
		return 0
	case abi.IOCB_CMD_PWRITE, abi.IOCB_CMD_PWRITEV:
		return 2
	}
	return noDirection
}

// noDirection is direction of a command that never carries RWF_NOWAIT.
const noDirection = 8

// lastBlocking returns the index of the last of reqs for which io_submit
// may block (not raw), or -1: io_submit of reqs[i:] cannot block for any i
// above it.
func lastBlocking(reqs []*Request) int {
	for i := len(reqs) - 1; i >= 0; i-- {
		if !reqs[i].raw {
			return i
		}
	}
	return -1
}

// dropNowait handles io_submit refusing the RWF_NOWAIT of iocbs[0]
// (EOPNOTSUPP: the file system cannot honour it): it, the rest of the batch
// on that file and direction, and every later request of theirs on c are
// submitted without it. A file in memory (tmpfs) never waits for a device,
// so its submissions stay raw; any other goes through the scheduler as a
// blocking call. It reports false when iocbs[0] did not carry RWF_NOWAIT.
func (c *Context) dropNowait(iocbs []*abi.IOCB, reqs []*Request) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if iocbs[0].RWFlags&abi.RWF_NOWAIT == 0 {
		return false
	}
	r0 := reqs[0]
	mode := modeBlocking
	if sys.InMemory(r0.Fd) {
		mode = modeMemory
	}
	d := c.setModeLocked(r0.Fd, r0.Cmd, mode)
	for i, r := range reqs {
		if r.Fd == r0.Fd && direction(r.Cmd) == d {
			iocbs[i].RWFlags &^= abi.RWF_NOWAIT
			r.raw, r.nowait = mode == modeMemory, false
		}
	}
	return true
}

// release frees r's slot after io_submit refused it.
func (c *Context) release(r *Request) {
	c.mu.Lock()
	c.freeSlotLocked(r)
	bs := r.barriers
	r.barriers = nil
	c.mu.Unlock()
	for _, b := range bs {
		b.priorDone()
	}
}

func (c *Context) freeSlotLocked(r *Request) {
	if s := &c.slots[r.slot]; s.fixed {
		c.q.(*uringQueue).unfix(r.slot)
		s.fixed = false
	}
	c.unquietLocked(r.slot)
	if r.notifies() {
		c.notifying.Add(-1)
	}
	c.slots[r.slot].req = nil
	c.free = append(c.free, r.slot)
	c.inflight--
}

func (c *Context) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}
