//go:build linux

package port_test

import (
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/goiocp/goiocp/internal/testutil"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
)

// eventfdCount reads and clears the count of a port's eventfd (its Fd),
// which the kernel raises by one for every completion of a request
// submitted with IOCB_FLAG_RESFD. Nobody else reads it meanwhile: no
// goroutine waits on the port.
func eventfdCount(t *testing.T, p *port.Port) uint64 {
	t.Helper()
	var b [8]byte
	n, err := syscall.Read(p.Fd(), b[:])
	if errors.Is(err, syscall.EAGAIN) {
		return 0
	}
	if err != nil || n != 8 {
		t.Fatalf("read eventfd: %d, %v", n, err)
	}
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// TestSignalOnlyWhileWaiting: a port whose harvests find their completions
// ready does not make the kernel signal its eventfd per request (the
// signal's epoll callback is what capped default ports on 16 cores); once a
// waiter has had to park, requests signal again, until the harvests have
// found completions ready 64 times in a row. The reads are on tmpfs, where a
// read completes inside io_submit, so no harvest ever waits.
func TestSignalOnlyWhileWaiting(t *testing.T) {
	var dir string
	for _, fs := range testutil.FileSystems(t) {
		if fs.Name == "tmpfs" {
			dir = fs.Dir
		}
	}
	if dir == "" {
		t.Skip("no tmpfs at /dev/shm: the test needs reads that complete inside io_submit")
	}
	data := testutil.Pattern(3, 64<<10)
	_, fd := testutil.File(t, dir, data, os.O_RDWR)
	p := newPort(t)
	if err := p.Associate(fd, 1); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	cycle := func(n int) {
		t.Helper()
		for i := range n {
			cb := cbFor(p, fd, int64(i%16)*4096, buf)
			if err := submit.Read(cb); err != nil {
				t.Fatal(err)
			}
			if pkt := get(t, p); pkt.CB != cb || pkt.Bytes != 4096 || pkt.Err != nil {
				t.Fatalf("packet %+v", pkt)
			}
			if _, err := submit.Return(cb); err != nil {
				t.Fatal(err)
			}
		}
	}

	// A new port has not waited: no signals.
	cycle(100)
	if n := eventfdCount(t, p); n != 0 {
		t.Fatalf("a port that never waited: eventfd counted %d of 100 completions, want 0", n)
	}

	// A waiter parks (and times out): the next requests signal.
	if _, err := p.GetQueuedCompletionStatus(time.Millisecond); !errors.Is(err, port.ErrTimeout) {
		t.Fatalf("GetQueuedCompletionStatus on an empty port: %v", err)
	}
	eventfdCount(t, p)
	cycle(10)
	if n := eventfdCount(t, p); n != 10 {
		t.Fatalf("after a wait: eventfd counted %d of 10 completions, want 10", n)
	}

	// 64 harvests that found completions ready (the 10 above among them)
	// turn the signal off again.
	cycle(60)
	eventfdCount(t, p)
	cycle(100)
	if n := eventfdCount(t, p); n != 0 {
		t.Fatalf("after 160 harvests with no wait: eventfd counted %d of 100 completions, want 0", n)
	}
}
