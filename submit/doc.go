// Package submit is goiocp's POSIX asynchronous I/O: aio_read, aio_write,
// aio_fsync, lio_listio, aio_error, aio_return, aio_suspend and aio_cancel,
// plus AIX's aio_nwait and FreeBSD's aio_waitcomplete.
//
// Every call validates its AIOCB before any I/O (see package aiocb and the
// errno each rule names) and routes it by IOCPFD: a request whose AIOCB
// names a port completes to that port as a packet; every other request
// completes to the process-wide default context, made on first use with
// room for DefaultDepth requests in flight, which only Nwait, Waitcomplete,
// Suspend, Error and Return harvest.
//
// # Status and result
//
// Error reports EINPROGRESS while a request is in flight and its final
// status afterwards; it reaps the request's context first, so the status is
// final as soon as the kernel has finished, whether or not anyone waits on
// the port. Return consumes the result exactly once.
//
// # Ordering
//
// Fsync covers every request on its file queued before it, in any context:
// goiocp holds the kernel's IOCB_CMD_FSYNC back until those are final,
// because the kernel's own fsync does not wait for AIO in flight. A held
// fsync is the one kind of request Cancel can really cancel; the kernel
// cannot cancel reads and writes of regular files, and Cancel says so
// (NotCanceled).
//
// # Buffered files
//
// Linux runs buffered (non-O_DIRECT) reads and writes synchronously inside
// io_submit. They complete correctly, but the submitting goroutine does the
// I/O; open files with O_DIRECT for truly asynchronous I/O.
//
// # The single global waiter
//
// Nwait keeps AIX's limit for comparison: one goroutine at a time may
// collect default-context completions; a second caller gets EBUSY at once.
// Ports (package port) lift it: each goroutine harvests its own.
package submit
