package file

import (
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"syscall"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
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

// pool is the set of shared ports, with the count of open Files using it.
type pool struct {
	ports []*sharedPort
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
		sp := &sharedPort{p: p, done: make(chan struct{})}
		pl.ports = append(pl.ports, sp)
		go sp.harvest()
	}
	return pl, nil
}

// close closes the ports; their harvesters return.
func (pl *pool) close() {
	for _, sp := range pl.ports {
		sp.p.Close()
		<-sp.done
	}
}

// pick returns the port a call goes to.
func (pl *pool) pick() *sharedPort {
	if len(pl.ports) == 1 {
		return pl.ports[0]
	}
	return pl.ports[rand.N(len(pl.ports))]
}

// sharedPort is one port of the pool: its queue of calls waiting to be
// submitted, and its harvester.
type sharedPort struct {
	p    *port.Port
	done chan struct{} // closed when the harvester returns

	mu         sync.Mutex // guards the fields below
	pending    []*request // waiting for room or for the submitter, in order
	inflight   int        // requests submitted and not yet harvested
	submitting bool       // a goroutine is submitting pending
	batch      []*aiocb.AIOCB
}

// enqueue queues r and submits what is pending unless another goroutine is
// doing so. r.cb must be filled but for its port.
func (sp *sharedPort) enqueue(r *request) {
	r.cb.Flags, r.cb.Version, r.cb.IOCPFD = aiocb.Extended, aiocb.Vers2, sp.p.Fd()
	r.sp = sp
	sp.mu.Lock()
	r.state = stPending
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
		reqs := append([]*request(nil), list...)
		copy(sp.pending, sp.pending[n:])
		clear(sp.pending[len(sp.pending)-n:])
		sp.pending = sp.pending[:len(sp.pending)-n]
		sp.inflight += n
		sp.mu.Unlock()
		err := submit.ListIO(submit.NoWait, batch, nil)
		clear(batch)
		sp.mu.Lock()
		sp.batch = batch[:0]
		if err != nil {
			sp.refusedLocked(reqs, err)
		}
	}
	sp.submitting = false
	sp.mu.Unlock()
}

// refusedLocked handles a ListIO that did not queue every entry. The room
// is counted, the fd is open and the fields are valid, so this does not
// happen; should it, an entry already final is reported with its status
// and its request abandoned, since a packet for it may still come.
func (sp *sharedPort) refusedLocked(reqs []*request, err error) {
	for _, r := range reqs {
		st := submit.Error(&r.cb)
		if errors.Is(st, syscall.EINPROGRESS) || st == nil {
			continue
		}
		sp.inflight--
		r.abandoned = true
		r.res, r.err = 0, st
		r.state = stDone
		r.ch <- struct{}{}
	}
}

// harvest is the port's harvester: it takes the packets of the port's
// requests and wakes their callers, and submits what waited for room.
func (sp *sharedPort) harvest() {
	defer close(sp.done)
	pkts := make([]completion.Packet, 64)
	for {
		n, err := sp.p.GetQueuedCompletionStatusEx(pkts, port.Infinite)
		if err != nil {
			return // the port closed: the pool's last File is gone
		}
		sp.mu.Lock()
		for i := range pkts[:n] {
			pkt := pkts[i]
			pkts[i] = completion.Packet{}
			r, _ := pkt.CB.Sigevent.Value.(*request)
			sp.inflight--
			if r == nil || r.abandoned {
				continue
			}
			submit.Return(&r.cb)
			r.res, r.err = pkt.Bytes, pkt.Err
			r.state = stDone
			r.ch <- struct{}{}
		}
		if len(sp.pending) > 0 {
			sp.flushLocked()
		} else {
			sp.mu.Unlock()
		}
	}
}
