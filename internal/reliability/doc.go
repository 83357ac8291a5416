// Package reliability holds goiocp's proofs under faults, bad input and
// load; it has no code of its own, only tests:
//
//   - fuse_test.go: faults from a real file system (internal/faultfs, a FUSE
//     mount): EIO at chosen offsets, short reads, slow requests held in
//     flight while others complete, Close and Cancel with slow requests in
//     flight;
//   - resource_test.go: real resource errors: ENOSPC (a tiny tmpfs in a
//     private mount namespace), EFBIG (RLIMIT_FSIZE in a child process),
//     EFAULT, EBADF, misaligned O_DIRECT (EINVAL), a file closed while its
//     requests are in flight;
//   - misuse_test.go: misuse that must give a clear error and never corrupt
//     memory or panic;
//   - fuzz_test.go: FuzzSequence (random writes, reads, fsyncs, cancels and
//     ListIO batches over several ports and the default context, checked
//     against an in-memory model of the file) and FuzzValidate (AIOCB
//     validation); their seed corpora are in testdata/fuzz/<FuzzName>/;
//   - soak_test.go: TestSoak, a bounded soak (GOIOCP_SOAK=<duration> makes
//     it longer).
//
// TestMain fails the package if any test leaked a file descriptor, a kernel
// AIO context or a goroutine. docs/RELIABILITY.md lists every fault and bad
// input, what the user gets, and the test that proves it. Tests that need
// root or FUSE skip with the reason where those are missing.
package reliability
