package submit

import (
	"sync/atomic"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/internal/engine"
)

// nwaitBusy is set while a goroutine is inside Nwait.
var nwaitBusy atomic.Bool

// Nwait is AIX's aio_nwait_timeout, the single global waiter, kept for
// comparison with ports: it waits until at least nwait default-context
// requests are final, stores up to len(list) of them in list, and returns
// how many. Each is handed out once; Return still gives its result.
//
// Only one goroutine may be inside Nwait: a concurrent caller gets EBUSY at
// once. nwait > len(list) or nwait < 0 is EINVAL. When timeout passes first
// it returns what it has with EAGAIN; Infinite waits without limit and 0
// polls. When fewer than nwait requests are in flight or final, it returns
// what there is without waiting for requests that do not exist (AIX).
func Nwait(list []*aiocb.AIOCB, nwait int, timeout time.Duration) (int, error) {
	if nwait < 0 || nwait > len(list) {
		return 0, errno(syscall.EINVAL)
	}
	if !nwaitBusy.CompareAndSwap(false, true) {
		return 0, errno(syscall.EBUSY)
	}
	defer nwaitBusy.Store(false)
	c, err := defaultCtx()
	if err != nil {
		return 0, err
	}
	log := &defaultContext.log
	deadline := deadlineOf(timeout)
	var reqs [64]*engine.Request
	got := 0
	collect := func() {
		for got < len(list) {
			n := log.take(reqs[:min(len(reqs), len(list)-got)], nil)
			for _, r := range reqs[:n] {
				list[got] = r.Owner.(*aiocb.AIOCB)
				got++
			}
			clear(reqs[:n])
			if n == 0 {
				return
			}
		}
	}
	for {
		c.Poll()
		collect()
		if got >= nwait || got+c.InFlight() < nwait {
			return got, nil
		}
		if timeout == 0 {
			return got, errno(syscall.EAGAIN)
		}
		need := nwait - got
		ok := engine.Await([]*engine.Context{c}, func() bool {
			return log.pending() >= need || c.InFlight()+log.pending() < need
		}, deadline)
		if !ok {
			collect()
			if got >= nwait {
				return got, nil
			}
			return got, errno(syscall.EAGAIN)
		}
	}
}

// Waitcomplete is FreeBSD's aio_waitcomplete: it returns the next final
// default-context request with its byte count and its own error, performing
// its Return (a later Return is EINVAL). With none final within timeout it
// returns nil, 0, EAGAIN; Infinite waits without limit and 0 polls. Any
// number of goroutines may wait at once; each request goes to one.
func Waitcomplete(timeout time.Duration) (*aiocb.AIOCB, int, error) {
	c, err := defaultCtx()
	if err != nil {
		return nil, 0, err
	}
	log := &defaultContext.log
	deadline := deadlineOf(timeout)
	for {
		c.Poll()
		var one [1]*engine.Request
		var gen [1]uint32
		for log.take(one[:], gen[:]) == 1 {
			r := one[0]
			if n, rerr, ok := r.ReturnGen(gen[0]); ok {
				return r.Owner.(*aiocb.AIOCB), n, rerr
			}
		}
		if timeout == 0 {
			return nil, 0, errno(syscall.EAGAIN)
		}
		if !engine.Await([]*engine.Context{c}, func() bool { return log.pending() > 0 }, deadline) {
			return nil, 0, errno(syscall.EAGAIN)
		}
	}
}
