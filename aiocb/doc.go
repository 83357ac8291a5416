// Package aiocb defines the asynchronous I/O control block, AIOCB, the
// request descriptor every goiocp call takes: POSIX struct aiocb with the AIX
// extended fields (aio_flags AIO_EXTENDED, aio_version, aio_iocpfd) that tie
// a request to an I/O completion port.
//
// An AIOCB is owned by its caller. While a request is in flight (from a
// successful submit until its status is final and, for a request on a port,
// its packet has been harvested) the engine owns it: its fields and its
// buffers must not be touched, and submitting it again fails with EBUSY.
// The engine keeps the AIOCB and its buffers reachable until then, whatever
// the garbage collector does. An AIOCB must not be copied after first use.
//
// To complete a request to a port (the seed's steps 3 and 4):
//
//	cb := &aiocb.AIOCB{
//		Fildes:  fd,
//		Buf:     make([]byte, 4096),
//		Flags:   aiocb.Extended,
//		Version: aiocb.Vers2,
//		IOCPFD:  p.Fd(),
//	}
//
// Requests that name no port complete to the process-wide default context,
// harvested with submit.Nwait, submit.Waitcomplete, submit.Suspend,
// submit.Error and submit.Return.
package aiocb
