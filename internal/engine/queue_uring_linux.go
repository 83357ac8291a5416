//go:build linux

package engine

import (
	"fmt"
	"math"
	"sync"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/internal/abi"
	"github.com/goiocp/goiocp/internal/sys"
)

// uringQueue is an io_uring under a context. Submitters copy their iocbs
// into the SQ under c.mu (stageLocked), then one io_uring_enter takes
// whatever is filled; completions are reaped from the CQ in user space; the
// context's eventfd is registered, so the kernel signals it on completions
// and a driver parks in the netpoller as on AIO; a driver in kernel-wait
// mode sleeps in io_uring_enter instead, with the eventfd's signal turned
// off (Kicks still reach it through a POLL of the eventfd, as on AIO).
//
// Not used, on purpose: IORING_SETUP_SINGLE_ISSUER (and DEFER_TASKRUN,
// which needs it) require every submission of a ring to come from one
// thread, while a goroutine runs on whichever thread the scheduler gives
// it; COOP_TASKRUN stops the kernel from interrupting the submitting
// thread to post completions, and a Go thread may sleep in a futex for
// seconds, holding back completions its ring's waiters park for.
type uringQueue struct {
	c        *Context
	ring     *sys.URing
	sqMu     sync.Mutex     // serialises SQE, Publish and Enter, and guards mayBlock
	mayBlock int            // entries in the SQ whose inline issue may block (not raw)
	cqes     []sys.URingCQE // reap's buffer, under c.reapMu

	tableMu  sync.Mutex // guards table
	table    bool       // the file table is registered (fixOrRefuse)
	tableErr error      // why registering it failed: not tried again
}

// uringCancelWait bounds how long a cancellation waits for a request that
// is running in an io-wq worker to stop.
const uringCancelWait = 20 * time.Millisecond

func newURingQueue(c *Context) (*uringQueue, error) {
	depth := c.depth
	// One SQ entry per request in flight and one for the kernel-wait POLL;
	// the CQ, twice the SQ, holds every completion that can be pending.
	ring, err := sys.NewURingQueue(uint32(min(depth+1, math.MaxInt32)))
	if err != nil {
		return nil, fmt.Errorf("setup io_uring of %d entries: %w", depth+1, err)
	}
	if err := ring.RegisterEventfd(c.efd); err != nil {
		ring.Close()
		return nil, fmt.Errorf("register eventfd with io_uring: %w", err)
	}
	return &uringQueue{c: c, ring: ring, cqes: make([]sys.URingCQE, depth+1)}, nil
}

func (q *uringQueue) kind() Kind { return KindIOURing }

// stageLocked copies iocbs into the SQ. c.mu is held. A request whose
// iocb has no io_uring counterpart (IOCB_CMD_NOOP, which fs/aio.c refuses
// too) is refused with EINVAL and not staged.
func (q *uringQueue) stageLocked(iocbs []*abi.IOCB, reqs []*Request, refs []slotRef) []slotRef {
	c := q.c
	q.sqMu.Lock()
	defer q.sqMu.Unlock()
	for k, cb := range iocbs {
		i := reqs[k].slot
		s := &c.slots[i]
		refs = append(refs, slotRef{i, s.gen})
		s.submitting = true
		op, ok := uringOp(cb.Opcode)
		if !ok {
			s.refused = syscall.EINVAL
			continue
		}
		if r := reqs[k]; r.refuse != 0 {
			s.refused = r.refuse
			continue
		}
		sqe := q.ring.SQE()
		for sqe == nil {
			// The SQ is full of entries staged by submitters that have not
			// entered yet (it holds one per slot, so it cannot be): hand
			// them to the kernel now.
			q.ring.Publish()
			_, _ = q.ring.Enter(q.ring.Unsubmitted(), 0, -1, false)
			q.mayBlock = 0
			sqe = q.ring.SQE()
		}
		fillSQE(sqe, op, cb)
		if !reqs[k].raw {
			q.mayBlock++
		}
		if r := reqs[k]; r.async {
			sqe.Flags |= sys.IOSQE_ASYNC
		}
		if r := reqs[k]; r.fixed {
			// The file table holds the file at the slot's index
			// (uring_prepare.go).
			sqe.Fd = i
			sqe.Flags |= sys.IOSQE_FIXED_FILE
			s.fixed, r.fixed = true, false
		}
	}
	q.ring.Publish()
	return refs
}

// uringOp returns the io_uring opcode for an iocb's.
func uringOp(cmd uint16) (uint8, bool) {
	switch cmd {
	case abi.IOCB_CMD_PREAD:
		return sys.IORING_OP_READ, true
	case abi.IOCB_CMD_PWRITE:
		return sys.IORING_OP_WRITE, true
	case abi.IOCB_CMD_PREADV:
		return sys.IORING_OP_READV, true
	case abi.IOCB_CMD_PWRITEV:
		return sys.IORING_OP_WRITEV, true
	case abi.IOCB_CMD_FSYNC, abi.IOCB_CMD_FDSYNC:
		return sys.IORING_OP_FSYNC, true
	case abi.IOCB_CMD_POLL:
		return sys.IORING_OP_POLL_ADD, true
	}
	return 0, false
}

// fillSQE writes the submission entry for cb: the same file, offset,
// buffer (or iovec array) and flags, with aio_data as user_data.
func fillSQE(sqe *sys.URingSQE, op uint8, cb *abi.IOCB) {
	sqe.Opcode = op
	sqe.Fd = int32(cb.Fildes)
	sqe.UserData = cb.Data
	switch cb.Opcode {
	case abi.IOCB_CMD_POLL:
		sqe.OpFlags = uint32(uint16(cb.Buf)) // poll32_events
	case abi.IOCB_CMD_FDSYNC:
		sqe.OpFlags = sys.IORING_FSYNC_DATASYNC
	case abi.IOCB_CMD_FSYNC:
	default:
		sqe.Off = uint64(cb.Offset)
		sqe.Addr = cb.Buf
		// A transfer is at most MAX_RW_COUNT bytes on either interface.
		sqe.Len = uint32(min(cb.Nbytes, maxRW))
		sqe.OpFlags = uint32(cb.RWFlags)
	}
	if cb.Flags&abi.IOCB_FLAG_IOPRIO != 0 {
		sqe.Ioprio = uint16(cb.Reqprio)
	}
}

// maxRW is the kernel's MAX_RW_COUNT on 4 KiB pages.
const maxRW = math.MaxInt32 &^ 4095

// submit enters the kernel for what is staged, then reaps what completed
// within the call, so that a request the kernel refused at once (EBADF: a
// file not open, or not for this direction) is refused to its submitter
// as io_submit refuses it, and makes no packet.
func (q *uringQueue) submit(_ []*abi.IOCB, _ []*Request, _ int, refs []slotRef) map[int]syscall.Errno {
	c := q.c
	for again := 0; ; again++ {
		q.sqMu.Lock()
		var err error
		for n := q.ring.Unsubmitted(); n > 0 && err == nil; n = q.ring.Unsubmitted() {
			// A raw call only when no entry in the SQ may block inline,
			// ours or other submitters' (prepare marks them): a POLL
			// of a FUSE file asks its server, and a raw call would wait
			// holding its P, stopping the world's next stop. Without
			// IORING_SETUP_SUBMIT_ALL a failed entry ends a call: enter
			// again for the rest.
			_, err = q.ring.Enter(n, 0, -1, q.mayBlock == 0)
			if err == nil {
				q.mayBlock = 0
			}
		}
		q.sqMu.Unlock()
		if err == nil {
			break
		}
		// EAGAIN, EBUSY: the kernel is short of memory or completions
		// overflowed; the entries stay in the SQ. Reap and try again.
		c.reapNow()
		time.Sleep(time.Duration(min(again+1, 1000)) * time.Microsecond)
	}
	c.reapNow()
	var failed map[int]syscall.Errno
	c.mu.Lock()
	for k, ref := range refs {
		s := &c.slots[ref.i]
		if s.gen != ref.gen || s.req == nil {
			continue // completed, and the slot reused
		}
		s.submitting = false
		if s.refused != 0 {
			if failed == nil {
				failed = make(map[int]syscall.Errno)
			}
			failed[k] = s.refused
			s.refused = 0
		}
	}
	c.mu.Unlock()
	return failed
}

func (q *uringQueue) mayHaveEvents() bool { return q.ring.Pending() }
func (q *uringQueue) pending() bool       { return q.ring.Pending() }

func (q *uringQueue) reap(dst []abi.IOEvent) int {
	if q.ring.CQOverflow() {
		_, _ = q.ring.Enter(0, 0, -1, true) // moves the overflow into the CQ; submits nothing
	}
	cqes := q.cqes[:min(len(dst), len(q.cqes))]
	n := q.ring.Reap(cqes)
	for i := range n {
		dst[i] = abi.IOEvent{Data: cqes[i].UserData, Res: int64(cqes[i].Res)}
	}
	return n
}

func (q *uringQueue) wait(_ []abi.IOEvent, timeout time.Duration) (int, bool, error) {
	_, err := q.ring.Enter(0, 1, timeout, false)
	if err == sys.Errno(syscall.ETIME) {
		return 0, true, nil
	}
	return 0, false, err
}

func (q *uringQueue) waitTakesEvents() bool { return false }

func (q *uringQueue) armPoll(cb *abi.IOCB) bool {
	q.sqMu.Lock()
	defer q.sqMu.Unlock()
	sqe := q.ring.SQE()
	if sqe == nil {
		return false
	}
	fillSQE(sqe, sys.IORING_OP_POLL_ADD, cb)
	q.ring.Publish()
	// Not raw: the SQ may hold other submitters' entries that can block.
	_, err := q.ring.Enter(q.ring.Unsubmitted(), 0, -1, false)
	if err == nil {
		q.mayBlock = 0
	}
	return err == nil
}

// cancel is IORING_REGISTER_SYNC_CANCEL: it finds the request wherever it
// waits (a poll, an io-wq queue, a worker running it, which is
// interrupted), and regular-file requests are cancellable where they wait
// in io-wq. A request already issued to a device is not found.
func (q *uringQueue) cancel(cb *abi.IOCB) cancelResult {
	switch q.ring.SyncCancel(cb.Data, uringCancelWait) {
	case nil:
		return cancelStarted
	case sys.Errno(syscall.EALREADY), sys.Errno(syscall.ETIME):
		// Running in a worker, which the kernel interrupted: it may end
		// with EINTR or ECANCELED, or run to its end.
		return cancelRunning
	}
	return cancelNotFound
}

// fixOrRefuse puts r's file in the file table at r's slot (making the
// table first), for a request that goes to io-wq, whose workers look an fd
// up only when they start the request. Where that fails r is refused: EBADF
// for a fd not open, EAGAIN when the kernel has no room for the table (a
// limit on open files below the port's depth).
func (q *uringQueue) fixOrRefuse(r *Request) {
	q.tableMu.Lock()
	defer q.tableMu.Unlock()
	if q.tableErr == nil && !q.table {
		if q.tableErr = q.ring.RegisterFileTable(q.c.depth); q.tableErr == nil {
			q.table = true
		}
	}
	switch {
	case q.tableErr != nil:
		r.refuse = syscall.EAGAIN
	case q.ring.SetFile(int(r.slot), r.Fd) != nil:
		r.refuse = syscall.EBADF
	default:
		r.fixed = true
	}
}

// unfix empties slot i of the file table. c.mu is held: the update takes
// the ring's lock and drops a reference to the file, and waits for nothing.
func (q *uringQueue) unfix(i int32) {
	q.tableMu.Lock()
	_ = q.ring.SetFile(int(i), -1)
	q.tableMu.Unlock()
}

func (q *uringQueue) nowait() bool        { return false }
func (q *uringQueue) setSignal(on bool)   { q.ring.SetEventfdSignal(on) }
func (q *uringQueue) userspaceReap() bool { return true }
func (q *uringQueue) destroy() error      { return q.ring.Close() }
