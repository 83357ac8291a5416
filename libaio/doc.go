// Package libaio is libaio's API (io(3): io_queue_init, io_submit,
// io_getevents, io_prep_pread, io_set_callback, io_queue_run ...) in Go
// style, over goiocp's I/O completion ports.
//
// A Queue is libaio's io_context_t: QueueInit makes one over a new
// port.Port of the given depth, and Release (io_queue_release) closes it.
// The Prep functions fill an aiocb.AIOCB as io_prep_* fill a struct iocb;
// Submit sends a slice of them to the kernel in one io_submit, completing to
// the queue's port. Completions come back either as Events (GetEvents,
// io_getevents) or through callbacks: SetCallback (io_set_callback) names
// the function to call for a request, Run (io_queue_run) calls those of the
// requests already complete without blocking, and Wait (io_queue_wait)
// waits for one completion and calls its callback.
//
// The calls and what they map to:
//
//	libaio                          goiocp/libaio                      over
//	io_queue_init(depth, &ctx)      QueueInit(depth)                   port.New(port.WithDepth(depth))
//	io_queue_release(ctx)           (*Queue).Release()                 (*port.Port).Close
//	io_submit(ctx, nr, iocbs)       (*Queue).Submit(cbs)               submit.ListIO(submit.NoWait, ...)
//	io_getevents(ctx, min, nr, ...) (*Queue).GetEvents(min, evs, t)    (*port.Port).GetQueuedCompletionStatusEx
//	io_cancel(ctx, iocb, &ev)       (*Queue).Cancel(cb)                submit.Cancel
//	io_prep_pread                   PrepPread(cb, fd, buf, off)        fills Opcode OpRead
//	io_prep_pwrite                  PrepPwrite(cb, fd, buf, off)       fills Opcode OpWrite
//	io_prep_preadv                  PrepPreadv(cb, fd, iov, off)       fills Opcode OpReadv
//	io_prep_pwritev                 PrepPwritev(cb, fd, iov, off)      fills Opcode OpWritev
//	io_prep_fsync                   PrepFsync(cb, fd)                  fills Opcode OpFsync
//	io_prep_fdsync                  PrepFdsync(cb, fd)                 fills Opcode OpFdsync
//	io_prep_poll                    PrepPoll(cb, fd, events)           fills Opcode OpPoll
//	io_set_callback(iocb, fn)       (*Queue).SetCallback(cb, fn)       a side table in the Queue
//	io_queue_run(ctx)               (*Queue).Run()                     GetQueuedCompletionStatusEx, timeout 0
//	io_queue_wait(ctx, timeout)     (*Queue).Wait(timeout)             GetQueuedCompletionStatus
//	io_callback_t                   Callback                           func(cb, res, err)
//	struct io_event                 Event                              completion.Packet
//
// # Differences from libaio
//
// Results are Go values: an Event and a Callback receive the byte count and
// an error (errors.Is(err, syscall.EIO) ...) where libaio passes a negated
// errno in res. Timeouts are time.Durations: Infinite (libaio's NULL
// timeout) blocks and 0 polls.
//
// A struct iocb carries its callback in its data field; an aiocb.AIOCB has
// no spare field, so the Queue keeps the callbacks in a table keyed by the
// AIOCB. A callback is used once: it is forgotten when its request's
// completion is delivered (by Run, Wait or GetEvents) or when Cancel
// cancels the request, much as libaio's io_prep_* clear the data field, so a
// program that resubmits an AIOCB sets its callback again, as the libaio
// aiocp example does. A callback set for an AIOCB that is never submitted
// stays in the table until SetCallback(cb, nil) or Release.
//
// Submit fills each AIOCB's extended fields (Flags aiocb.Extended, Version
// aiocb.Vers2, IOCPFD the queue's port) and associates each file with the
// port the first time the queue sees it, so the caller need not: libaio has
// no associations.
//
// # Buffered files
//
// Linux runs buffered (non-O_DIRECT) reads and writes synchronously inside
// io_submit, so Submit returns only once they are done (their completions
// are still delivered as usual). Open files with O_DIRECT, and align buffers,
// offsets and lengths to the device's logical block size, for truly
// asynchronous I/O; cmd/aiocp shows how without package unsafe.
package libaio
