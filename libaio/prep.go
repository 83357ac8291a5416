package libaio

import "github.com/goiocp/goiocp/aiocb"

// The Prep functions fill an AIOCB for Submit as libaio's io_prep_* fill a
// struct iocb. They set the fields the request uses and clear the others
// (Reqprio, Sigevent and the extended fields, which Submit sets); they
// leave the AIOCB's request state alone, so they must not be called on an
// AIOCB in flight. The buffers belong to the kernel from Submit until the
// request's completion is delivered.

// PrepPread is io_prep_pread: a read of len(buf) bytes of file fd at
// offset into buf.
func PrepPread(cb *aiocb.AIOCB, fd int, buf []byte, offset int64) {
	prep(cb, aiocb.OpRead, fd, offset)
	cb.Buf = buf
}

// PrepPwrite is io_prep_pwrite: a write of buf to file fd at offset.
func PrepPwrite(cb *aiocb.AIOCB, fd int, buf []byte, offset int64) {
	prep(cb, aiocb.OpWrite, fd, offset)
	cb.Buf = buf
}

// PrepPreadv is io_prep_preadv: a read of file fd at offset scattered into
// the buffers of iov, in order.
func PrepPreadv(cb *aiocb.AIOCB, fd int, iov [][]byte, offset int64) {
	prep(cb, aiocb.OpReadv, fd, offset)
	cb.Iov = iov
}

// PrepPwritev is io_prep_pwritev: a write to file fd at offset gathered
// from the buffers of iov, in order.
func PrepPwritev(cb *aiocb.AIOCB, fd int, iov [][]byte, offset int64) {
	prep(cb, aiocb.OpWritev, fd, offset)
	cb.Iov = iov
}

// PrepFsync is io_prep_fsync: an fsync of file fd. It is not complete
// before every request on fd submitted before it (see submit.Fsync).
func PrepFsync(cb *aiocb.AIOCB, fd int) {
	prep(cb, aiocb.OpFsync, fd, 0)
}

// PrepFdsync is io_prep_fdsync: an fdatasync of file fd, ordered as
// PrepFsync's.
func PrepFdsync(cb *aiocb.AIOCB, fd int) {
	prep(cb, aiocb.OpFdsync, fd, 0)
}

// PrepPoll is io_prep_poll: a one-shot wait until file fd is ready for
// any of events (unix.POLLIN, unix.POLLOUT, ...). Its completion's Res is
// the ready mask (revents); Cancel of a pending poll succeeds.
func PrepPoll(cb *aiocb.AIOCB, fd int, events int16) {
	prep(cb, aiocb.OpPoll, fd, 0)
	cb.Events = events
}

// prep sets the fields every Prep function sets and clears the rest.
func prep(cb *aiocb.AIOCB, op aiocb.Opcode, fd int, offset int64) {
	cb.Fildes = fd
	cb.Offset = offset
	cb.Buf = nil
	cb.Iov = nil
	cb.Reqprio = 0
	cb.Sigevent = aiocb.Sigevent{}
	cb.Opcode = op
	cb.Events = 0
	cb.Flags = 0
	cb.Version = 0
	cb.IOCPFD = 0
}
