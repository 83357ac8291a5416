//go:build linux

package file

import (
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/internal/sys"
)

// A buffered read that misses the page cache goes to an io_uring where the
// kernel allows one: io_uring reads a buffered file asynchronously (the
// read starts the page-cache I/O and completes from the page's wake-up,
// with no thread waiting), so any number of misses are in flight at once,
// as os.File's thousands of threads put them, without the threads. Native
// AIO cannot do that: a buffered AIO read runs inside io_submit. Where
// io_uring is refused (kernel.io_uring_disabled, seccomp), misses take the
// bounded plain preads and the ports as before.

// ringDepth is the most reads in flight on the ring.
const ringDepth = 2048

// ringReader is the pool's ring: submitters fill its SQ under mu, one
// goroutine reaps its CQ, woken through the ring's eventfd in the
// netpoller.
type ringReader struct {
	mu    sync.Mutex
	ring  *sys.URing
	next  uint64
	waits map[uint64]*ringWait
	slots chan struct{} // one per read in flight
	efd   *os.File
	done  chan struct{} // closed when the reaper is gone
}

// ringWait is a read in flight: its buffer, kept reachable until the
// kernel is done with it, and where its result goes.
type ringWait struct {
	buf []byte
	res chan int32
}

// ringReads counts the reads the ring has done, for the tests.
var ringReads atomic.Int64

var ringWaits = sync.Pool{New: func() any { return &ringWait{res: make(chan int32, 1)} }}

// newRingReader returns the ring, or nil where io_uring cannot be used.
func newRingReader() *ringReader {
	ring, err := sys.NewURing(ringDepth, 0)
	if err != nil {
		return nil
	}
	efd, err := sys.Eventfd()
	if err != nil {
		ring.Close()
		return nil
	}
	if err := ring.RegisterEventfd(efd); err != nil {
		sys.CloseFd(efd)
		ring.Close()
		return nil
	}
	rr := &ringReader{ring: ring, waits: map[uint64]*ringWait{}, slots: make(chan struct{}, ringDepth),
		efd: os.NewFile(uintptr(efd), "io_uring eventfd"), done: make(chan struct{})}
	go rr.reap()
	return rr
}

// busy reports whether a read is in flight on the ring (false on none).
func (rr *ringReader) busy() bool { return rr != nil && len(rr.slots) > 0 }

// read reads into b at off of fd through the ring and reports whether it
// did: false when the ring is full, and the caller takes another way.
func (rr *ringReader) read(fd int, b []byte, off int64) (int64, bool) {
	select {
	case rr.slots <- struct{}{}:
	default:
		return 0, false
	}
	w := ringWaits.Get().(*ringWait)
	rr.mu.Lock()
	sqe := rr.ring.SQE()
	if sqe == nil {
		rr.mu.Unlock()
		ringWaits.Put(w)
		<-rr.slots
		return 0, false
	}
	rr.next++
	id := rr.next
	sqe.Opcode, sqe.Fd, sqe.Off, sqe.UserData = sys.IORING_OP_READ, int32(fd), uint64(off), id
	sqe.SetBuffer(b)
	w.buf = b
	rr.waits[id] = w
	// Once published the entry is the kernel's: a failed enter leaves it
	// in the ring, so entering is retried until the kernel takes it.
	for try := 0; ; try++ {
		_, err := rr.ring.Submit(0)
		if err == nil {
			break
		}
		if err != syscall.EAGAIN && err != syscall.EBUSY && try > 100 {
			panic("file: io_uring_enter: " + err.Error())
		}
		time.Sleep(time.Duration(try+1) * time.Microsecond)
	}
	rr.mu.Unlock()
	res := <-w.res
	w.buf = nil
	ringWaits.Put(w)
	<-rr.slots
	ringReads.Add(1)
	return int64(res), true
}

// reap hands each completion to its reader, until the eventfd is closed.
func (rr *ringReader) reap() {
	defer close(rr.done)
	var b [8]byte
	cqes := make([]sys.URingCQE, 64)
	for {
		if _, err := rr.efd.Read(b[:]); err != nil {
			return
		}
		for {
			rr.mu.Lock()
			n := rr.ring.Reap(cqes)
			for _, c := range cqes[:n] {
				w := rr.waits[c.UserData]
				delete(rr.waits, c.UserData)
				if w != nil {
					w.res <- c.Res
				}
			}
			rr.mu.Unlock()
			if n < len(cqes) {
				break
			}
		}
	}
}

// close ends the reaper and the ring. No read is in flight: the last
// File's Close waited for its calls.
func (rr *ringReader) close() {
	rr.efd.Close()
	<-rr.done
	rr.ring.Close()
}
