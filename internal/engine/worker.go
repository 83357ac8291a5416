package engine

import (
	"runtime"
	"sync/atomic"
	"syscall"

	"github.com/goiocp/goiocp/internal/sys"
)

// Requests are submitted with RWF_NOWAIT, so io_submit never blocks the
// submitting goroutine: a buffered read of data not in the page cache, or a
// write that would wait for block allocation or a lock, comes back at once
// with EAGAIN in its event. Such a request keeps its slot and goes to a
// worker goroutine, which performs it with a blocking pread/pwrite and
// completes it to the same context, with the same key and packet. At most
// maxWorkers run at once, so at most that many threads block in the kernel.

// BlockingSubmit turns RWF_NOWAIT off: every read and write is submitted as
// a blocking system call, as before goiocp had workers. It exists so that
// benchmarks can show the difference; set it before any I/O.
var BlockingSubmit = false

const (
	workerQueued  = 1 // waiting for a worker: still cancellable
	workerRunning = 2 // a worker performs it
)

// workers bounds the goroutines performing blocking I/O.
var workers = make(chan struct{}, maxWorkers())

func maxWorkers() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// identify classifies the file of each read and write of a batch, one
// fstat per file: a file with no position (a pipe, socket or tty) makes a
// stream request, which joins its stream (stream.go) instead of the ring;
// for the others it records the identity (device and inode) that a worker
// checks. A worker performs a request submitted with RWF_NOWAIT with the fd
// number long after the submit, when the program may have closed it and
// opened another file under the same number; it checks the identity on a
// dup of the fd before touching the file. A file that cannot be looked at
// (EBADF) stays a plain request, which io_submit refuses.
func identify(reqs []*Request) {
	for i, r := range reqs {
		r.id, r.kind = sys.FileID{}, sys.KindFile
		if direction(r.Cmd) == noDirection {
			continue
		}
		kind := -1
		if r.pre && (r.preKind != sys.KindFile || !r.nowait) {
			r.id, kind = r.preID, r.preKind
		}
		for _, o := range reqs[:i] {
			if kind >= 0 {
				break
			}
			if o.Fd == r.Fd && direction(o.Cmd) != noDirection {
				r.id, kind = o.id, o.kind
				break
			}
		}
		if kind < 0 {
			var err error
			if r.id, kind, err = sys.Classify(r.Fd); err != nil {
				kind = sys.KindFile
			}
		}
		r.kind = kind
	}
}

// perform does r's remaining I/O on a dup of its fd, so that a close by the
// program meanwhile cannot redirect it: a file closed before the worker got
// to the request (or replaced under the same number) fails it with EBADF,
// while one the worker holds completes as if the close came later.
func perform(r *Request) int64 {
	fd, err := sys.Dup(r.Fd)
	if err != nil {
		return -int64(syscall.EBADF)
	}
	defer sys.CloseFd(fd)
	if id, err := sys.Identify(fd); err != nil || id != r.id {
		return -int64(syscall.EBADF)
	}
	return sys.Perform(r.Cmd, fd, r.Buf, r.Iov, r.Offset, r.res)
}

// dispatch hands r, which holds its slot, to a worker.
func (c *Context) dispatch(r *Request) {
	go func() {
		workers <- struct{}{}
		defer func() { <-workers }()
		c.mu.Lock()
		if r.canceled {
			c.mu.Unlock()
			c.Finish(r, -int64(syscall.ECANCELED))
			return
		}
		r.worker = workerRunning
		c.mu.Unlock()
		workerRuns.Add(1)
		c.Finish(r, perform(r))
	}()
}

// workerRuns counts the requests workers performed, in every context.
var workerRuns atomic.Int64

// WorkerRuns returns how many requests the engine's workers have performed
// with blocking system calls since the process started: requests the
// kernel could not do without blocking (AIO's RWF_NOWAIT EAGAIN). It stays
// 0 on io_uring, where the kernel makes every request asynchronous.
func WorkerRuns() int64 { return workerRuns.Load() }

// unfinished reports whether a RWF_NOWAIT request's result res leaves work
// for a worker: EAGAIN, EOPNOTSUPP, or a count short of the request's size.
// With RWF_NOWAIT a buffered read stops at the first page not cached and a
// write where it would block, so a short count does not mean end of file.
func unfinished(r *Request, res int64) bool {
	switch {
	case res == -int64(syscall.EAGAIN), res == -int64(syscall.EOPNOTSUPP):
		return true
	case res < 0:
		return false
	}
	n := len(r.Buf)
	if r.Iov != nil {
		n = 0
		for _, b := range r.Iov {
			n += len(b)
		}
	}
	return res < int64(n)
}
