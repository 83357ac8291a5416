// Package port provides I/O completion ports over Linux native AIO.
//
// A Port owns a kernel AIO context (io_setup) and an eventfd that the kernel
// signals for every completion (IOCB_FLAG_RESFD). Requests whose AIOCB names
// the port (Flags Extended, Version Vers2, IOCPFD = Fd()) complete to it,
// and only those: a goroutine (or a group of goroutines) that owns a port
// harvests its own packets and nobody else's, without the single global
// waiter of aio_nwait.
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
// (no system call); else park. The first waiter to park does so in the Go
// runtime's netpoller on the eventfd, holding no OS thread; later ones wait
// on a channel. Completions are handed to waiters most recent first (LIFO,
// as Windows releases threads), each waiter taking up to as many packets as
// it asked for. Posted packets and I/O packets share one FIFO.
//
// WithKernelWait trades that thread for speed on a device: the port's
// requests go to the kernel without the eventfd signal and its waiter
// sleeps inside io_getevents, woken directly by a completion, as a libaio
// program's thread is. A kernel POLL request on the eventfd keeps posts,
// Close, timeouts and cancellation working. On the development machine's
// virtio disk one goroutine at QD 32 reached fio's rate with it (0.99x,
// against 0.83x parked in the netpoller); it costs one OS thread per
// sleeping port, so it is for a few busy ports, not thousands of idle ones.
//
// A packet whose I/O failed is returned with a nil error and pkt.Err set;
// the error result speaks only of the wait: ErrTimeout, ErrClosed, or a
// cancelled context's error.
//
// # Concurrency
//
// Windows' NumberOfConcurrentThreads limits the threads a port releases at
// once. Go multiplexes goroutines over GOMAXPROCS threads itself, so the
// scheduler plays that part: Create checks concurrency >= 0 and otherwise
// ignores it, as AIX does.
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
