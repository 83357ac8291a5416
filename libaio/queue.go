package libaio

import (
	"fmt"
	"sync"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/port"
)

// Infinite makes GetEvents and Wait block until a completion arrives or the
// queue is released: libaio's NULL timeout.
const Infinite time.Duration = port.Infinite

// ErrReleased is returned by the calls on a Queue after Release, and by a
// second Release. It is port.ErrClosed, so either name matches with
// errors.Is.
var ErrReleased = port.ErrClosed

// Queue is libaio's io_context_t: a completion port with the requests
// submitted to it through Submit and their callbacks.
//
// A Queue is safe for concurrent use by multiple goroutines. Callbacks run
// on the goroutine that calls Run or Wait, with no lock of the Queue held,
// so a callback may call any method of its Queue (the aiocp state machine
// submits a write from a read's callback).
type Queue struct {
	port *port.Port

	mu       sync.Mutex // guards the fields below
	closed   bool
	inflight map[*aiocb.AIOCB]struct{} // submitted through Submit, completion not yet delivered
	cbfns    map[*aiocb.AIOCB]Callback // SetCallback's table, one-shot
	assoc    map[int]struct{}          // files associated with port by Submit
}

// QueueInit is io_queue_init: it makes a Queue that holds up to depth
// requests in flight, over a new port of that depth (port.WithDepth). The
// depth is charged against /proc/sys/fs/aio-max-nr until Release.
func QueueInit(depth int) (*Queue, error) {
	p, err := port.New(port.WithDepth(depth))
	if err != nil {
		return nil, fmt.Errorf("init queue: %w", err)
	}
	return &Queue{
		port:     p,
		inflight: make(map[*aiocb.AIOCB]struct{}, depth),
		cbfns:    make(map[*aiocb.AIOCB]Callback, depth),
		assoc:    make(map[int]struct{}),
	}, nil
}

// Release is io_queue_release: it closes the queue's port. Goroutines
// waiting in GetEvents or Wait return ErrReleased at once; requests still
// in flight finish but deliver nothing (no event, no callback). When Release
// returns the kernel no longer touches any buffer of the queue's requests,
// so they may be reused or unmapped. A second Release returns ErrReleased.
func (q *Queue) Release() error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return ErrReleased
	}
	q.closed = true
	clear(q.inflight)
	clear(q.cbfns)
	q.mu.Unlock()
	return q.port.Close()
}

// Port returns the queue's completion port, for what libaio has no words
// for (PostQueuedCompletionStatus, say). Its packets are the queue's events:
// whoever dequeues one from the port takes it from the queue.
func (q *Queue) Port() *port.Port { return q.port }

// Depth returns how many requests the queue holds in flight.
func (q *Queue) Depth() int { return q.port.Depth() }

// InFlight returns how many requests submitted through Submit have not had
// their completion delivered (by GetEvents, Run or Wait) nor been cancelled.
func (q *Queue) InFlight() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.inflight)
}
