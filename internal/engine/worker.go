package engine

import (
	"runtime"
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

const (
	workerQueued  = 1 // waiting for a worker: still cancellable
	workerRunning = 2 // a worker performs it
)

// workers bounds the goroutines performing blocking I/O.
var workers = make(chan struct{}, maxWorkers())

func maxWorkers() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

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
		c.Finish(r, sys.Perform(r.Cmd, r.Fd, r.Buf, r.Iov, r.Offset, r.res))
	}()
}

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
