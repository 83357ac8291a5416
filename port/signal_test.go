//go:build linux

package port_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/goiocp/goiocp/internal/testutil"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
)

// TestSignalOnlyWhileWaiting: a port whose harvests find their completions
// ready does not make the kernel signal its eventfd per request (the
// signal's epoll callback is what capped default ports on 16 cores); once a
// waiter has parked for a millisecond or more, requests signal again, until
// the harvests have found completions 64 times with no such wait between.
// The reads are on tmpfs, where a read completes inside io_submit, so no
// harvest ever waits.
func TestSignalOnlyWhileWaiting(t *testing.T) {
	testutil.SkipOnIOURing(t, "IOCB_FLAG_RESFD is per request; io_uring signals every completion or none")
	dir := testutil.TmpfsDir(t)
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
	if n := testutil.CountSignals(t, p.Fd(), func() { cycle(100) }); n != 0 {
		t.Fatalf("a port that never waited: eventfd counted %d of 100 completions, want 0", n)
	}

	// A waiter parks (and times out): the next requests signal.
	if _, err := p.GetQueuedCompletionStatus(time.Millisecond); !errors.Is(err, port.ErrTimeout) {
		t.Fatalf("GetQueuedCompletionStatus on an empty port: %v", err)
	}
	if n := testutil.CountSignals(t, p.Fd(), func() { cycle(10) }); n != 10 {
		t.Fatalf("after a wait: eventfd counted %d of 10 completions, want 10", n)
	}

	// 64 harvests that found completions ready (the 10 above among them)
	// turn the signal off again.
	cycle(60)
	if n := testutil.CountSignals(t, p.Fd(), func() { cycle(100) }); n != 0 {
		t.Fatalf("after 160 harvests with no wait: eventfd counted %d of 100 completions, want 0", n)
	}
}
