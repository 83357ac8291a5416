// Package bench is goiocp's benchmark suite: it runs the same workloads
// through several I/O runtimes on the same file, in the same run, and
// reports them side by side.
//
// # Engines
//
//   - ports: every goroutine owns a port (port.New with WithDepth(qd)),
//     submits with submit.ListIO and harvests with
//     GetQueuedCompletionStatusEx;
//   - global-ebusy: requests go to the process default context and every
//     goroutine calls submit.Nwait itself, retrying on EBUSY and handing
//     other goroutines' requests back to them;
//   - global-collector: one collector goroutine calls submit.Nwait and hands
//     every finished request back to its owner;
//   - readat: os.File.ReadAt / WriteAt from the same number of goroutines,
//     one request at a time each (what a Go program writes today);
//   - fio-libaio, fio-io_uring: fio with that ioengine, numjobs = G and
//     iodepth = qd, when fio is installed.
//
// # Method
//
// A Job is one cell of the matrix: a Workload (4 KiB random read, 4 KiB
// random write, 128 KiB sequential read), a Target (a file on tmpfs or on
// disk, opened with or without O_DIRECT), G goroutines and qd requests in
// flight per goroutine, run for a fixed duration. Run executes every cell
// Rounds times, alternating the engines within the cell (A B C A B C ...),
// and reports for each engine the median and the min–max over the rounds of
// IOPS, MB/s, p50/p99/p99.9 completion latency (from submission to the
// moment the owner goroutine holds the result), CPU time per request
// (getrusage(RUSAGE_SELF) deltas for in-process engines, fio's own usr+sys
// for fio), heap allocations per request (runtime.MemStats.Mallocs delta)
// and the ratio of the engine's IOPS to ports' IOPS in the same round.
//
// Buffers are page aligned (anonymous mmap) so that O_DIRECT works.
// Buffered requests through kernel AIO run synchronously inside io_submit;
// the suite shows that as it is rather than hiding it.
//
// # Output
//
// Report.WriteTable prints the terminal table, Report.WriteJSON the
// machine-readable record and WriteSVG a plot of IOPS against G per engine.
package bench
