package engine

import (
	"sync"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/internal/abi"
	"github.com/goiocp/goiocp/internal/sys"
	"golang.org/x/sys/unix"
)

// Streams. A read or write of a file with no position (a pipe, FIFO,
// socket or tty) has read(2) semantics, may wait for its peer forever, and
// must hold no thread while it does. Such a request keeps its slot from
// Submit until it is final, like any other, but its transfer is not an iocb:
//
//  1. At Submit it joins its stream's FIFO for its direction (streams are
//     told apart by device and inode, so dups share one). Only the head of
//     a FIFO is active; the others wait in user space (sQueued).
//  2. The head's transfer is tried at once, in the submitting goroutine, as
//     one system call that cannot wait (RWF_NOWAIT; MSG_DONTWAIT with
//     MSG_NOSIGNAL for sockets). A read completes with what it got, or 0 at
//     end of stream; a write stays head until all its bytes are written.
//  3. On EAGAIN the slot's iocb becomes an IOCB_CMD_POLL for the stream, in
//     the request's own context (sPolling). It always carries RESFD, so a
//     driver waits for it in the netpoller, holding no thread.
//  4. The reaper that takes the POLL's event hands the request, once the
//     ring's locks are released, to the same loop as step 2 (advance),
//     which retries the transfer, polls again, or makes it final.
//  5. A final head leaves its FIFO and the next becomes head, in the same
//     loop: two reads never split one chunk of data out of order.
//
// Cancel finds a stream request through its context's slot table and acts
// on its state: a queued one leaves its FIFO and is final at once; a
// polling one has its POLL cancelled with io_cancel (which the kernel
// really does for polls) and is final once that event is reaped; one whose
// transfer runs is waited for, which takes one non-blocking system call. A
// context's Close cancels its stream requests and polls the same way.
//
// Files that cannot honour RWF_NOWAIT (some ttys and character devices)
// poll first and then transfer with a plain read or write; such a read
// could wait only if another process took the data in between.

// Stream request states, Request.sstate, under the stream's shard lock.
const (
	sNone    = iota // not a stream request
	sQueued         // behind earlier requests of its direction
	sReady          // head: a goroutine is about to try its transfer
	sTrying         // head: a goroutine performs its transfer or arms its POLL
	sPolling        // head: its POLL is in the kernel
	sDone           // final, or being made final by the goroutine that set this
)

// stream is the pending requests of one file with no position, by
// direction, the active head first.
type stream struct {
	id    sys.FileID
	shard *streamShard
	q     [2][]*Request
}

// streamShard holds the streams whose identity hashes to it. Its lock is
// taken after Context.mu and before nothing else.
type streamShard struct {
	mu sync.Mutex
	m  map[sys.FileID]*stream
}

var streamShards [64]streamShard

func shardOf(id sys.FileID) *streamShard {
	h := (id.Ino ^ id.Dev<<40) * 0x9e3779b97f4a7c15
	return &streamShards[h>>58]
}

// streamDir is the FIFO index of a read or write command.
func streamDir(cmd uint16) uint8 {
	if direction(cmd) == 0 {
		return 0
	}
	return 1
}

// enqueue puts r, a claimed stream request holding a slot, at the tail of
// its stream's FIFO and reports whether it is the head, to be tried now.
func (c *Context) enqueue(r *Request, id sys.FileID) bool {
	sh := shardOf(id)
	// Cancel finds stream requests by r.stream under c.mu: set it there.
	c.mu.Lock()
	defer c.mu.Unlock()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.m == nil {
		sh.m = make(map[sys.FileID]*stream)
	}
	s := sh.m[id]
	if s == nil {
		s = &stream{id: id, shard: sh}
		sh.m[id] = s
	}
	r.stream = s
	d := streamDir(r.Cmd)
	s.q[d] = append(s.q[d], r)
	if len(s.q[d]) == 1 {
		r.sstate = sReady
		return true
	}
	r.sstate = sQueued
	return false
}

// leaveLocked takes r out of its FIFO and returns the request that becomes
// head because of it, now sReady, or nil. The shard lock is held.
func (s *stream) leaveLocked(r *Request) *Request {
	d := streamDir(r.Cmd)
	q := s.q[d]
	for i, o := range q {
		if o != r {
			continue
		}
		copy(q[i:], q[i+1:])
		q[len(q)-1] = nil
		s.q[d] = q[:len(q)-1]
		if len(s.q[0]) == 0 && len(s.q[1]) == 0 {
			delete(s.shard.m, s.id)
		}
		if i == 0 && len(s.q[d]) > 0 {
			next := s.q[d][0]
			next.sstate = sReady
			return next
		}
		return nil
	}
	return nil
}

// advancer runs stream requests forward: it is the loop of steps 2 to 5.
// One lives for one call of advance, in one goroutine, outside every
// context lock.
type advancer struct {
	work    []*Request // sReady heads to try
	arms    []*Request // sTrying heads whose POLL is to be armed
	fins    []*Request // final, res set, to hand to their contexts
	refused []*Request // refused at their first try (EBADF): Submit fails them
	atOnce  bool       // an AtOnce request was done at its first try
	flush   bool       // arm every POLL now, deferred ones included
}

// advance tries the transfers of work, heads in state sReady, arms POLLs
// for those that must wait, and makes final those that are done, with the
// heads they free in turn. It returns the requests refused at their first
// try, which the caller (Submit) fails.
func advance(work []*Request) (refused []*Request, atOnce bool) {
	a := advancer{work: work}
	a.run()
	return a.refused, a.atOnce
}

// run steps the work until every head is final or polling, then hands the
// final ones to their contexts.
func (a *advancer) run() {
	for len(a.work) > 0 || len(a.arms) > 0 {
		for i := 0; i < len(a.work); i++ {
			a.step(a.work[i])
		}
		clear(a.work)
		a.work = a.work[:0]
		a.armAll()
	}
	a.finishAll()
}

// step moves one head forward.
func (a *advancer) step(r *Request) {
	sh := r.stream.shard
	sh.mu.Lock()
	if r.sstate != sReady {
		sh.mu.Unlock()
		return
	}
	first := r.firstTry
	r.firstTry = false
	if r.scancel {
		a.completeLocked(r, -int64(syscall.ECANCELED))
		sh.mu.Unlock()
		return
	}
	r.sstate = sTrying
	sh.mu.Unlock()

	res := r.transfer()

	sh.mu.Lock()
	defer sh.mu.Unlock()
	switch {
	case res == -int64(syscall.EAGAIN):
		a.arms = append(a.arms, r)
	case first && res == -int64(syscall.EBADF):
		r.res = res
		r.sstate = sDone
		if next := r.stream.leaveLocked(r); next != nil {
			a.work = append(a.work, next)
		}
		a.refused = append(a.refused, r)
	default:
		if first && r.AtOnce {
			r.doneAtOnce = true
			a.atOnce = true
		}
		a.completeLocked(r, res)
	}
}

// completeLocked makes r, the head of its FIFO, final with res once
// finishAll runs, and queues the next head. The shard lock is held.
func (a *advancer) completeLocked(r *Request, res int64) {
	if r.epfd >= 0 {
		_ = sys.CloseFd(r.epfd)
		r.epfd = -1
	}
	r.res = res
	r.sstate = sDone
	a.fins = append(a.fins, r)
	if next := r.stream.leaveLocked(r); next != nil {
		a.work = append(a.work, next)
	}
}

// transfer performs r's transfer, as far as it goes without waiting: the
// byte count or errno that makes r final, or -EAGAIN to poll. A write
// loops until all its bytes are written or the stream is full.
func (r *Request) transfer() int64 {
	if r.Cmd == abi.IOCB_CMD_PREAD || r.Cmd == abi.IOCB_CMD_PREADV {
		if r.plain {
			if !r.polled {
				return -int64(syscall.EAGAIN)
			}
			return sys.StreamReadPlain(r.Fd, r.Buf, r.Iov)
		}
		res := sys.StreamRead(r.Fd, r.Buf, r.Iov)
		if res == -int64(syscall.EOPNOTSUPP) {
			r.plain = true
			return -int64(syscall.EAGAIN)
		}
		return res
	}
	total := r.size()
	for {
		buf, iov := rest(r.Buf, r.Iov, r.sdone)
		var res int64
		if r.plain {
			if !r.polled {
				return -int64(syscall.EAGAIN)
			}
			r.polled = false
			// A plain write waits until all it was given is written: give
			// it no more than a ready tty takes at once (WAKEUP_CHARS).
			if iov != nil {
				buf, iov = nil, nil
				if _, v := rest(nil, r.Iov, r.sdone); len(v) > 0 {
					buf = v[0]
				}
			}
			buf = buf[:min(len(buf), plainChunk)]
			res = sys.StreamWritePlain(r.Fd, buf, nil)
		} else {
			res = sys.StreamWrite(r.Fd, buf, iov, r.kind == sys.KindSocket)
			if res == -int64(syscall.EOPNOTSUPP) {
				r.plain = true
				return -int64(syscall.EAGAIN)
			}
		}
		switch {
		case res == -int64(syscall.EAGAIN):
			return res
		case res < 0:
			return res
		}
		r.sdone += res
		if r.sdone >= total {
			return r.sdone
		}
		if res == 0 {
			return -int64(syscall.EAGAIN)
		}
	}
}

// plainChunk is the most a plain write (a file without RWF_NOWAIT) is
// given at once after its POLL said it was writable.
const plainChunk = 256

// size is the request's byte count.
func (r *Request) size() int64 {
	if r.Iov == nil {
		return int64(len(r.Buf))
	}
	var n int64
	for _, b := range r.Iov {
		n += int64(len(b))
	}
	return n
}

// rest returns buf, or iov, without its first n bytes.
func rest(buf []byte, iov [][]byte, n int64) ([]byte, [][]byte) {
	if iov == nil {
		return buf[min(n, int64(len(buf))):], nil
	}
	for len(iov) > 0 && n >= int64(len(iov[0])) {
		n -= int64(len(iov[0]))
		iov = iov[1:]
	}
	if n > 0 {
		v := make([][]byte, len(iov))
		copy(v, iov)
		v[0] = v[0][n:]
		iov = v
	}
	if iov == nil {
		iov = [][]byte{}
	}
	return nil, iov
}

// armAll puts the POLLs of a.arms in their contexts' rings, one io_submit
// per context. A POLL the kernel refuses (a file that cannot be polled)
// makes its request final with that errno; a closed context cancels it.
func (a *advancer) armAll() {
	for len(a.arms) > 0 {
		var c *Context
		var mine []*Request
		c, mine, a.arms = splitFirstContext(a.arms)
		if !a.flush && deferrable(mine) {
			c.deferArms(mine)
			continue
		}
		for _, f := range c.armPolls(mine) {
			if f.res == -int64(syscall.EINVAL) && f.r.pollViaEpoll() {
				a.arms = append(a.arms, f.r)
				continue
			}
			sh := f.r.stream.shard
			sh.mu.Lock()
			if f.res == -int64(syscall.ECANCELED) {
				f.r.scancel = true
			}
			a.completeLocked(f.r, f.res)
			sh.mu.Unlock()
		}
	}
}

type armFailure struct {
	r   *Request
	res int64
}

// armPolls writes the POLL iocb of each of reqs into its slot and submits
// them, then marks them sPolling unless their event came first. It returns
// those that could not be armed.
func (c *Context) armPolls(reqs []*Request) []armFailure {
	var failed []armFailure
	sb := getScratch()
	defer putScratch(sb)
	iocbs := sb.iocbs
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		for _, r := range reqs {
			failed = append(failed, armFailure{r, -int64(syscall.ECANCELED)})
		}
		return failed
	}
	for _, r := range reqs {
		i := r.slot
		var ev uint64 = unix.POLLIN
		if streamDir(r.Cmd) == 1 {
			ev = unix.POLLOUT
		}
		fd := r.Fd
		if r.epfd >= 0 {
			fd, ev = r.epfd, unix.POLLIN
		}
		c.slots[i].gen++
		c.iocbs[i] = abi.IOCB{
			Data:   uint64(c.slots[i].gen)<<32 | uint64(i),
			Opcode: abi.IOCB_CMD_POLL,
			Fildes: uint32(fd),
			Buf:    ev,
		}
		r.raw = true
		iocbs = append(iocbs, &c.iocbs[i])
	}
	c.mu.Unlock()
	sb.iocbs = iocbs
	// sPolling before io_submit: the POLL may complete inside it and be
	// reaped, retried and finished by another goroutine before io_submit
	// returns, and the request even be submitted anew. gens tells this
	// submission from a later one.
	for _, r := range reqs {
		sh := r.stream.shard
		sh.mu.Lock()
		r.sstate = sPolling
		r.armGen = r.Gen()
		sh.mu.Unlock()
	}
	errs := c.submitIocbs(iocbs, reqs)
	for i, r := range reqs {
		e, refused := errs[i]
		sh := shardOfReq(r)
		if sh == nil {
			continue // finished and resubmitted elsewhere meanwhile
		}
		sh.mu.Lock()
		mine := r.Gen() == r.armGen && r.sstate == sPolling
		switch {
		case !mine:
		case refused:
			r.sstate = sTrying // no POLL went in: the caller finishes it
			failed = append(failed, armFailure{r, -int64(e)})
		case r.scancel:
			// Cancel came while the POLL was on its way in and its
			// io_cancel found nothing: cancel it now.
			_ = c.q.cancel(&c.iocbs[r.slot])
		}
		sh.mu.Unlock()
	}
	return failed
}

// shardOfReq returns the shard of r's stream, or nil when r, final, was
// claimed anew before it joined a stream again.
func shardOfReq(r *Request) *streamShard {
	if s := r.stream; s != nil {
		return s.shard
	}
	return nil
}

// pollFired takes the reaped POLL events of stream requests (c.ready) and
// makes their requests heads to retry: res is the POLL's result. It runs
// after the reap released the ring's locks.
func pollFired(ready []*Request) {
	var a advancer
	for _, r := range ready {
		sh := r.stream.shard
		sh.mu.Lock()
		switch {
		case r.scancel:
			a.completeLocked(r, -int64(syscall.ECANCELED))
		case r.pollRes == -int64(syscall.EINVAL) && r.pollViaEpoll():
			r.sstate = sReady
			a.work = append(a.work, r)
		case r.pollRes < 0:
			a.completeLocked(r, r.pollRes)
		default:
			r.polled = true
			r.sstate = sReady
			a.work = append(a.work, r)
		}
		sh.mu.Unlock()
	}
	a.run() // refuses nothing: only a first try is refused
}

// finishAll hands the final requests to their contexts, in order, one
// batch per context.
func (a *advancer) finishAll() {
	for len(a.fins) > 0 {
		var c *Context
		var mine []*Request
		c, mine, a.fins = splitFirstContext(a.fins)
		c.finishAll(mine)
	}
}

// splitFirstContext takes out of reqs, in order, the requests of the first
// one's context, and returns that context, them, and the rest (reqs'
// array, reused).
func splitFirstContext(reqs []*Request) (c *Context, mine, rest []*Request) {
	c = reqs[0].ctx.Load()
	n := 0
	for _, r := range reqs {
		if r.ctx.Load() == c {
			mine = append(mine, r)
		} else {
			reqs[n] = r
			n++
		}
	}
	clear(reqs[n:])
	return c, mine, reqs[:n]
}

// pollViaEpoll gives r, whose POLL the kernel refused (EINVAL), an epoll
// instance watching its file to POLL instead, and reports whether it did:
// fs/aio.c polls only files that wait on a single queue, and a tty waits on
// two. r is owned by the caller (sTrying, or under its shard lock).
func (r *Request) pollViaEpoll() bool {
	if r.epfd >= 0 {
		return false
	}
	ep, err := sys.EpollFor(r.Fd, streamDir(r.Cmd) == 1)
	if err != nil {
		return false
	}
	r.epfd = ep
	return true
}

// finishAll makes reqs, which hold slots of c and have their results in
// res, final as a reap would: packets, notifications and all.
func (c *Context) finishAll(reqs []*Request) {
	c.reapMu.Lock()
	c.mu.Lock()
	for _, r := range reqs {
		// Written under c.mu, where Cancel reads it; the stream state
		// (sDone) already keeps every other goroutine off r.
		r.canceled = r.scancel
		c.freeSlotLocked(r)
	}
	c.mu.Unlock()
	kicked := c.finishBatchLocked(reqs)
	after := c.takeAfterLocked()
	c.reapMu.Unlock()
	c.runAfter(after)
	c.notifyListeners()
	// A goroutine parked as Await's driver learns of final requests only
	// through the eventfd.
	if !kicked && c.awaiting.Load() > 0 {
		c.Kick()
	}
}

// cancelStream cancels r, a stream request of c, and reports whether it
// did (false: it was already final). With wait it returns once r is final.
func (c *Context) cancelStream(r *Request, wait bool) bool {
	gen := r.Gen()
	for {
		c.flushArms() // a deferred POLL is sTrying until armed
		s := r.stream
		if s == nil {
			return false
		}
		sh := s.shard
		sh.mu.Lock()
		switch r.sstate {
		case sDone, sNone:
			sh.mu.Unlock()
			return false
		case sTrying:
			// One non-blocking system call, or an io_submit, away from
			// its next state.
			sh.mu.Unlock()
			time.Sleep(10 * time.Microsecond)
			continue
		case sQueued:
			var a advancer
			r.scancel = true
			a.completeLocked(r, -int64(syscall.ECANCELED))
			sh.mu.Unlock()
			a.finishAll()
			return true
		case sReady:
			r.scancel = true
			sh.mu.Unlock()
		case sPolling:
			r.scancel = true
			// Under the shard lock: the POLL's request cannot be finished
			// and its slot reused meanwhile. The lock is a leaf and
			// io_cancel does not block.
			_ = c.q.cancel(&c.iocbs[r.slot])
			sh.mu.Unlock()
		}
		if wait {
			c.awaitFinal(r, gen)
		}
		return true
	}
}

// awaitFinal reaps c until r, whose cancellation is under way, is final.
// The kernel delivers a cancelled POLL's event within microseconds.
func (c *Context) awaitFinal(r *Request, gen uint32) {
	pending := func() bool { return r.Gen() == gen && r.InFlight() }
	for d := time.Microsecond; pending(); {
		if c.Poll() == 0 && pending() {
			time.Sleep(d)
			d = min(2*d, time.Millisecond)
		}
	}
}

// Deferred arming. AIX's ReadFile and WriteFile are called one at a time
// from a port's harvest loop, and most of those that must wait do so
// together: a server answering fifty packets arms fifty POLLs. Their POLLs
// wait in the context until the next Poll or Park of the context (the loop's
// next GetQueuedCompletionStatus), and go to the kernel in one io_submit.
// A waiter always polls before it parks, Cancel and Close flush first, so
// a deferred POLL is armed before anybody waits for it.

// deferrable reports whether every one of reqs is an AtOnce request, whose
// POLL may wait for the context's next Poll.
func deferrable(reqs []*Request) bool {
	for _, r := range reqs {
		if !r.AtOnce {
			return false
		}
	}
	return true
}

// deferArms queues the POLLs of reqs, sTrying heads, for flushArms.
func (c *Context) deferArms(reqs []*Request) {
	c.armMu.Lock()
	c.deferred = append(c.deferred, reqs...)
	c.ndeferred.Store(int32(len(c.deferred)))
	c.armMu.Unlock()
	// A driver already parked (or about to, past its own flush) will not
	// poll again by itself: make its park return, so it flushes these.
	if c.drive.TryLock() {
		c.drive.Unlock() // nobody drives: the next waiter flushes first
		return
	}
	c.Kick()
}

// flushArms arms the deferred POLLs, in one io_submit.
func (c *Context) flushArms() {
	if c.ndeferred.Load() == 0 {
		return
	}
	c.armMu.Lock()
	list := c.deferred
	c.deferred, c.spareDeferred = c.spareDeferred[:0], nil
	c.ndeferred.Store(0)
	c.armMu.Unlock()
	a := advancer{arms: list, flush: true}
	a.run()
	clear(list)
	c.armMu.Lock()
	if c.spareDeferred == nil {
		c.spareDeferred = list[:0]
	}
	c.armMu.Unlock()
}
