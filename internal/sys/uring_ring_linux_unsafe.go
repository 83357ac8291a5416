//go:build linux

package sys

import (
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The io_uring ABI (include/uapi/linux/io_uring.h), the first piece of the
// io_uring engine (issue 14): a ring made with io_uring_setup, its three
// shared mappings, submission by publishing the SQ tail, completions
// reaped from the CQ in user space, and IORING_REGISTER_EVENTFD so that a
// waiter can park on an eventfd as the AIO engine's do. The engine that
// runs ports on it is not written yet.

// URingSQE is struct io_uring_sqe (64 bytes).
type URingSQE struct {
	Opcode      uint8
	Flags       uint8
	Ioprio      uint16
	Fd          int32
	Off         uint64
	Addr        uint64
	Len         uint32
	OpFlags     uint32 // rw_flags, poll32_events, fsync_flags...
	UserData    uint64
	BufIndex    uint16
	Personality uint16
	SpliceFdIn  int32
	Addr3       uint64
	_           uint64
}

// URingCQE is struct io_uring_cqe (16 bytes; no CQE32).
type URingCQE struct {
	UserData uint64
	Res      int32
	Flags    uint32
}

// Opcodes (enum io_uring_op).
const (
	IORING_OP_NOP      = 0
	IORING_OP_READV    = 1
	IORING_OP_WRITEV   = 2
	IORING_OP_FSYNC    = 3
	IORING_OP_POLL_ADD = 6
	IORING_OP_READ     = 22
	IORING_OP_WRITE    = 23

	IORING_FSYNC_DATASYNC = 1 // fsync_flags: fdatasync

	IOSQE_ASYNC = 1 << 4 // sqe flags: issue in an io-wq worker, never inline
)

// Flags of the rings and of the calls.
const (
	ioringEnterGetevents  = 1 << 0
	ioringRegisterEventfd = 4
	ioringFeatSingleMmap  = 1 << 0
	ioringOffSQRing       = 0
	ioringOffCQRing       = 0x8000000
	ioringOffSQEs         = 0x10000000
)

// URing is one io_uring: its fd and the rings mapped from it. It is not
// safe for concurrent use; the engine serialises submitters and reapers.
type URing struct {
	fd       int
	features uint32
	rings    []byte // the SQ ring (and, with IORING_FEAT_SINGLE_MMAP, the CQ ring)
	cqRing   []byte // the CQ ring when mapped apart, else nil
	sqeMem   []byte

	sqHead, sqTail, sqArray *uint32
	sqMask, sqEntries       uint32
	sqes                    []URingSQE
	sqFlags                 *uint32
	cqHead, cqTail          *uint32
	cqFlags                 *uint32 // nil on kernels without the CQ flags word
	cqMask                  uint32
	cqes                    []URingCQE
	pending                 uint32 // SQEs filled and not yet published
}

// NewURing makes a ring of at least entries submission slots with setup
// flags (IORING_SETUP_*), and maps it.
func NewURing(entries, flags uint32) (*URing, error) {
	var p uringParams
	p.flags = flags
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if e != 0 {
		return nil, Errno(e)
	}
	r := &URing{fd: int(fd), features: p.features, sqEntries: p.sqEntries}
	fail := func(err error) (*URing, error) {
		r.Close()
		return nil, err
	}
	sqSize := int(p.sqOff[6]) + int(p.sqEntries)*4 // array offset + entries
	cqSize := int(p.cqOff[5]) + int(p.cqEntries)*int(unsafe.Sizeof(URingCQE{}))
	single := p.features&ioringFeatSingleMmap != 0
	if single {
		sqSize = max(sqSize, cqSize)
	}
	var err error
	if r.rings, err = unix.Mmap(r.fd, ioringOffSQRing, sqSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		return fail(err)
	}
	cq := r.rings
	if !single {
		if r.cqRing, err = unix.Mmap(r.fd, ioringOffCQRing, cqSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
			return fail(err)
		}
		cq = r.cqRing
	}
	sqeBytes := int(p.sqEntries) * int(unsafe.Sizeof(URingSQE{}))
	if r.sqeMem, err = unix.Mmap(r.fd, ioringOffSQEs, sqeBytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		return fail(err)
	}
	at := func(b []byte, off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&b[off])) }
	r.sqHead, r.sqTail = at(r.rings, p.sqOff[0]), at(r.rings, p.sqOff[1])
	r.sqMask = *at(r.rings, p.sqOff[2])
	r.sqFlags = at(r.rings, p.sqOff[4])
	r.sqArray = at(r.rings, p.sqOff[6])
	r.sqes = unsafe.Slice((*URingSQE)(unsafe.Pointer(&r.sqeMem[0])), p.sqEntries)
	r.cqHead, r.cqTail = at(cq, p.cqOff[0]), at(cq, p.cqOff[1])
	r.cqMask = *at(cq, p.cqOff[2])
	if p.cqOff[6] != 0 {
		r.cqFlags = at(cq, p.cqOff[6])
	}
	r.cqes = unsafe.Slice((*URingCQE)(unsafe.Pointer(&cq[p.cqOff[5]])), p.cqEntries)
	return r, nil
}

// Fd is the ring's descriptor.
func (r *URing) Fd() int { return r.fd }

// Entries is the number of submission slots.
func (r *URing) Entries() int { return int(r.sqEntries) }

// SQE returns the next free submission entry, zeroed, or nil when the
// submission queue is full. It is published by the next Submit.
func (r *URing) SQE() *URingSQE {
	head := atomic.LoadUint32(r.sqHead) // the kernel's consumer index
	tail := *r.sqTail + r.pending
	if tail-head >= r.sqEntries {
		return nil
	}
	i := tail & r.sqMask
	sqe := &r.sqes[i]
	*sqe = URingSQE{}
	*(*uint32)(unsafe.Add(unsafe.Pointer(r.sqArray), uintptr(i)*4)) = i
	r.pending++
	return sqe
}

// Submit publishes the entries filled since the last Submit (a release
// store of the SQ tail, so the kernel sees them filled) and has the kernel
// take them, waiting for minComplete completions when it is not 0. It
// returns how many the kernel took.
func (r *URing) Submit(minComplete uint32) (int, error) {
	n := r.pending
	atomic.StoreUint32(r.sqTail, *r.sqTail+n)
	r.pending = 0
	var flags uintptr
	if minComplete > 0 {
		flags = ioringEnterGetevents
	}
	for {
		got, _, e := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(n), uintptr(minComplete), flags, 0, 0)
		if e == syscall.EINTR {
			n = 0 // taken already; wait again
			continue
		}
		if e != 0 {
			return 0, Errno(e)
		}
		return int(got), nil
	}
}

// Reap copies the completions waiting in the CQ into dst, without a system
// call, and returns how many: an acquire load of the CQ tail, then a
// release store of the head, which gives the slots back to the kernel.
func (r *URing) Reap(dst []URingCQE) int {
	head := *r.cqHead
	tail := atomic.LoadUint32(r.cqTail)
	n := 0
	for ; head != tail && n < len(dst); n++ {
		dst[n] = r.cqes[head&r.cqMask]
		head++
	}
	atomic.StoreUint32(r.cqHead, head)
	return n
}

// RegisterEventfd has the kernel signal efd on every completion.
func (r *URing) RegisterEventfd(efd int) error {
	fd := int32(efd)
	_, _, e := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), ioringRegisterEventfd, uintptr(unsafe.Pointer(&fd)), 1, 0, 0)
	if e != 0 {
		return Errno(e)
	}
	return nil
}

// SetBuffer points sqe at b (Addr and Len). The caller keeps b alive and
// unmoved until its completion is reaped.
func (sqe *URingSQE) SetBuffer(b []byte) {
	sqe.Len = uint32(len(b))
	if len(b) > 0 {
		sqe.Addr = uint64(uintptr(unsafe.Pointer(&b[0])))
	}
}

// Close unmaps the ring and closes its fd.
func (r *URing) Close() error {
	for _, m := range [][]byte{r.sqeMem, r.cqRing, r.rings} {
		if m != nil {
			unix.Munmap(m)
		}
	}
	r.sqeMem, r.cqRing, r.rings = nil, nil, nil
	if r.fd >= 0 {
		err := unix.Close(r.fd)
		r.fd = -1
		return err
	}
	return nil
}
