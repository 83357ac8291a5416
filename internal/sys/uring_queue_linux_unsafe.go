//go:build linux

package sys

import (
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// What the io_uring engine needs of a ring beyond the primitives: setup
// with the flags the kernel has, submission apart from publishing (so the
// engine can fill entries under its own lock and enter the kernel after),
// waiting with a timeout, synchronous cancellation, the CQ's eventfd
// switch and the io-wq worker limits.

const (
	ioringSetupClamp     = 1 << 4 // clamp entries to the kernel's maximum
	ioringSetupSubmitAll = 1 << 7 // keep submitting a batch past a failed entry

	ioringEnterExtArg = 1 << 3

	ioringSQCQOverflow = 1 << 1

	ioringCQEventfdDisabled = 1 << 0

	ioringRegisterSyncCancel = 24
)

// NewURingQueue makes a ring of at least entries submission slots for a
// port: with IORING_SETUP_SUBMIT_ALL where the kernel has it (an entry
// that fails does not stop the rest of its batch: its error comes back as
// its completion), clamped to the kernel's largest ring. The flags are
// probed by trying them, newest first.
func NewURingQueue(entries uint32) (*URing, error) {
	r, err := NewURing(entries, ioringSetupClamp|ioringSetupSubmitAll)
	if err == Errno(syscall.EINVAL) {
		r, err = NewURing(entries, ioringSetupClamp)
	}
	return r, err
}

// Publish makes the entries filled since the last Publish (SQE) visible to
// the kernel, with a release store of the SQ tail after they were written,
// without entering the kernel: the next Enter, by any goroutine, takes
// them. Callers serialise SQE, Publish and Enter.
func (r *URing) Publish() {
	if r.pending > 0 {
		atomic.StoreUint32(r.sqTail, *r.sqTail+r.pending)
		r.pending = 0
	}
}

// Unsubmitted returns how many published entries the kernel has not taken.
// Callers serialise it with Publish.
func (r *URing) Unsubmitted() uint32 {
	return *r.sqTail - atomic.LoadUint32(r.sqHead)
}

// Enter has the kernel take up to toSubmit filled entries and, with
// minComplete > 0, wait until that many completions are in the CQ or
// timeout passes (negative: no limit). raw makes it a raw system call,
// for submissions that cannot block. It returns how many entries the
// kernel took; a wait that timed out is ETIME, one a signal cut short
// returns with no error, as a spurious wake-up.
func (r *URing) Enter(toSubmit, minComplete uint32, timeout time.Duration, raw bool) (int, error) {
	flags := uintptr(0)
	var arg unsafe.Pointer
	var argSize uintptr
	var ts unix.Timespec
	var ext uringGeteventsArg
	if minComplete > 0 {
		flags |= ioringEnterGetevents
		if timeout >= 0 {
			ts = unix.NsecToTimespec(int64(timeout))
			ext.ts = uint64(uintptr(unsafe.Pointer(&ts)))
			arg, argSize = unsafe.Pointer(&ext), unsafe.Sizeof(ext)
			flags |= ioringEnterExtArg
		}
	}
	if r.CQOverflow() {
		flags |= ioringEnterGetevents // flushes the overflowed completions into the CQ
	}
	call := unix.Syscall6
	if raw && minComplete == 0 {
		call = unix.RawSyscall6
	}
	n, _, e := call(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(toSubmit), uintptr(minComplete), flags, uintptr(arg), argSize)
	runtime.KeepAlive(&ts)
	runtime.KeepAlive(&ext)
	switch e {
	case 0:
		return int(n), nil
	case syscall.EINTR:
		return 0, nil
	}
	return 0, Errno(e)
}

// uringGeteventsArg is struct io_uring_getevents_arg.
type uringGeteventsArg struct {
	sigmask   uint64
	sigmaskSz uint32
	minWait   uint32
	ts        uint64
}

// Pending reports whether the CQ holds completions not yet reaped (or the
// kernel holds overflowed ones). It makes no system call.
func (r *URing) Pending() bool {
	return atomic.LoadUint32(r.cqTail) != *r.cqHead || r.CQOverflow()
}

// CQOverflow reports whether completions overflowed the CQ and wait in the
// kernel: an Enter with GETEVENTS moves them in.
func (r *URing) CQOverflow() bool {
	return atomic.LoadUint32(r.sqFlags)&ioringSQCQOverflow != 0
}

// SetEventfdSignal turns the registered eventfd's signal on completions on
// or off (IORING_CQ_EVENTFD_DISABLED). On kernels without the switch the
// signal stays on.
func (r *URing) SetEventfdSignal(on bool) {
	if r.cqFlags == nil {
		return
	}
	for {
		old := atomic.LoadUint32(r.cqFlags)
		v := old | ioringCQEventfdDisabled
		if on {
			v = old &^ ioringCQEventfdDisabled
		}
		if atomic.CompareAndSwapUint32(r.cqFlags, old, v) {
			return
		}
	}
}

// uringSyncCancel is struct io_uring_sync_cancel_reg (64 bytes).
type uringSyncCancel struct {
	addr    uint64
	fd      int32
	flags   uint32
	timeout unix.Timespec
	opcode  uint8
	_       [7]uint8
	_       [3]uint64
}

// SyncCancel cancels the request whose user_data is userData, waiting at
// most timeout for one that is running (IORING_REGISTER_SYNC_CANCEL). nil
// means it was cancelled and its completion, carrying ECANCELED (or EINTR
// where a worker was interrupted), is posted or about to be; ENOENT that
// no such request waits (it completed, or runs where nothing can stop it);
// EALREADY or ETIME that it runs and may still complete either way.
func (r *URing) SyncCancel(userData uint64, timeout time.Duration) error {
	reg := uringSyncCancel{addr: userData, fd: -1, timeout: unix.NsecToTimespec(int64(timeout))}
	_, _, e := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), ioringRegisterSyncCancel, uintptr(unsafe.Pointer(&reg)), 1, 0, 0)
	runtime.KeepAlive(&reg)
	if e != 0 {
		return Errno(e)
	}
	return nil
}

const (
	ioringRegisterFiles       = 2
	ioringRegisterFilesUpdate = 6

	// IOSQE_FIXED_FILE makes an SQE's fd an index into the ring's file
	// table.
	IOSQE_FIXED_FILE = 1 << 0
)

// RegisterFileTable gives the ring a table of n empty file slots
// (IORING_REGISTER_FILES with every fd -1).
func (r *URing) RegisterFileTable(n int) error {
	fds := make([]int32, n)
	for i := range fds {
		fds[i] = -1
	}
	_, _, e := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), ioringRegisterFiles, uintptr(unsafe.Pointer(&fds[0])), uintptr(n), 0, 0)
	runtime.KeepAlive(fds)
	if e != 0 {
		return Errno(e)
	}
	return nil
}

// uringFilesUpdate is struct io_uring_files_update.
type uringFilesUpdate struct {
	offset uint32
	_      uint32
	fds    uint64
}

// SetFile puts the file open as fd in slot i of the ring's file table (the
// table takes its own reference, as dup would, but closing it later sends
// no FLUSH: the table drops a reference, it closes no descriptor); fd -1
// empties the slot.
func (r *URing) SetFile(i int, fd int) error {
	v := int32(fd)
	up := uringFilesUpdate{offset: uint32(i), fds: uint64(uintptr(unsafe.Pointer(&v)))}
	_, _, e := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), ioringRegisterFilesUpdate, uintptr(unsafe.Pointer(&up)), 1, 0, 0)
	runtime.KeepAlive(&v)
	runtime.KeepAlive(&up)
	if e != 0 {
		return Errno(e)
	}
	return nil
}

// ProbeURingQueue checks, on a ring of its own, that the kernel has what
// the io_uring engine needs beyond io_uring_setup: IORING_ENTER_EXT_ARG
// (a wait with a timeout, Linux 5.11) and IORING_REGISTER_SYNC_CANCEL
// (Linux 6.0). The error names what is missing and wraps ENOSYS.
func ProbeURingQueue() error {
	if err := ProbeIOURing(); err != nil {
		return err
	}
	r, err := NewURingQueue(2)
	if err != nil {
		e, _ := err.(syscall.Errno)
		return &uringError{"io_uring_setup of a port's ring failed", e}
	}
	defer r.Close()
	if _, err := r.Enter(0, 1, time.Microsecond, false); err != nil && err != Errno(syscall.ETIME) {
		return &uringError{"this kernel's io_uring_enter has no IORING_ENTER_EXT_ARG (Linux 5.11): " + err.Error(), syscall.ENOSYS}
	}
	if err := r.SyncCancel(1, 0); err != nil && err != Errno(syscall.ENOENT) {
		return &uringError{"this kernel's io_uring has no IORING_REGISTER_SYNC_CANCEL (Linux 6.0): " + err.Error(), syscall.ENOSYS}
	}
	return nil
}
