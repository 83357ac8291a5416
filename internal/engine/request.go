package engine

import (
	"sync/atomic"
	"syscall"

	"github.com/goiocp/goiocp/internal/abi"
	"github.com/goiocp/goiocp/internal/sys"
)

// Request state word, Request.state:
//
//	bits 0-1  phase: phaseIdle, phaseInFlight, phaseDone
//	bit  2    flagPacket: a packet of this request waits on its port, unharvested
//	bit  3    flagReturned: Return (or Waitcomplete) has consumed the result
//	bits 8-31 generation, incremented by every claim
const (
	phaseIdle     = 0
	phaseInFlight = 1
	phaseDone     = 2
	phaseMask     = 3

	flagPacket   = 1 << 2
	flagReturned = 1 << 3

	genShift = 8
)

// Notify kinds, as aiocb.Notify.
const (
	NotifyNone = iota
	NotifySignal
	NotifyThread
)

// Sigevent is a request's completion notification.
type Sigevent struct {
	Notify int
	Signo  syscall.Signal
	Func   func(any)
	Value  any
}

// fire delivers the notification.
func (s *Sigevent) fire() {
	switch s.Notify {
	case NotifySignal:
		_ = sys.Signal(s.Signo)
	case NotifyThread:
		go s.Func(s.Value)
	}
}

// Request is the state of one asynchronous request. One is embedded in every
// aiocb.AIOCB; Owner points back at it.
//
// The submission fields (Cmd through Group) belong to the submitter until
// Submit and to the engine until the request is final. The state word is
// atomic; res is written before the state turns phaseDone and read only
// after observing it.
type Request struct {
	Owner any // the *aiocb.AIOCB this state belongs to

	Cmd    uint16 // IOCB_CMD_*
	Fd     int
	Offset int64
	Buf    []byte
	Iov    [][]byte
	Prio   int      // POSIX aio_reqprio, 0..20
	Sev    Sigevent // per-request notification
	Key    uintptr  // completion key of the port association
	Group  *Group   // ListIO group, or nil
	Events int16    // IOCB_CMD_POLL: the poll(2) events to wait for
	// AtOnce asks that a stream transfer done within Submit (its first try)
	// make no packet, as AIX's ReadFile returning TRUE: see SubmitAtOnce.
	AtOnce bool

	state atomic.Uint32
	res   int64 // bytes, or a negated errno, once final

	// ctx and held are atomic so that Status may run beside a submit of
	// the same request in another goroutine.
	ctx  atomic.Pointer[Context] // context of the current or last submission
	held atomic.Pointer[barrier] // set on an fsync waiting for earlier requests

	// Guarded by ctx.mu while in flight.
	slot     int32
	seq      uint64
	canceled bool
	worker   uint8      // workerQueued or workerRunning, see worker.go
	raw      bool       // io_submit cannot block for it; set by fillLocked
	nowait   bool       // submitted with RWF_NOWAIT, so a worker may finish it; set by fillLocked
	id       sys.FileID // the file's identity at submit, for workers and streams
	kind     int        // sys.KindFile, KindStream or KindSocket, by identify
	pre      bool       // preKind and preID, from the association, may stand for a look (UseAssoc)
	preKind  int
	preID    sys.FileID
	barriers []*barrier // fsyncs waiting for this request

	// Stream requests (stream.go). stream is set at Submit; the rest is
	// under its shard lock while in flight.
	stream     *stream
	sstate     uint8
	scancel    bool  // Cancel or Close asked for it
	firstTry   bool  // the next try is the one within Submit
	doneAtOnce bool  // final within Submit, with AtOnce: no packet
	plain      bool  // the file cannot honour RWF_NOWAIT: poll, then transfer
	polled     bool  // its POLL fired since its last transfer
	epfd       int   // >= 0: an epoll instance watching Fd, which its POLL waits on instead (ttys); -1 none
	sdone      int64 // bytes of a write already written
	pollRes    int64 // the result of its last POLL, as reaped

	// io_uring (uring_prepare.go), set by its submitter before c.mu.
	async       bool          // issue in io-wq (IOSQE_ASYNC), never inline
	inline      bool          // a file in memory: copied in the submitter
	fixed       bool          // the ring's file table holds its file at its slot's index
	cancelNote  *laterCancel  // a Cancel waiting to learn whether its cancellation took (cancel.go), under c.mu
	cancelTried bool          // io_uring: Cancel told its running worker to stop
	refuse      syscall.Errno // refuse it at once with this errno

	armGen uint32 // Gen() when its POLL was last armed: tells that submission from a later one
}

// Claim makes r in flight for a new submission. It fails with EBUSY while
// the previous submission is in flight or its packet waits unharvested.
func (r *Request) Claim() error {
	for {
		s := r.state.Load()
		if s&phaseMask == phaseInFlight || s&flagPacket != 0 {
			return sys.Errno(syscall.EBUSY)
		}
		gen := s>>genShift + 1
		if r.state.CompareAndSwap(s, gen<<genShift|phaseInFlight) {
			r.res = 0
			r.canceled = false
			r.AtOnce = false
			r.Events = 0
			r.pre = false
			return nil
		}
	}
}

// Gen returns the generation of the current or last submission.
func (r *Request) Gen() uint32 { return r.state.Load() >> genShift }

// Context returns the context of the current or last submission.
func (r *Request) Context() *Context { return r.ctx.Load() }

// InFlight reports whether r is in flight.
func (r *Request) InFlight() bool { return r.state.Load()&phaseMask == phaseInFlight }

// Final reports whether r has a final status not yet consumed by Return.
func (r *Request) Final() bool {
	s := r.state.Load()
	return s&phaseMask == phaseDone && s&flagReturned == 0
}

// finish makes r final with res. packet records that a packet for it is
// about to be queued. Only the engine calls it, once per submission.
func (r *Request) finish(res int64, packet bool) {
	r.res = res
	s := r.state.Load()
	ns := s&^phaseMask | phaseDone
	if packet {
		ns |= flagPacket
	}
	r.state.Store(ns)
}

// Fail makes a claimed request final with err without any I/O: it was
// refused before reaching the kernel. No notification fires and no packet is
// made; a ListIO group still counts it.
func (r *Request) Fail(err syscall.Errno) {
	r.finish(-int64(err), false)
	if g := r.Group; g != nil {
		g.done()
	}
}

// Harvested clears the unharvested-packet flag: the request's packet has
// left its port.
func (r *Request) Harvested() {
	for {
		s := r.state.Load()
		if r.state.CompareAndSwap(s, s&^flagPacket) {
			return
		}
	}
}

// Status returns r's status: EINPROGRESS in flight, nil on success,
// ECANCELED if cancelled, else the request's errno. A request never
// submitted is EINVAL. It reaps r's context first, without blocking, so a
// request the kernel has finished reads as final whether or not anyone
// harvests its port.
func (r *Request) Status() error {
	s := r.state.Load()
	if s&phaseMask == phaseInFlight {
		if c := r.ctx.Load(); c != nil {
			c.Poll()
		}
		if b := r.held.Load(); b != nil {
			b.poll()
		}
		s = r.state.Load()
	}
	switch s & phaseMask {
	case phaseIdle:
		return sys.Errno(syscall.EINVAL)
	case phaseInFlight:
		return sys.Errno(syscall.EINPROGRESS)
	}
	return sys.ResultErr(r.res)
}

// Return consumes r's result: the byte count and nil, or -1 and the
// request's error. It is EINPROGRESS in flight and EINVAL for a request
// never submitted or already returned.
func (r *Request) Return() (int, error) {
	if r.state.Load()&phaseMask == phaseInFlight {
		if c := r.ctx.Load(); c != nil {
			c.Poll()
		}
	}
	for {
		s := r.state.Load()
		switch {
		case s&phaseMask == phaseInFlight:
			return -1, sys.Errno(syscall.EINPROGRESS)
		case s&phaseMask == phaseIdle, s&flagReturned != 0:
			return -1, sys.Errno(syscall.EINVAL)
		}
		if r.state.CompareAndSwap(s, s|flagReturned) {
			if r.res < 0 {
				return -1, sys.ResultErr(r.res)
			}
			return int(r.res), nil
		}
	}
}

// ReturnGen is Return for the submission of generation gen only; ok is
// false when that submission was already returned or replaced.
func (r *Request) ReturnGen(gen uint32) (n int, err error, ok bool) {
	for {
		s := r.state.Load()
		if s>>genShift != gen || s&phaseMask != phaseDone || s&flagReturned != 0 {
			return 0, nil, false
		}
		if r.state.CompareAndSwap(s, s|flagReturned) {
			if r.res < 0 {
				return -1, sys.ResultErr(r.res), true
			}
			return int(r.res), nil, true
		}
	}
}

// Result returns the bytes transferred and the error of a final request,
// for its packet: bytes is 0 when err is set.
func (r *Request) Result() (int, error) {
	if r.res < 0 {
		return 0, sys.ResultErr(r.res)
	}
	return int(r.res), nil
}

// waitsLong reports whether r's iocb is a POLL, which may wait for its
// file forever: a user OpPoll, or a stream request (whose iocb, when in the
// kernel, is always its POLL). It always signals (signal.go).
func (r *Request) waitsLong() bool {
	return r.Cmd == abi.IOCB_CMD_POLL || r.stream != nil
}

// isFsync reports whether r is an fsync or fdatasync.
func (r *Request) isFsync() bool {
	return r.Cmd == abi.IOCB_CMD_FSYNC || r.Cmd == abi.IOCB_CMD_FDSYNC
}

// requestOf finds the Request embedded in an *aiocb.AIOCB; package aiocb
// installs it from its init, since this package may not import it.
var requestOf func(cb any) *Request

// SetRequestOf installs the accessor of the Request embedded in an AIOCB.
func SetRequestOf(f func(cb any) *Request) { requestOf = f }

// RequestOf returns the Request embedded in cb, an *aiocb.AIOCB.
func RequestOf(cb any) *Request { return requestOf(cb) }

// Done reports whether r's last submission is final, returned or not.
func (r *Request) Done() bool {
	s := r.state.Load()
	if s&phaseMask == phaseInFlight {
		return false
	}
	return s&phaseMask == phaseDone
}
