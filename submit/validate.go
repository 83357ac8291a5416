package submit

import (
	"syscall"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/internal/abi"
	"github.com/goiocp/goiocp/internal/check"
	"github.com/goiocp/goiocp/internal/engine"
	"github.com/goiocp/goiocp/internal/sys"
)

// errno returns e boxed without allocating.
func errno(e syscall.Errno) error { return sys.Errno(e) }

// cmdOf returns the kernel command of op.
func cmdOf(op aiocb.Opcode) uint16 {
	switch op {
	case aiocb.OpRead:
		return abi.IOCB_CMD_PREAD
	case aiocb.OpWrite:
		return abi.IOCB_CMD_PWRITE
	case aiocb.OpFsync:
		return abi.IOCB_CMD_FSYNC
	case aiocb.OpFdsync:
		return abi.IOCB_CMD_FDSYNC
	case aiocb.OpReadv:
		return abi.IOCB_CMD_PREADV
	case aiocb.OpWritev:
		return abi.IOCB_CMD_PWRITEV
	case aiocb.OpPoll:
		return abi.IOCB_CMD_POLL
	}
	panic("submit: no kernel command for " + op.String())
}

// checkFields applies the rules of the contract that need no lookup, for a
// request performing op: those of the extended fields, then check.Request's.
// It returns 0 when cb may proceed.
func checkFields(cb *aiocb.AIOCB, op aiocb.Opcode) syscall.Errno {
	if cb.Flags&^aiocb.Extended != 0 {
		return syscall.EINVAL // an aio_flags bit nobody defined
	}
	if cb.Flags&aiocb.Extended != 0 && (cb.Version == 0 || cb.Version > aiocb.Vers2) {
		return syscall.EINVAL
	}
	if cb.IOCPFD != 0 && (cb.Flags&aiocb.Extended == 0 || cb.Version < aiocb.Vers2) {
		return syscall.EINVAL
	}
	return check.Request(cb, op)
}

func sigeventOf(s *aiocb.Sigevent) engine.Sigevent {
	return engine.Sigevent{Notify: int(s.Notify), Signo: s.Signo, Func: s.Func, Value: s.Value}
}

// route returns the context a request of cb completes to and its
// completion key: the port named by IOCPFD (EBADF if none is open there,
// EINVAL if the file is not associated with it), else the default context.
func route(cb *aiocb.AIOCB) (*engine.Context, engine.Assoc, error) {
	if cb.IOCPFD == 0 {
		c, err := defaultCtx()
		return c, engine.Assoc{}, err
	}
	c := engine.LookupPort(cb.IOCPFD)
	if c == nil {
		return nil, engine.Assoc{}, errno(syscall.EBADF)
	}
	a, ok := c.Lookup(cb.Fildes)
	if !ok {
		return nil, engine.Assoc{}, errno(syscall.EINVAL)
	}
	return c, a, nil
}

// prepare validates cb for op, routes it, claims it and fills its request.
// On failure nothing was submitted and cb's previous state is untouched
// unless claimed reports that cb now carries the error as its status.
func prepare(cb *aiocb.AIOCB, op aiocb.Opcode) (r *engine.Request, c *engine.Context, err error) {
	if cb == nil {
		return nil, nil, errno(syscall.EINVAL)
	}
	if e := checkFields(cb, op); e != 0 {
		return nil, nil, errno(e)
	}
	if op == aiocb.OpFsync || op == aiocb.OpFdsync {
		// The fsync may wait in user space for earlier requests, so the
		// kernel would see a bad fd only later: check it now.
		if err := sys.FdValid(cb.Fildes); err != nil {
			return nil, nil, err
		}
	}
	c, assoc, err := route(cb)
	if err != nil {
		return nil, nil, err
	}
	r = engine.RequestOf(cb)
	if err := r.Claim(); err != nil {
		return nil, nil, err
	}
	r.Owner = cb
	r.Cmd = cmdOf(op)
	r.Fd = cb.Fildes
	r.Offset = cb.Offset
	r.Buf, r.Iov = nil, nil
	switch op {
	case aiocb.OpRead, aiocb.OpWrite:
		r.Buf = cb.Buf
	case aiocb.OpReadv, aiocb.OpWritev:
		r.Iov = cb.Iov
	case aiocb.OpPoll:
		r.Offset = 0
		r.Events = cb.Events
	default:
		r.Offset = 0
	}
	r.Prio = cb.Reqprio
	if op == aiocb.OpFsync || op == aiocb.OpFdsync || op == aiocb.OpPoll {
		r.Prio = 0
	}
	r.Sev = sigeventOf(&cb.Sigevent)
	if cb.IOCPFD != 0 {
		r.UseAssoc(assoc, false)
	} else {
		r.Key = 0
	}
	r.Group = nil
	return r, c, nil
}

// failStatus records err as the status of a ListIO entry that failed
// validation, so Error and Return report it; an entry in flight (EBUSY)
// keeps its own request's status.
func failStatus(cb *aiocb.AIOCB, err error) {
	if cb == nil || err == errno(syscall.EBUSY) {
		return
	}
	r := engine.RequestOf(cb)
	if r.Claim() != nil {
		return
	}
	r.Owner = cb
	r.Group = nil
	e, ok := err.(syscall.Errno)
	if !ok {
		e = syscall.EAGAIN
	}
	r.Fail(e)
}
