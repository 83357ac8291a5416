// Package sys is the only place in goiocp that makes raw system calls or
// uses package unsafe: the Linux AIO syscalls (io_setup, io_submit,
// io_getevents, io_cancel, io_destroy), the eventfd each context signals,
// and the reaper that copies io_events out of a context's shared ring.
//
// Every entry point retries EINTR where the call can be repeated, keeps its
// arguments alive across the call, and never drops a short count. Errors are
// syscall.Errno values boxed once (see Errno), so the hot paths do not
// allocate. On every GOOS but Linux the entry points return ENOSYS.
package sys
