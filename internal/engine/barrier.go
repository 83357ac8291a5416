package engine

import (
	"sync/atomic"
	"time"

	"github.com/goiocp/goiocp/internal/abi"
)

// A barrier holds an fsync back until every request queued before it on the
// same file is final. POSIX aio_fsync covers all I/O queued at the time of
// the call, but the kernel's IOCB_CMD_FSYNC does not wait for AIO still in
// flight, so the fsync goes to the kernel only when the barrier opens.
type barrier struct {
	fsync   *Request
	pending atomic.Int32
	ctxs    []*Context // contexts holding the earlier requests, for poll
}

// holdFsync computes r's barrier. It returns false when nothing earlier on
// r.Fd is in flight, so r can go to the kernel at once. Otherwise r is held
// in user space, still holding its slot, until its barrier opens.
func (c *Context) holdFsync(r *Request) bool {
	b := &barrier{fsync: r}
	b.pending.Store(1) // our own reference, dropped below
	foreign := false
	for _, o := range contexts() {
		o.mu.Lock()
		added := false
		for i := range o.slots {
			p := o.slots[i].req
			if p == nil || p == r || p.Fd != r.Fd {
				continue
			}
			if o == c && p.seq > r.seq {
				continue // queued after r in this context
			}
			p.barriers = append(p.barriers, b)
			b.pending.Add(1)
			added = true
		}
		o.mu.Unlock()
		if added {
			b.ctxs = append(b.ctxs, o)
			foreign = foreign || o != c
		}
	}
	if b.pending.Load() == 1 {
		return false
	}
	r.held.Store(b)
	if foreign {
		// Earlier requests sit in other contexts, which nobody may be
		// harvesting: keep them reaped until the barrier opens.
		go b.watch()
	}
	b.priorDone()
	return true
}

// priorDone counts one earlier request final; the last one sends the fsync
// to the kernel.
func (b *barrier) priorDone() {
	if b.pending.Add(-1) != 0 {
		return
	}
	r := b.fsync
	c := r.ctx.Load()
	c.mu.Lock()
	canceled := r.canceled
	r.held.Store(nil)
	c.mu.Unlock()
	if canceled {
		return // Cancel already finished it
	}
	if e := c.submitIocbs([]*abi.IOCB{&c.iocbs[r.slot]}, []*Request{r}); e != nil {
		// Refused by io_submit: the fsync's call returned long ago, so the
		// errno becomes its asynchronous result.
		c.Finish(r, -int64(e[0]))
	}
}

// poll reaps the contexts of the requests the barrier waits for.
func (b *barrier) poll() {
	for _, o := range b.ctxs {
		o.Poll()
	}
}

// watch polls the contexts the barrier waits on until it opens, backing off
// from 20µs to 2ms between polls.
func (b *barrier) watch() {
	d := 20 * time.Microsecond
	for b.pending.Load() > 0 {
		b.poll()
		time.Sleep(d)
		if d < 2*time.Millisecond {
			d *= 2
		}
	}
}
