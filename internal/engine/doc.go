// Package engine is goiocp's request engine: contexts with their slot
// tables and eventfds, the request state machine embedded in every
// aiocb.AIOCB, the ring reaper, fsync ordering, cancellation, and the
// driver role through which a waiting goroutine parks, in the Go netpoller
// or inside the kernel.
//
// # Two kernel interfaces
//
// A Context runs on a kernelQueue (queue.go): native AIO (queue_aio.go)
// or io_uring (queue_uring_linux.go). Requests are described to both as
// iocbs; the AIO queue hands them to io_submit, the io_uring queue copies
// each into a submission entry under the context's lock, with aio_data as
// its user_data, and both give completions back as io_events. What differs
// is behind the interface: how iocbs reach the kernel and what it refuses
// at once, how a reap reads the ring, how a driver sleeps in the kernel,
// how a request is cancelled, and whether requests go with RWF_NOWAIT and
// the workers behind it (AIO) or the kernel makes them asynchronous
// itself (io_uring, with uring_prepare.go choosing io-wq for FUSE and the
// submitter's own copy for files in memory).
//
// The public packages are thin over it: package port is a Context with a
// packet queue as its Sink, package submit routes requests to contexts and
// owns the process-wide default context.
//
// # The path of a request (AIO)
//
// A submitter claims the Request (EBUSY if it is in flight or its packet is
// not yet harvested), Submit gives it a slot of the context (EAGAIN if none
// is free after reaping), fills the slot's iocb with aio_data = slot index
// and generation, sets IOCB_FLAG_RESFD if the context signals its eventfd at
// the time (signal.go), and calls io_submit. The slot keeps the Request, and
// through its Owner the AIOCB and its buffers, reachable until the event is
// reaped. A reaper (Poll) copies events out of the shared ring without a
// system call, frees the slots, makes each Request final and hands the batch
// to the context's Sink.
//
// # Locks
//
// Context.reapMu serialises ring consumers and is taken before Context.mu
// (slots) and before any Sink lock. Nothing holds a Context.mu while taking
// another lock. The driver role (Context.drive) is held by the one goroutine
// parked on the eventfd; it is not a lock around any data.
package engine
