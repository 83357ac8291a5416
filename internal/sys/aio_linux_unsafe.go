//go:build linux

package sys

import (
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/goiocp/goiocp/internal/abi"
	"golang.org/x/sys/unix"
)

// Supported reports whether this GOOS has Linux native AIO.
const Supported = true

// IoSetup creates a kernel AIO context able to hold nr events and returns
// its id, which is also the address of its ring (io_setup(2)).
func IoSetup(nr int) (uint64, error) {
	var ctx uint64
	for {
		_, _, e := unix.RawSyscall(unix.SYS_IO_SETUP, uintptr(nr), uintptr(unsafe.Pointer(&ctx)), 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return 0, Errno(e)
		}
		return ctx, nil
	}
}

// IoDestroy destroys a context. The kernel cancels what it can and then
// waits for every request still in flight before it returns, so no buffer is
// touched afterwards (io_destroy(2), fs/aio.c kill_ioctx).
func IoDestroy(ctx uint64) error {
	_, _, e := unix.Syscall(unix.SYS_IO_DESTROY, uintptr(ctx), 0, 0)
	if e != 0 {
		return Errno(e)
	}
	return nil
}

// IoSubmit queues iocbs on ctx and returns how many the kernel accepted. A
// count below len(iocbs) means iocbs[n] was refused; the error of that
// refusal is only reported when n == 0 (io_submit(2)). EINTR is retried.
// A buffered request may be performed synchronously inside the call.
func IoSubmit(ctx uint64, iocbs []*abi.IOCB) (int, error) {
	return ioSubmit(ctx, iocbs, unix.Syscall)
}

// IoSubmitNowait is IoSubmit for a batch whose every iocb carries
// RWF_NOWAIT: the kernel then returns EAGAIN (in the event) rather than
// block, so the call is made without telling the Go scheduler, which saves
// handing this thread's P to another thread for the duration of the call.
func IoSubmitNowait(ctx uint64, iocbs []*abi.IOCB) (int, error) {
	return ioSubmit(ctx, iocbs, unix.RawSyscall)
}

func ioSubmit(ctx uint64, iocbs []*abi.IOCB, call func(trap, a1, a2, a3 uintptr) (r1, r2 uintptr, err syscall.Errno)) (int, error) {
	if len(iocbs) == 0 {
		return 0, nil
	}
	for {
		n, _, e := call(unix.SYS_IO_SUBMIT, uintptr(ctx), uintptr(len(iocbs)), uintptr(unsafe.Pointer(&iocbs[0])))
		if e == syscall.EINTR {
			continue
		}
		runtime.KeepAlive(iocbs)
		if e != 0 {
			return 0, Errno(e)
		}
		return int(n), nil
	}
}

// IoGetevents copies up to len(events) completed events of ctx, waiting for
// at least min of them at most timeout (negative: no limit; 0: do not
// wait). It pins an OS thread while it blocks, so goiocp calls it with
// min == 0 except where a caller has chosen to block (Port.Close).
func IoGetevents(ctx uint64, min int, events []abi.IOEvent, timeout time.Duration) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	var tsp *unix.Timespec
	if timeout >= 0 {
		ts := unix.NsecToTimespec(int64(timeout))
		tsp = &ts
	}
	for {
		n, _, e := unix.Syscall6(unix.SYS_IO_GETEVENTS, uintptr(ctx), uintptr(min), uintptr(len(events)),
			uintptr(unsafe.Pointer(&events[0])), uintptr(unsafe.Pointer(tsp)), 0)
		if e == syscall.EINTR {
			continue
		}
		runtime.KeepAlive(events)
		runtime.KeepAlive(tsp)
		if e != 0 {
			return 0, Errno(e)
		}
		return int(n), nil
	}
}

// IoCancel asks the kernel to cancel the request described by iocb, which
// must be the very iocb given to io_submit. Regular-file reads and writes
// are not cancellable on Linux: expect EINVAL. EINPROGRESS means the
// cancellation started and the event will still arrive through the ring.
func IoCancel(ctx uint64, iocb *abi.IOCB) error {
	var ev abi.IOEvent
	_, _, e := unix.Syscall(unix.SYS_IO_CANCEL, uintptr(ctx), uintptr(unsafe.Pointer(iocb)), uintptr(unsafe.Pointer(&ev)))
	runtime.KeepAlive(iocb)
	if e != 0 {
		return Errno(e)
	}
	return nil
}

// Ring is a context's shared completion ring, reaped in user space.
//
// Reap must not run concurrently with itself or with io_getevents on the
// same context (fs/aio.c serialises its own consumers with ring_lock; user
// space has to do the same). Ring is otherwise immutable.
type Ring struct {
	hdr    *abi.AIORing
	events unsafe.Pointer // &io_events[0]
	nr     uint32
}

// NewRing returns the ring of ctx, or nil when the ring's header is not one
// this reaper understands (wrong magic, incompat_features != 0, as under
// gVisor): callers then fall back to io_getevents.
func NewRing(ctx uint64) *Ring {
	// The context id is the user address of the ring mapping; it is not Go
	// memory, so reinterpreting it as a pointer is sound. It is read through
	// a pointer-typed copy to keep the conversion explicit.
	p := *(*unsafe.Pointer)(unsafe.Pointer(&ctx))
	hdr := (*abi.AIORing)(p)
	if atomic.LoadUint32(&hdr.Magic) != abi.AIO_RING_MAGIC ||
		atomic.LoadUint32(&hdr.IncompatFeatures) != abi.AIO_RING_INCOMPAT_FEATURES ||
		hdr.HeaderLength != uint32(unsafe.Sizeof(abi.AIORing{})) || hdr.Nr == 0 {
		return nil
	}
	return &Ring{hdr: hdr, events: unsafe.Add(p, uintptr(hdr.HeaderLength)), nr: hdr.Nr}
}

// Pending reports whether the ring holds events not yet reaped. It is a
// pair of loads and makes no system call.
func (r *Ring) Pending() bool {
	return atomic.LoadUint32(&r.hdr.Head) != atomic.LoadUint32(&r.hdr.Tail)
}

// Reap copies up to len(dst) events out of the ring and returns how many.
// It makes no system call.
//
// Memory ordering (fs/aio.c aio_complete): the kernel writes the event,
// issues smp_wmb, then stores tail. The atomic load of tail below is at
// least an acquire, so every event before tail is visible once tail is.
// The events are copied out before head is stored (atomically, at least a
// release), because the kernel reuses a slot as soon as it sees head pass it.
func (r *Ring) Reap(dst []abi.IOEvent) int {
	head := atomic.LoadUint32(&r.hdr.Head)
	tail := atomic.LoadUint32(&r.hdr.Tail)
	if head >= r.nr || tail >= r.nr {
		// The kernel keeps both below nr; clamp as aio_read_events_ring does
		// rather than index out of the mapping.
		head %= r.nr
		tail %= r.nr
	}
	n := 0
	for head != tail && n < len(dst) {
		dst[n] = *(*abi.IOEvent)(unsafe.Add(r.events, uintptr(head)*unsafe.Sizeof(abi.IOEvent{})))
		n++
		if head++; head == r.nr {
			head = 0
		}
	}
	if n > 0 {
		atomic.StoreUint32(&r.hdr.Head, head)
	}
	return n
}

// Nr returns the number of event slots in the ring.
func (r *Ring) Nr() int { return int(r.nr) }

// SetBuf points iocb at b: aio_buf and aio_nbytes. The caller keeps b
// alive and in place until the request's event has been reaped.
func SetBuf(iocb *abi.IOCB, b []byte) {
	iocb.Nbytes = uint64(len(b))
	if len(b) == 0 {
		iocb.Buf = 0
		return
	}
	iocb.Buf = uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}

// SetIovec fills iov from bufs and points iocb at it (aio_buf is the iovec
// array, aio_nbytes the count). iov must have room for len(bufs). The kernel
// copies the iovec array during io_submit; the buffers themselves must stay
// alive and in place until the request's event has been reaped.
func SetIovec(iocb *abi.IOCB, iov []abi.Iovec, bufs [][]byte) {
	iov = iov[:len(bufs)]
	for i, b := range bufs {
		iov[i] = abi.Iovec{Len: uint64(len(b))}
		if len(b) > 0 {
			iov[i].Base = uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
		}
	}
	iocb.Nbytes = uint64(len(bufs))
	iocb.Buf = 0
	if len(iov) > 0 {
		iocb.Buf = uint64(uintptr(unsafe.Pointer(unsafe.SliceData(iov))))
	}
}

// IocbAddr returns the user address of iocb, as the kernel reports it in
// io_event.obj.
func IocbAddr(iocb *abi.IOCB) uint64 { return uint64(uintptr(unsafe.Pointer(iocb))) }
