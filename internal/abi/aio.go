// Package abi defines the Linux native AIO kernel ABI once, in the kernel's
// own words: the structures of include/uapi/linux/aio_abi.h and the ring
// header of fs/aio.c, with their C spellings kept in the comments.
//
// The package holds plain data only. It compiles on every GOOS; only Linux
// gives the values a meaning.
package abi

// Opcodes of struct iocb.aio_lio_opcode (enum in aio_abi.h).
const (
	IOCB_CMD_PREAD   = 0
	IOCB_CMD_PWRITE  = 1
	IOCB_CMD_FSYNC   = 2
	IOCB_CMD_FDSYNC  = 3
	IOCB_CMD_POLL    = 5
	IOCB_CMD_NOOP    = 6 // declared by the ABI, rejected with EINVAL by fs/aio.c
	IOCB_CMD_PREADV  = 7
	IOCB_CMD_PWRITEV = 8
)

// Flags of struct iocb.aio_flags.
const (
	IOCB_FLAG_RESFD  = 1 << 0 // aio_resfd names an eventfd to signal on completion
	IOCB_FLAG_IOPRIO = 1 << 1 // aio_reqprio holds an ioprio value (Linux 4.18)
)

// Per-request flags of struct iocb.aio_rw_flags (include/uapi/linux/fs.h).
const (
	RWF_HIPRI  = 0x01
	RWF_DSYNC  = 0x02
	RWF_SYNC   = 0x04
	RWF_NOWAIT = 0x08 // fail with EAGAIN in io_event.res instead of blocking
	RWF_APPEND = 0x10
)

// I/O priority encoding of include/uapi/linux/ioprio.h.
const (
	IOPRIO_CLASS_SHIFT = 13
	IOPRIO_CLASS_BE    = 2
)

// IOPRIO_PRIO_VALUE packs an I/O scheduling class and level as the kernel does.
func IOPRIO_PRIO_VALUE(class, level int) uint16 {
	return uint16(class<<IOPRIO_CLASS_SHIFT | level)
}

// AIO_RING_MAGIC is struct aio_ring.magic of a ring user space may reap.
const AIO_RING_MAGIC = 0xa10a10a1

// AIO_RING_INCOMPAT_FEATURES is the only incompat_features value this
// package's reaper understands.
const AIO_RING_INCOMPAT_FEATURES = 0

// IOCB is struct iocb: 64 bytes, the same layout for 32- and 64-bit
// processes. The field order below is the little-endian one (amd64, arm64):
// aio_key precedes aio_rw_flags.
type IOCB struct {
	Data      uint64 // aio_data: copied to io_event.data; a slot index here, never a pointer
	Key       uint32 // aio_key: the kernel writes KIOCB_KEY (0) here at submit
	RWFlags   uint32 // aio_rw_flags: RWF_*
	Opcode    uint16 // aio_lio_opcode: IOCB_CMD_*
	Reqprio   int16  // aio_reqprio: honoured only with IOCB_FLAG_IOPRIO
	Fildes    uint32 // aio_fildes
	Buf       uint64 // aio_buf: buffer address, or the iovec array for PREADV/PWRITEV
	Nbytes    uint64 // aio_nbytes: byte count, or the iovec count
	Offset    int64  // aio_offset
	Reserved2 uint64 // aio_reserved2: must be 0
	Flags     uint32 // aio_flags: IOCB_FLAG_*
	ResFD     uint32 // aio_resfd: the eventfd signalled when IOCB_FLAG_RESFD is set
}

// IOEvent is struct io_event: 32 bytes.
type IOEvent struct {
	Data uint64 // data: the iocb's aio_data
	Obj  uint64 // obj: the user address of the iocb
	Res  int64  // res: bytes transferred, or a negated errno
	Res2 int64  // res2: secondary result, 0 for reads and writes
}

// AIORing is the header of struct aio_ring (fs/aio.c), the page(s) the kernel
// maps at the address io_setup returns as the context id. io_events follow
// the header, header_length bytes from its start.
type AIORing struct {
	ID               uint32 // id: kernel ioctx table index
	Nr               uint32 // nr: number of io_event slots
	Head             uint32 // head: consumer index, written by user space or io_getevents
	Tail             uint32 // tail: producer index, written by the kernel
	Magic            uint32 // magic: AIO_RING_MAGIC
	CompatFeatures   uint32 // compat_features: 1
	IncompatFeatures uint32 // incompat_features: 0
	HeaderLength     uint32 // header_length: sizeof(struct aio_ring) = 32
}

// Iovec is struct iovec on 64-bit Linux.
type Iovec struct {
	Base uint64 // iov_base
	Len  uint64 // iov_len
}

// IOV_MAX is UIO_MAXIOV, the most iovecs one request may carry.
const IOV_MAX = 1024
