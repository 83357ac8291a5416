// Package port provides I/O completion ports over Linux native AIO.
//
// A Port owns a kernel AIO context (io_setup) and an eventfd that the kernel
// signals on completions (IOCB_FLAG_RESFD) while a waiter may need it.
// Requests whose AIOCB names the port (Flags Extended, Version Vers2,
// IOCPFD = Fd()) complete to it, and only those: a goroutine (or a group
// of goroutines) that owns a port harvests its own packets and nobody
// else's, without the single global waiter of aio_nwait.
//
// The seven steps of AIX's "Using I/O Completion Ports with AIO Requests":
//
//  1. open a regular file;
//  2. Create(fd, nil, key, 0) makes a port and associates the file with key;
//  3. fill an aiocb.AIOCB with Flags = aiocb.Extended, Version = aiocb.Vers2;
//  4. set its IOCPFD to the port's Fd();
//  5. start it with submit.Read, submit.Write, submit.Fsync or submit.ListIO;
//  6. GetQueuedCompletionStatus returns its packet: Key, Bytes, the AIOCB, Err;
//  7. Close the port and the files.
//
// # Waiting
//
// GetQueuedCompletionStatus, GetQueuedCompletionStatusEx and Wait look
// blocking but run over the async core the way internal/poll.FD.Read does:
// take a queued packet; else reap the context's shared ring in user space
// (no system call); else park. Later waiters wait on a channel; the first
// one to park, the driver, waits in one of two places:
//
//   - in the Go runtime's netpoller on the eventfd, holding no OS thread;
//   - inside io_getevents, holding its OS thread as a blocking read does,
//     woken directly by a completion as a libaio program's thread is. A
//     kernel POLL request on the eventfd carries posts, Close, timeouts and
//     cancellation to it.
//
// The signal that wakes the netpoller costs every completion a trip through
// the runtime's one epoll instance, which all ports share: on 16 cores it
// held default ports to about 2.2 M reads/s in all. So a port adapts. While
// its waits are short or absent, its requests go without the signal, and a
// waiter that must park sleeps in io_getevents; a wait of a millisecond or
// more turns the signal on and sends later waits to the netpoller, until 64
// harvests pass with no such wait. A busy port thus runs at the kernel's
// pace (6-7 M reads/s on 16 cores, fio's rate on a virtio disk), and an
// idle one, once its requests without the signal are done, holds no
// thread.
//
// At most GOMAXPROCS/2 waiters (at least one) sleep in io_getevents at
// once, since each holds a P until the runtime takes it back; a port that
// finds no place signals and waits in the netpoller. While a waiter sleeps
// there, the kernel hands completions to it first: another goroutine's
// GetQueuedCompletionStatus(0), or a submit finding the port full, sees
// them only once the sleeper has woken, microseconds later.
//
// WithKernelWait keeps the signal off for good: the waiter always sleeps in
// io_getevents, outside that limit. Use it for a few ports that must never
// wait in the netpoller, not for thousands of mostly idle ones.
//
// Completions are handed to waiters most recent first (LIFO, as Windows
// releases threads), each waiter taking up to as many packets as it asked
// for. Posted packets and I/O packets share one FIFO.
//
// A packet whose I/O failed is returned with a nil error and pkt.Err set;
// the error result speaks only of the wait: ErrTimeout, ErrClosed, or a
// cancelled context's error.
//
// # Streams and sockets
//
// A file with no position (a pipe, FIFO, socket or tty) takes the same
// requests as a regular file, with read(2) semantics: a read completes as
// soon as it has at least one byte, with what one read would return, or
// with 0 at the end of the stream; a write completes once all its bytes
// are written, or with its errno (EPIPE, ECONNRESET), and never raises
// SIGPIPE. Requests of one direction on one stream (dups included) complete
// in the order they were submitted, each taking the next bytes. Offset is
// ignored.
//
// A pending stream request holds no OS thread and no worker: its transfer
// is tried at once as a system call that cannot wait (RWF_NOWAIT, or
// MSG_DONTWAIT|MSG_NOSIGNAL for sockets); when the stream is not ready, the
// request's slot carries an IOCB_CMD_POLL for it in the port's own kernel
// context, and the harvest that reaps that POLL retries the transfer. So one
// harvest loop sees file and socket packets side by side, told apart by
// their keys, and any number of stream requests may wait at once. A tty,
// whose two wait queues kernel AIO cannot poll, is polled through an epoll
// instance watching it. Cancel of a request still waiting is Canceled: it
// is final when Cancel returns, took no bytes and makes no packet; Close
// cancels the port's waiting stream requests and polls the same way.
//
// OpPoll requests (submit.Poll) wait for a file's readiness: a listening
// socket's pending connection is a packet like any other, its Bytes the
// ready mask. ReadFile and WriteFile are AIX's calls for sockets: done at
// once they return the count and queue no packet; otherwise they return
// EINPROGRESS and the packet follows. Stats counts a port's requests,
// packets and wake-ups, without a system call.
//
// # Concurrency
//
// Windows' NumberOfConcurrentThreads limits the threads a port releases at
// once. Go multiplexes goroutines over GOMAXPROCS threads itself, so the
// scheduler plays that part: Create checks concurrency >= 0 and otherwise
// ignores it, as AIX does.
//
// # Engines
//
// A port runs on a kernel interface, its Engine. Engines lists those this
// process may use; WithEngine picks one for a port, and GOIOCP_ENGINE
// ("aio" or "io_uring") sets the default for ports made without it, package
// file's and the default context included. Where the kernel refuses
// io_uring, EngineIOURing fails with ENOSYS (or EPERM), and the error says
// why: absent, disabled by kernel.io_uring_disabled, refused by a seccomp
// filter, or a kernel without IORING_REGISTER_SYNC_CANCEL (before 6.0).
//
// Every rule of this package holds on both engines; what differs is how:
//
//   - EngineAIO: requests go to io_submit with RWF_NOWAIT; what would block
//     (a buffered read of a page not cached, a write waiting for
//     allocation) comes back and is performed by a bounded set of worker
//     goroutines with blocking system calls. io_cancel cancels only polls.
//     Each port's depth is charged against /proc/sys/fs/aio-max-nr.
//   - EngineIOURing: one ring per port, its eventfd registered and
//     signalled only while a waiter is parked on it. The kernel makes every
//     request asynchronous itself: a cold buffered read waits for its page
//     with no thread, and no user-space worker ever runs. Cancel reaches
//     requests waiting in the kernel's io-wq, regular files' included. A
//     FUSE file's requests go straight to io-wq (IOSQE_ASYNC); a file in
//     memory (tmpfs), which io_uring would hand to io-wq worker threads
//     for every copy, is copied in the submitter as io_submit does, large
//     copies of a batch shared with the ring's workers. Depth is at most
//     65,535. Completions posted by io-wq workers may show those
//     (iou-wrk-*) threads in the process; they are the kernel's.
//
// # Limits
//
// io_setup charges each port's depth (WithDepth, default 64) against the
// system-wide /proc/sys/fs/aio-max-nr (65536 by default); /proc/sys/fs/aio-nr
// shows the sum in use. A port costs one eventfd, a kernel ring of about
// 32 bytes per event (the kernel sizes it for at least twice the depth) and
// a slot table of about 100 bytes per request of depth.
//
// # Close
//
// Close wakes every waiter with ErrClosed, lets the requests still in flight
// finish (their submit.Error and submit.Return become final, but they make
// no packet), waits until the kernel no longer touches their buffers, and
// releases the kernel context and the eventfd. Submits naming the old fd
// then fail with EBADF, unless a new port got the same number.
package port
