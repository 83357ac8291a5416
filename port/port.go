package port

import (
	"fmt"
	"sync"
	"syscall"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/internal/engine"
	"go.uber.org/atomic"
)

// Port is an I/O completion port. All its methods are safe for concurrent
// use by multiple goroutines.
type Port struct {
	ctx *engine.Context
	fd  int

	mu      sync.Mutex // guards the fields below
	closed  bool
	q       queue
	waiters []*waiter // parked waiters, most recent last (LIFO release)
	driver  *waiter   // the waiter parked on the eventfd, if it is one of ours
	pool    []*waiter // idle waiters, reused

	posted, dequeued, wakeups atomic.Uint64 // see Stats (go.uber.org/atomic: no copying, no zero-value traps)
}

// New creates a port with its own kernel AIO context and eventfd, not
// associated with any file.
func New(opts ...Option) (*Port, error) {
	cfg := config{depth: DefaultDepth}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.depth <= 0 {
		return nil, fmt.Errorf("create port: depth %d: %w", cfg.depth, syscall.EINVAL)
	}
	if !cfg.engineSet {
		e, err := defaultEngine()
		if err != nil {
			return nil, fmt.Errorf("create port: %w", err)
		}
		cfg.engine = e
	}
	if err := engineUsable(cfg.engine); err != nil {
		return nil, fmt.Errorf("create port: engine %v: %w", cfg.engine, err)
	}
	p := &Port{}
	ctx, err := engine.NewContext(engine.Kind(cfg.engine), cfg.depth, (*sink)(p))
	if err != nil {
		return nil, fmt.Errorf("create port: %w", err)
	}
	if cfg.kernelWait {
		ctx.SetKernelWait()
	}
	ctx.OnRelease = p.passDrive
	p.ctx, p.fd = ctx, ctx.Fd()
	engine.RegisterPort(ctx)
	return p, nil
}

// Create is CreateIoCompletionPort. With existing == nil it creates a new
// port (New with default options); with existing != nil it returns existing.
// Either way, if fd >= 0 the file is associated with the port under key;
// fd == -1 creates or returns the port without association. concurrency
// must be >= 0 (EINVAL otherwise) and is otherwise ignored: the Go scheduler
// (GOMAXPROCS) limits how many goroutines run.
func Create(fd int, existing *Port, key uintptr, concurrency int) (*Port, error) {
	if concurrency < 0 {
		return nil, fmt.Errorf("create port: concurrency %d: %w", concurrency, syscall.EINVAL)
	}
	if fd < -1 {
		return nil, fmt.Errorf("create port: file %d: %w", fd, syscall.EBADF)
	}
	p := existing
	if p == nil {
		var err error
		if p, err = New(); err != nil {
			return nil, err
		}
	}
	if fd >= 0 {
		if err := p.Associate(fd, key); err != nil {
			if existing == nil {
				p.Close()
			}
			return nil, err
		}
	}
	return p, nil
}

// Fd returns the port's descriptor, the value for aiocb.AIOCB.IOCPFD. It is
// the port's eventfd, so it is always >= 3 and unique among open ports.
func (p *Port) Fd() int { return p.fd }

// Associate associates file fd with the port under key, the CompletionKey
// returned in the packets of its requests. A file may be associated with
// many ports and a port may hold many files. Associating the same fd again
// replaces its key: the kernel reuses fd numbers, so an association belongs
// to the number. A fd that is not open is EBADF; a closed port ErrClosed.
func (p *Port) Associate(fd int, key uintptr) error {
	if fd < 0 {
		return fmt.Errorf("associate file %d: %w", fd, syscall.EBADF)
	}
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if err := p.ctx.Associate(fd, key); err != nil {
		return fmt.Errorf("associate file %d: %w", fd, err)
	}
	return nil
}

// Depth returns how many requests the port holds in flight.
func (p *Port) Depth() int { return p.ctx.Depth() }

// Close closes the port. Every goroutine waiting on it returns ErrClosed at
// once and queued packets are dropped (their requests may be submitted
// again). Requests still in flight finish, their status becomes final (see
// submit.Error) but they make no packet. Close returns once the kernel no
// longer touches any buffer of the port's requests, with the kernel context
// and the eventfd released. Closing twice returns ErrClosed.
func (p *Port) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	p.closed = true
	engine.UnregisterPort(p.ctx)
	for _, w := range p.waiters {
		w.closed = true
		w.wake()
	}
	clear(p.waiters)
	p.waiters = p.waiters[:0]
	for p.q.len() > 0 {
		if it := p.q.pop(); it.req != nil {
			it.req.Harvested()
		}
	}
	p.mu.Unlock()
	if err := p.ctx.Close(); err != nil {
		return fmt.Errorf("close port: %w", err)
	}
	return nil
}

// sink is the port as its engine context sees it: where reaped requests
// become packets. It keeps engine.Sink's methods off Port's public API.
type sink Port

// Accepting implements engine.Sink.
func (s *sink) Accepting() bool {
	p := (*Port)(s)
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.closed
}

// Deliver implements engine.Sink: it hands a reaped batch to the waiters,
// most recent first, each up to what it asked for, and queues the rest.
func (s *sink) Deliver(batch []*engine.Request) (ok, kick bool) {
	p := (*Port)(s)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false, false
	}
	for _, r := range batch {
		n, err := r.Result()
		p.handLocked(item{
			pkt: completion.Packet{Key: r.Key, Bytes: n, CB: cbOf(r), Err: err},
			req: r,
		})
	}
	return true, p.flushLocked()
}

// cbOf returns the AIOCB of r's packet: nil for a ReadFile or WriteFile
// made without one.
func cbOf(r *engine.Request) *aiocb.AIOCB {
	cb, _ := r.Owner.(*aiocb.AIOCB)
	return cb
}

// handLocked gives it to the most recent waiter with room, or queues it.
func (p *Port) handLocked(it item) {
	for len(p.waiters) > 0 {
		w := p.waiters[len(p.waiters)-1]
		if w.n < w.want {
			w.buf[w.n] = it.pkt
			w.n++
			if it.req != nil {
				it.req.Harvested()
			}
			return
		}
		p.popWaiterLocked()
	}
	p.q.push(it)
}

// flushLocked releases the waiter that handLocked filled last, if any, and
// reports whether it is parked as the context's driver (the engine or the
// caller then kicks the eventfd).
func (p *Port) flushLocked() bool {
	if len(p.waiters) == 0 {
		return false
	}
	if w := p.waiters[len(p.waiters)-1]; w.n > 0 {
		return p.popWaiterLocked()
	}
	return false
}

// popWaiterLocked removes the top waiter and wakes it.
func (p *Port) popWaiterLocked() (kick bool) {
	w := p.waiters[len(p.waiters)-1]
	p.waiters[len(p.waiters)-1] = nil
	p.waiters = p.waiters[:len(p.waiters)-1]
	if w == p.driver {
		return true
	}
	w.wake()
	return false
}

// PostQueuedCompletionStatus queues a packet carrying bytes, key and cb,
// none of which the port interprets; cb may be nil or any AIOCB. It wakes
// the most recent waiter. A closed port is ErrClosed.
func (p *Port) PostQueuedCompletionStatus(bytes int, key uintptr, cb *aiocb.AIOCB) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	p.handLocked(item{pkt: completion.Packet{Key: key, Bytes: bytes, CB: cb}})
	p.posted.Inc()
	kick := p.flushLocked()
	p.mu.Unlock()
	if kick {
		p.ctx.Kick()
	}
	return nil
}

// Waiters returns how many goroutines are blocked in the port's waits.
func (p *Port) Waiters() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.waiters)
}
