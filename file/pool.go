package file

import (
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
	"go.uber.org/atomic"
)

// The ports every File of the process shares: one per P, at most maxPorts,
// each of depth portDepth (charged against /proc/sys/fs/aio-max-nr while
// any File is open). The pool is made when the first File opens and closed
// when the last one closes, so an idle program holds no port, goroutine or
// kernel context.
const (
	maxPorts  = 8
	portDepth = 256
)

// active counts the port requests of the process not yet final: with none,
// a call may run as a plain system call (see pool.alone).
var active atomic.Int64

// loneCalls counts the calls alone let run plainly, for the tests.
var loneCalls atomic.Int64

// alone reports whether no port request and no ring read of the process
// is in flight (plain preads and pwrites in callers are not counted), and
// then takes lone: the caller runs its call as one plain system call and
// gives lone back after it. One call alone gains nothing from going
// asynchronous, and os.File's pread is the fast way; a second call finds
// lone taken and goes to the ports or the ring, and from then on the calls
// stay asynchronous.
func (pl *pool) alone() bool {
	if active.Load() != 0 || pl.ring.busy() {
		return false
	}
	select {
	case lone <- struct{}{}:
		loneCalls.Inc()
		return true
	default:
		return false
	}
}

// pool is the set of shared ports, with the count of open Files using it.
type pool struct {
	ports []*sharedPort
	ring  *ringReader // buffered misses (ring.go); nil without io_uring
}

var pools struct {
	sync.Mutex
	cur  *pool
	refs int
}

// acquire returns the pool, making it for the first File, and counts fd's
// File in; fd is associated with every port.
func acquire(fd int) (*pool, error) {
	pools.Lock()
	defer pools.Unlock()
	if pools.cur == nil {
		p, err := newPool()
		if err != nil {
			return nil, err
		}
		pools.cur = p
	}
	for _, sp := range pools.cur.ports {
		if err := sp.p.Associate(fd, 0); err != nil {
			if pools.refs == 0 {
				pools.cur.close()
				pools.cur = nil
			}
			return nil, err
		}
	}
	pools.refs++
	return pools.cur, nil
}

// release counts a File out; the last one closes the pool.
func release() {
	pools.Lock()
	defer pools.Unlock()
	if pools.refs--; pools.refs == 0 {
		pools.cur.close()
		pools.cur = nil
	}
}

func newPool() (*pool, error) {
	n := min(runtime.GOMAXPROCS(0), maxPorts)
	pl := &pool{}
	for range n {
		p, err := port.New(port.WithDepth(portDepth))
		if err != nil {
			pl.close()
			return nil, err
		}
		pl.ports = append(pl.ports, &sharedPort{p: p, turn: make(chan struct{}, 1)})
	}
	pl.ring = newRingReader()
	return pl, nil
}

// close closes the ports. No call waits on them: the last File's Close
// waited for its calls.
func (pl *pool) close() {
	for _, sp := range pl.ports {
		sp.p.Close()
	}
	if pl.ring != nil {
		pl.ring.close()
	}
}

// pick returns the port a call goes to.
func (pl *pool) pick() *sharedPort {
	if len(pl.ports) == 1 {
		return pl.ports[0]
	}
	return pl.ports[rand.N(len(pl.ports))]
}

// sharedPort is one port of the pool and its queue of calls waiting to be
// submitted. There is no harvester goroutine: a caller waiting for its
// request drives the port (see await), harvesting for everyone until its
// own request is final, then passes the role to another waiting caller.
type sharedPort struct {
	p *port.Port

	mu         sync.Mutex // guards the fields below
	pending    []*request // waiting for room or for the submitter, in order
	inflight   int        // requests submitted and not yet harvested
	submitting bool       // a goroutine is submitting pending
	batch      []*aiocb.AIOCB

	drive   sync.Mutex    // held by the caller harvesting the port
	waiting atomic.Int32  // callers waiting without driving
	turn    chan struct{} // capacity 1: the driver left, a waiting caller may drive
	pkts    []completion.Packet
}

// enqueue queues r and submits what is pending unless another goroutine is
// doing so. r.cb must be filled but for its port.
func (sp *sharedPort) enqueue(r *request) {
	r.cb.Flags, r.cb.Version, r.cb.IOCPFD = aiocb.Extended, aiocb.Vers2, sp.p.Fd()
	r.sp = sp
	sp.mu.Lock()
	r.state = stPending
	active.Inc()
	sp.pending = append(sp.pending, r)
	sp.flushLocked()
}

// flushLocked submits pending requests while there is room, in batches of
// one ListIO, releasing sp.mu around each; the goroutine that finds the
// port idle does the submitting for everyone. sp.mu is held on entry and
// released on return.
func (sp *sharedPort) flushLocked() {
	if sp.submitting {
		sp.mu.Unlock()
		return
	}
	sp.submitting = true
	for len(sp.pending) > 0 && sp.inflight < portDepth {
		n := min(len(sp.pending), portDepth-sp.inflight, submit.ListIOMax)
		list := sp.pending[:n]
		batch := sp.batch[:0]
		for _, r := range list {
			r.state = stSubmitted
			batch = append(batch, &r.cb)
		}
		copy(sp.pending, sp.pending[n:])
		clear(sp.pending[len(sp.pending)-n:])
		sp.pending = sp.pending[:len(sp.pending)-n]
		sp.inflight += n
		sp.mu.Unlock()
		err := submit.ListIO(submit.NoWait, batch, nil)
		sp.mu.Lock()
		if err != nil {
			sp.refusedLocked(batch)
		}
		clear(batch)
		sp.batch = batch[:0]
	}
	sp.submitting = false
	sp.mu.Unlock()
}

// refusedLocked handles a ListIO that did not queue every entry. The room
// is counted, the fd is open and the fields are valid, so this does not
// happen; should it, an entry already final is reported with its status
// and its request abandoned, since a packet for it may still come.
func (sp *sharedPort) refusedLocked(batch []*aiocb.AIOCB) {
	for _, cb := range batch {
		r := cb.Sigevent.Value.(*request)
		st := submit.Error(cb)
		if errors.Is(st, syscall.EINPROGRESS) || st == nil {
			continue
		}
		sp.inflight--
		r.abandoned = true
		r.res, r.err = 0, st
		r.state = stDone
		active.Dec()
		r.ch <- struct{}{}
	}
}

// await waits until r is final (true: its token is taken) or done is
// closed (false). While nobody drives the port it drives it itself; else
// it waits for its token or for its turn.
func (sp *sharedPort) await(r *request, done <-chan struct{}) bool {
	for {
		select {
		case <-r.ch:
			return true
		default:
		}
		if sp.drive.TryLock() {
			ok := sp.harvest(r, done)
			sp.leave()
			return ok
		}
		sp.waiting.Add(1)
		// The driver may have left between the TryLock and the count: it
		// then saw no waiter, so look again.
		if sp.drive.TryLock() {
			sp.waiting.Add(-1)
			ok := sp.harvest(r, done)
			sp.leave()
			return ok
		}
		select {
		case <-r.ch:
			sp.waiting.Add(-1)
			return true
		case <-sp.turn:
			sp.waiting.Add(-1)
			// The turn is ours even if r is final by now: drive (harvest
			// returns at once then) so that leave passes it on, or the
			// next waiter's packets could sit with nobody driving.
			if sp.drive.TryLock() {
				ok := sp.harvest(r, done)
				sp.leave()
				return ok
			}
		case <-done:
			sp.waiting.Add(-1)
			return false
		}
	}
}

// leave gives the driver role up and wakes a waiting caller to take it.
func (sp *sharedPort) leave() {
	sp.drive.Unlock()
	if sp.waiting.Load() > 0 {
		select {
		case sp.turn <- struct{}{}:
		default:
		}
	}
}

// harvest drives the port: it takes packets and wakes their callers, and
// submits what waited for room, until r is final (true, its token taken)
// or done is closed (false). The caller holds sp.drive.
func (sp *sharedPort) harvest(r *request, done <-chan struct{}) bool {
	if sp.pkts == nil {
		sp.pkts = make([]completion.Packet, 64)
	}
	timeout := port.Infinite
	if done != nil {
		timeout = 10 * time.Millisecond // look at done between waits
	}
	for {
		select {
		case <-r.ch:
			return true
		case <-done:
			return false
		default:
		}
		n, err := sp.p.GetQueuedCompletionStatusEx(sp.pkts, timeout)
		if err != nil {
			if errors.Is(err, port.ErrTimeout) {
				continue
			}
			// The port closed under a caller: the pool outlived its Files.
			panic("file: shared port closed while a call waits: " + err.Error())
		}
		sp.mu.Lock()
		for i := range sp.pkts[:n] {
			pkt := sp.pkts[i]
			sp.pkts[i] = completion.Packet{}
			o, _ := pkt.CB.Sigevent.Value.(*request)
			sp.inflight--
			if o == nil || o.abandoned {
				continue
			}
			submit.Return(&o.cb)
			o.res, o.err = pkt.Bytes, pkt.Err
			o.state = stDone
			active.Dec()
			o.ch <- struct{}{}
		}
		if len(sp.pending) > 0 {
			sp.flushLocked()
		} else {
			sp.mu.Unlock()
		}
	}
}
