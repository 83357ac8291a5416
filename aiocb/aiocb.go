package aiocb

import (
	"strconv"
	"syscall"

	"github.com/goiocp/goiocp/internal/engine"
)

// Opcode is aio_lio_opcode: the operation of a ListIO entry.
type Opcode int

// The opcodes. Read and Write ignore Opcode except to choose the vectored
// form (OpReadv, OpWritev); ListIO performs what it says.
const (
	OpRead   Opcode = iota // LIO_READ   / IOCB_CMD_PREAD
	OpWrite                // LIO_WRITE  / IOCB_CMD_PWRITE
	OpNop                  // LIO_NOP: ListIO skips it; no I/O, no packet
	OpFsync                // IOCB_CMD_FSYNC  (aio_fsync with O_SYNC)
	OpFdsync               // IOCB_CMD_FDSYNC (aio_fsync with O_DSYNC)
	OpReadv                // IOCB_CMD_PREADV: scatter into Iov
	OpWritev               // IOCB_CMD_PWRITEV: gather from Iov
	OpPoll                 // IOCB_CMD_POLL (libaio IO_CMD_POLL): wait until Fildes is ready for Events
)

// String returns the opcode's LIO name.
func (o Opcode) String() string {
	switch o {
	case OpRead:
		return "read"
	case OpWrite:
		return "write"
	case OpNop:
		return "nop"
	case OpFsync:
		return "fsync"
	case OpFdsync:
		return "fdsync"
	case OpReadv:
		return "readv"
	case OpWritev:
		return "writev"
	case OpPoll:
		return "poll"
	}
	return "opcode(" + strconv.Itoa(int(o)) + ")"
}

// Flags is aio_flags.
type Flags uint32

// Extended is AIO_EXTENDED: the extended fields (Version, IOCPFD) are in use.
const Extended Flags = 1 << 0

// Version is aio_version, the version of the extended fields.
type Version uint32

// The versions of the extended fields.
const (
	Vers1 Version = 1
	Vers2 Version = 2 // AIOCBX_VERS2: IOCPFD is honoured
)

// Notify is sigev_notify: how a request announces its completion.
type Notify int

// The notification kinds.
const (
	SigevNone   Notify = iota // no notification
	SigevSignal               // raise Signo in this process (observable with os/signal)
	SigevThread               // call Func(Value) on a new goroutine
)

// Sigevent is struct sigevent: the notification of a request or of a
// ListIO list. A cancelled request still notifies.
type Sigevent struct {
	Notify Notify
	Signo  syscall.Signal
	Value  any
	Func   func(value any)
}

// AIOCB is the asynchronous I/O control block, struct aiocb with the AIX
// extended fields. The zero value (with Fildes and Buf set) is a read or
// write at offset 0 completing to the default context.
//
// An AIOCB is not safe for concurrent use: one request at a time, and its
// fields belong to the engine while that request is in flight (see the
// package documentation).
type AIOCB struct {
	Fildes   int      // aio_fildes
	Offset   int64    // aio_offset
	Buf      []byte   // aio_buf; len(Buf) is aio_nbytes
	Iov      [][]byte // OpReadv / OpWritev only
	Reqprio  int      // aio_reqprio, 0..20; passed to the kernel as an I/O priority hint
	Sigevent Sigevent // aio_sigevent, for Read/Write/Fsync
	Opcode   Opcode   // aio_lio_opcode (ListIO)
	Flags    Flags    // aio_flags
	Version  Version  // aio_version
	IOCPFD   int      // aio_iocpfd: a port's Fd(); 0 = not associated
	Events   int16    // OpPoll: the poll(2) events to wait for (unix.POLLIN, unix.POLLOUT, ...)

	req engine.Request // request state; see package engine
}

// Nbytes is aio_nbytes: len(Buf), or the sum of len(Iov) for vectored ops.
func (cb *AIOCB) Nbytes() int {
	if cb.Opcode == OpReadv || cb.Opcode == OpWritev {
		n := 0
		for _, b := range cb.Iov {
			n += len(b)
		}
		return n
	}
	return len(cb.Buf)
}

func init() {
	engine.SetRequestOf(func(cb any) *engine.Request { return &cb.(*AIOCB).req })
}
