//go:build linux

package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/submit"
)

// Global is the global engine: requests name no port, so they complete to
// the process default context, whose only harvester is the single global
// waiter submit.Nwait. Every goroutine submits its own requests with
// submit.ListIO and must get each one back, by one of the two usual shapes:
//
//   - Collector false (global-ebusy): every goroutine calls Nwait itself;
//     while another is inside, it gets EBUSY at once, waits up to 50 µs on
//     its hand-back channel and retries. What Nwait
//     returns belongs to any goroutine: the caller hands the others' requests
//     to their owners over channels.
//   - Collector true (global-collector): one collector goroutine loops on
//     Nwait and hands every finished request to its owner, which blocks on its
//     channel.
//
// The owner calls submit.Return and resubmits. G×qd must fit the default
// context (submit.DefaultDepth requests).
type Global struct {
	Collector bool
}

// Name returns "global-ebusy" or "global-collector".
func (g Global) Name() string {
	if g.Collector {
		return EngineGlobalCollector
	}
	return EngineGlobalEBUSY
}

// owner says which worker and slot an AIOCB belongs to.
type owner struct{ w, slot int }

// handback is a finished request on its way to its owner, with its slot.
type handback struct {
	cb   *aiocb.AIOCB
	slot int
}

// globalState is one worker's requests and hand-back channel.
type globalState struct {
	cbs   []*aiocb.AIOCB
	start []int64
	ch    chan handback
	batch []*aiocb.AIOCB
	list  []*aiocb.AIOCB
	timer *time.Timer // EBUSY back-off, reused
}

// ebusyBackoff is how long a goroutine that got EBUSY from Nwait waits for
// a hand-back before it retries.
const ebusyBackoff = 50 * time.Microsecond

// nwaitTimeout bounds one Nwait call so that no waiter can outlive the run.
const nwaitTimeout = 10 * time.Millisecond

// Run runs job.
func (g Global) Run(ctx context.Context, job Job) (Sample, error) {
	if job.G*job.QD > submit.DefaultDepth {
		return Sample{}, fmt.Errorf("%s: G×qd = %d exceeds the default context's %d requests", g.Name(), job.G*job.QD, submit.DefaultDepth)
	}
	states := make([]*globalState, job.G)
	owners := make(map[*aiocb.AIOCB]owner, job.G*job.QD)
	listLen := min(job.G*job.QD, 256)

	// dispatch hands every request of list to its owner: mine are handled
	// in place, the others go to their channels (never full: a channel
	// holds at most its owner's qd requests).
	dispatch := func(self int, list []*aiocb.AIOCB, handle func(handback)) {
		for k, cb := range list {
			o := owners[cb]
			if o.w == self {
				handle(handback{cb, o.slot})
			} else {
				states[o.w].ch <- handback{cb, o.slot}
			}
			list[k] = nil
		}
	}

	body := inproc{
		setup: func(w *worker) error {
			st := &globalState{start: make([]int64, job.QD), ch: make(chan handback, job.QD),
				batch: make([]*aiocb.AIOCB, 0, job.QD), list: make([]*aiocb.AIOCB, listLen),
				timer: time.NewTimer(time.Hour)}
			st.timer.Stop()
			for i := range job.QD {
				cb := &aiocb.AIOCB{Fildes: w.fd, Buf: w.buf(i), Opcode: lioOp(job.Workload.Op)}
				st.cbs = append(st.cbs, cb)
				owners[cb] = owner{w.id, i}
			}
			states[w.id] = st
			return nil
		},
		run: func(w *worker) error {
			st := states[w.id]
			now := w.now()
			for i, cb := range st.cbs {
				cb.Offset = w.next()
				st.start[i] = now
			}
			if err := submit.ListIO(submit.NoWait, st.cbs, nil); err != nil {
				return fmt.Errorf("%s: listio: %w", g.Name(), err)
			}
			inflight := len(st.cbs)
			var ferr error
			handle := func(h handback) {
				cb, i := h.cb, h.slot
				inflight--
				n, err := submit.Return(cb)
				now := w.now()
				if err != nil {
					ferr = fmt.Errorf("%s: %s: %w", g.Name(), job.Workload.Op, err)
				} else if err := w.done(st.start[i], now, n); err != nil {
					ferr = err
				}
				if ferr == nil && now < w.end {
					cb.Offset = w.next()
					st.start[i] = now
					st.batch = append(st.batch, cb)
				}
			}
			for inflight > 0 {
				st.batch = st.batch[:0]
				if g.Collector {
					handle(<-st.ch)
				}
				for drained := false; !drained; {
					select {
					case h := <-st.ch:
						handle(h)
					default:
						drained = true
					}
				}
				if !g.Collector && len(st.batch) == 0 && inflight > 0 {
					n, err := submit.Nwait(st.list, 1, nwaitTimeout)
					switch {
					case errors.Is(err, syscall.EBUSY):
						// Another goroutine is the waiter: wait a little for it to
						// hand something back, then retry. (A runtime.Gosched spin
						// here keeps the run queues full, so the Go scheduler polls
						// the network only from sysmon, every 10 ms, and the waiter
						// parked on the eventfd wakes that late.)
						st.timer.Reset(ebusyBackoff)
						select {
						case h := <-st.ch:
							st.timer.Stop()
							handle(h)
						case <-st.timer.C:
						}
						if len(st.batch) == 0 {
							continue
						}
					case err != nil && !errors.Is(err, syscall.EAGAIN):
						return fmt.Errorf("%s: nwait: %w", g.Name(), err)
					}
					dispatch(w.id, st.list[:n], handle)
				}
				if len(st.batch) > 0 {
					if err := submit.ListIO(submit.NoWait, st.batch, nil); err != nil {
						return fmt.Errorf("%s: listio: %w", g.Name(), err)
					}
					inflight += len(st.batch)
				}
			}
			return ferr
		},
	}
	if g.Collector {
		list := make([]*aiocb.AIOCB, listLen)
		body.shared = func(stop <-chan struct{}) error {
			for {
				select {
				case <-stop:
					return nil
				default:
				}
				n, err := submit.Nwait(list, 1, nwaitTimeout)
				if err != nil && !errors.Is(err, syscall.EAGAIN) {
					return fmt.Errorf("%s: nwait: %w", g.Name(), err)
				}
				if n == 0 {
					runtime.Gosched()
					continue
				}
				dispatch(-1, list[:n], nil)
			}
		}
	}
	return runInProcess(ctx, job, body)
}
