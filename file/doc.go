// Package file is an io.ReaderAt and io.WriterAt over goiocp's completion
// ports, for code written against *os.File: switching
//
//	f, err := os.OpenFile(name, os.O_RDWR, 0)
//
// to
//
//	f, err := file.Open(name, os.O_RDWR, 0)
//
// keeps every ReadAt and WriteAt call as it is, while a goroutine blocked in
// one parks in the Go runtime's poller, as on a socket, instead of holding
// an OS thread in pread(2): ten thousand goroutines reading a slow disk hold
// a handful of threads, where os.File needs ten thousand and crosses the
// runtime's limit.
//
// # How a call runs
//
// A file in memory (tmpfs) is read and written in the caller, as os.File
// does: it never waits for a device.
//
// A read of a buffered file is first tried as preadv2 with RWF_NOWAIT in
// the calling goroutine: a page-cache hit costs what os.File's pread
// costs. It is not meant to wait for a device, though on Linux 6.18's ext4
// it sometimes does (the miss's own read, for every page of some files);
// at most max(8, 2×GOMAXPROCS) callers are there at once. A miss goes,
// where the kernel allows io_uring, to one process-wide ring (ring.go; up
// to 2,048 reads in flight), since io_uring reads a buffered file
// asynchronously: the miss's I/O starts and the read completes from the
// page's wake-up, with no thread waiting, while native AIO would run it
// inside io_submit. Without io_uring (kernel.io_uring_disabled, seccomp)
// misses take bounded plain preads and the ports.
//
// A read or write of an O_DIRECT file, and every read and write of a
// buffered FUSE file (whose server kernel AIO reaches asynchronously),
// becomes a kernel AIO request on one of a few ports shared by every File
// of the process (one per P, at most 8; see pool.go), and the caller parks
// in the netpoller until its packet is harvested. There is no harvester
// goroutine: a waiting caller drives the port, harvesting for every caller
// of it until its own request is final, then hands the role to another.
// Concurrent callers of one port are combined: whoever finds the port idle
// submits everything queued in one ListIO, so many calls cost one
// io_submit. A port never holds more requests than its depth; calls beyond
// it wait, parked, for room.
//
// Two kinds of call run as one plain pread or pwrite, as os.File's, when
// no port request and no ring read of the process is in flight: a read
// or write of an O_DIRECT file (FUSE's included), and a buffered read that
// missed the page cache. One call alone gains nothing from going
// asynchronous, and would pay a hand-off and a wake-up. One such call
// runs at a time; the next goes to the ports or the ring (without
// io_uring, a miss is a bounded plain pread anyway).
//
// A write to a buffered file is a pwrite in the caller, as the kernel
// would run it inside io_submit anyway (ext4 refuses RWF_NOWAIT for
// buffered writes), with at most max(8, 2×GOMAXPROCS) such writes in the
// kernel at once: dirty-page throttling may stop one for a long time, and
// a bounded number of threads then wait for it. Taking a place costs one
// atomic add; a caller parks only when every place is taken, and a place
// goes to the caller that parked last, which keeps a few goroutines warm
// in the CPU's caches, unless one has waited more than a second
// (gate.go). With thousands of goroutines writing one file the bound
// still costs throughput (0.86-0.94× os.File on a 2-core machine), the
// price of a thread count that stays flat when the writes do stop.
//
// # Contracts
//
// ReadAt and WriteAt keep the io.ReaderAt and io.WriterAt contracts: a short
// kernel result is continued until len(b) bytes are done, end of file or an
// error; ReadAt returns io.EOF when it stops at end of file; errors are
// *os.PathError (errors.Is with the errno works). On an O_DIRECT file a
// misaligned buffer, offset or length fails with EINVAL, as the kernel
// does; AlignedBuffer gives an aligned buffer. The ...Context forms return
// ctx.Err() once ctx is done, with the bytes already transferred; the
// buffer is not touched after they return (the request is cancelled or
// waited for). Sync and Datasync are ordered after every WriteAt that
// returned before they were called. Close waits for the File's calls in
// flight, then closes the file; every method then fails with an error
// wrapping os.ErrClosed.
//
// A File is safe for concurrent use by any number of goroutines.
package file
