package submit

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/goiocp/goiocp/internal/engine"
)

// DefaultDepth is how many requests the default context holds in flight.
const DefaultDepth = 1024

// ListIOMax is AIO_LISTIO_MAX, the most entries one ListIO call takes.
const ListIOMax = 4096

// defaultContext is the process-wide context of requests that name no port.
var defaultContext struct {
	mu  sync.Mutex
	ctx atomic.Pointer[engine.Context]
	log doneLog
}

// defaultCtx returns the default context, making it on first use.
func defaultCtx() (*engine.Context, error) {
	if c := defaultContext.ctx.Load(); c != nil {
		return c, nil
	}
	defaultContext.mu.Lock()
	defer defaultContext.mu.Unlock()
	if c := defaultContext.ctx.Load(); c != nil {
		return c, nil
	}
	kind, err := engine.DefaultKind()
	if err != nil {
		return nil, fmt.Errorf("default context: %w", err)
	}
	c, err := engine.NewContext(kind, DefaultDepth, &defaultContext.log)
	if err != nil {
		return nil, fmt.Errorf("default context: %w", err)
	}
	defaultContext.ctx.Store(c)
	return c, nil
}

// doneEntry is a final default-context request not yet handed out; gen is
// the submission it speaks for.
type doneEntry struct {
	req *engine.Request
	gen uint32
}

// doneLog is the FIFO of final default-context requests that Nwait and
// Waitcomplete hand out, each at most once. An entry goes stale when its
// request is returned or submitted again; stale entries are skipped.
type doneLog struct {
	mu   sync.Mutex
	list []doneEntry
	head int
}

// Accepting implements engine.Sink: the default context makes no packets.
func (l *doneLog) Accepting() bool { return false }

// Deliver implements engine.Sink; it is never called (no packets).
func (l *doneLog) Deliver([]*engine.Request) (ok, kick bool) { return false, false }

// Record implements engine.Recorder.
func (l *doneLog) Record(batch []*engine.Request) {
	l.mu.Lock()
	if l.head > 0 && l.head >= len(l.list)/2 {
		// Compact: drop the handed-out prefix.
		n := copy(l.list, l.list[l.head:])
		clear(l.list[n:])
		l.list, l.head = l.list[:n], 0
	}
	for _, r := range batch {
		l.list = append(l.list, doneEntry{r, r.Gen()})
	}
	if len(l.list)-l.head > 4*DefaultDepth {
		l.pruneLocked()
	}
	l.mu.Unlock()
}

// pruneLocked drops stale entries, so that requests nobody collects with
// Nwait (POSIX users of Suspend and Return) do not pile up.
func (l *doneLog) pruneLocked() {
	n := 0
	for _, e := range l.list[l.head:] {
		if e.req.Gen() == e.gen && e.req.Final() {
			l.list[n] = e
			n++
		}
	}
	clear(l.list[n:])
	l.list, l.head = l.list[:n], 0
}

// pending returns how many entries wait, stale ones included.
func (l *doneLog) pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.list) - l.head
}

// take hands out up to max live entries.
func (l *doneLog) take(dst []*engine.Request, gens []uint32) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for n < len(dst) && l.head < len(l.list) {
		e := l.list[l.head]
		l.list[l.head] = doneEntry{}
		l.head++
		if e.req.Gen() == e.gen && e.req.Final() {
			dst[n] = e.req
			if gens != nil {
				gens[n] = e.gen
			}
			n++
		}
	}
	return n
}
