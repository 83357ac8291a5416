package submit

import (
	"syscall"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/internal/check"
	"github.com/goiocp/goiocp/internal/engine"
)

// Mode is the mode of ListIO.
type Mode int

// The ListIO modes.
const (
	Wait   Mode = iota // LIO_WAIT: return once every entry is final
	NoWait             // LIO_NOWAIT: return once every entry is queued
)

// ListIO is lio_listio: it starts every entry of list as its Opcode says
// (OpRead, OpWrite, OpReadv, OpWritev, OpFsync, OpFdsync, OpPoll), each completing
// to its own IOCPFD's port or to the default context. nil entries and OpNop
// are skipped. The entries bound for one context go to the kernel in one
// io_submit.
//
// len(list) > ListIOMax, a bad mode or a bad sev is EINVAL and nothing
// starts. An entry that fails validation gets that error as its status and
// performs no I/O; the others proceed, and ListIO returns EIO. An entry
// refused for lack of room in its context gets EAGAIN as its status, and
// ListIO returns EAGAIN.
//
// Wait returns once every started entry is final, EIO if any failed (sev is
// ignored). NoWait returns once all are queued and notifies sev (which may
// be nil) when all are final.
func ListIO(mode Mode, list []*aiocb.AIOCB, sev *aiocb.Sigevent) error {
	if mode != Wait && mode != NoWait {
		return errno(syscall.EINVAL)
	}
	if len(list) > ListIOMax {
		return errno(syscall.EINVAL)
	}
	var gsev engine.Sigevent
	if sev != nil {
		if e := check.Sigevent(sev); e != 0 {
			return errno(e)
		}
		if mode == NoWait {
			gsev = sigeventOf(sev)
		}
	}

	sb := getBatch()
	defer putBatch(sb)
	failed := false
	for _, cb := range list {
		if cb == nil || cb.Opcode == aiocb.OpNop {
			continue
		}
		r, c, err := prepare(cb, cb.Opcode)
		if err != nil {
			failStatus(cb, err)
			failed = true
			continue
		}
		sb.reqs = append(sb.reqs, r)
		sb.ctxs = append(sb.ctxs, c)
	}

	var g *engine.Group
	if mode == Wait || gsev.Notify != engine.NotifyNone {
		g = engine.NewGroup(len(sb.reqs), gsev)
		for _, r := range sb.reqs {
			r.Group = g
		}
	}

	// One Submit per context, each with its entries in list order.
	again := false
	for i, c := range sb.ctxs {
		if c == nil {
			continue
		}
		sb.used = append(sb.used, c)
		part := sb.part[:0]
		for j := i; j < len(sb.ctxs); j++ {
			if sb.ctxs[j] == c {
				part = append(part, sb.reqs[j])
				sb.ctxs[j] = nil
			}
		}
		switch c.Submit(part) {
		case 0:
		case syscall.EAGAIN:
			again = true
		default:
			failed = true
		}
		clear(part)
		sb.part = part[:0]
	}

	if mode == Wait && len(sb.reqs) > 0 {
		// Wait on every context the list went to, not only on those of
		// entries still in flight: an entry made final by another
		// goroutine's reap may not be counted in g yet (see Await). Await
		// drives the first, so a context with entries in flight goes
		// first. The submit loop left sb.ctxs all nil: it holds the order.
		order := sb.ctxs[:0]
		for _, r := range sb.reqs {
			if r.InFlight() {
				order = appendCtx(order, r.Context())
			}
		}
		for _, c := range sb.used {
			order = appendCtx(order, c)
		}
		engine.Await(order, g.Final, noDeadline)
		for _, r := range sb.reqs {
			if r.Status() != nil {
				failed = true
			}
		}
	}
	switch {
	case again:
		return errno(syscall.EAGAIN)
	case failed:
		return errno(syscall.EIO)
	}
	return nil
}
