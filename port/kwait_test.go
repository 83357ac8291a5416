//go:build linux

package port_test

import (
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/internal/testutil"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
)

// TestKernelWait runs the port's behaviour tests again with every port in
// kernel-wait mode (WithKernelWait: waiters sleep in io_getevents, a POLL
// iocb on the eventfd carries posts, Close and cancellation to them).
func TestKernelWait(t *testing.T) {
	kernelWait = true
	defer func() { kernelWait = false }()
	for _, tc := range []struct {
		name string
		f    func(*testing.T)
	}{
		{"Timeouts", TestTimeouts},
		{"PostRoundTrip", TestPostRoundTrip},
		{"FIFO", TestFIFO},
		{"GetQueuedCompletionStatusEx", TestGetQueuedCompletionStatusEx},
		{"WaitContext", TestWaitContext},
		{"ReadWrite", TestReadWrite},
		{"ShortReadAndEOF", TestShortReadAndEOF},
		{"EFAULT", TestEFAULT},
		{"Vectored", TestVectored},
		{"OwnPackets", TestOwnPackets},
		{"LIFO", TestLIFO},
		{"CloseWakesWaiters", TestCloseWakesWaiters},
		{"CloseInFlight", TestCloseInFlight},
		{"Depth", TestDepth},
		{"GCStorm", TestGCStorm},
	} {
		t.Run(tc.name, tc.f)
	}
}

// TestKernelWaitWakeups: a waiter asleep in io_getevents on a kernel-wait
// port wakes for a completion on O_DIRECT disk I/O (which finishes after
// io_submit returns), for a posted packet, for Suspend's and ListIO(Wait)'s
// requests, and many waiters and submitters on one port lose nothing.
func TestKernelWaitWakeups(t *testing.T) {
	p := newPort(t, port.WithKernelWait(), port.WithDepth(128))
	_, fd := testutil.File(t, t.TempDir(), testutil.Pattern(5, 1<<20), os.O_RDWR|syscall.O_DIRECT)
	if err := p.Associate(fd, 3); err != nil {
		t.Fatal(err)
	}

	// A post wakes a sleeping waiter.
	got := make(chan completion.Packet, 1)
	go func() {
		pkt, _ := p.GetQueuedCompletionStatus(port.Infinite)
		got <- pkt
	}()
	waitParked(t, p, 1)
	if err := p.PostQueuedCompletionStatus(7, 8, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case pkt := <-got:
		if pkt.Bytes != 7 || pkt.Key != 8 {
			t.Fatalf("posted packet %+v", pkt)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a post did not wake the waiter sleeping in io_getevents")
	}

	// Suspend and ListIO(Wait) drive the context through the same park.
	buf := testutil.Aligned(t, 4096)
	cb := cbFor(p, fd, 8192, buf)
	if err := submit.Read(cb); err != nil {
		t.Fatal(err)
	}
	if err := submit.Suspend([]*aiocb.AIOCB{cb}, 10*time.Second); err != nil {
		t.Fatalf("Suspend: %v", err)
	}
	if pkt := get(t, p); pkt.CB != cb || pkt.Bytes != 4096 {
		t.Fatalf("packet %+v", pkt)
	}
	submit.Return(cb)
	cb = cbFor(p, fd, 4096, buf)
	if err := submit.ListIO(submit.Wait, []*aiocb.AIOCB{cb}, nil); err != nil {
		t.Fatalf("ListIO(Wait): %v", err)
	}
	if i := testutil.Equal(buf, testutil.Pattern(5, 1<<20)[4096:8192]); i >= 0 {
		t.Fatalf("read differs at %d", i)
	}
	get(t, p)
	submit.Return(cb)

	// Several waiters, several submitters, posts mixed in: every packet
	// arrives once.
	const submitters, perSubmitter, posts, waiters = 4, 200, 100, 3
	var wg sync.WaitGroup
	seen := make(chan completion.Packet, submitters*perSubmitter+posts)
	var waitWG sync.WaitGroup
	for range waiters {
		waitWG.Go(func() {
			pkts := make([]completion.Packet, 8)
			for {
				n, err := p.GetQueuedCompletionStatusEx(pkts, 10*time.Second)
				if err != nil {
					return
				}
				for _, pkt := range pkts[:n] {
					if pkt.Key == 99 && pkt.CB == nil && pkt.Bytes == -1 {
						return // the stop packet
					}
					seen <- pkt
				}
			}
		})
	}
	for s := range submitters {
		wg.Go(func() {
			b := testutil.Aligned(t, 4096*8)
			for i := 0; i < perSubmitter; i += 8 {
				var list []*aiocb.AIOCB
				for k := range 8 {
					list = append(list, cbFor(p, fd, int64((s*perSubmitter+i+k)%256)*4096, b[k*4096:(k+1)*4096]))
				}
				if err := submit.ListIO(submit.NoWait, list, nil); err != nil {
					t.Errorf("ListIO: %v", err)
					return
				}
				for _, c := range list {
					if err := submit.Suspend([]*aiocb.AIOCB{c}, 10*time.Second); err != nil {
						t.Errorf("Suspend: %v", err)
						return
					}
				}
			}
		})
	}
	for i := range posts {
		p.PostQueuedCompletionStatus(i, 5, nil)
	}
	wg.Wait()
	reads, posted := 0, 0
	deadline := time.After(10 * time.Second)
	for reads+posted < submitters*perSubmitter+posts {
		select {
		case pkt := <-seen:
			if pkt.CB != nil {
				if pkt.Err != nil || pkt.Bytes != 4096 || pkt.Key != 3 {
					t.Fatalf("read packet %+v", pkt)
				}
				reads++
			} else {
				posted++
			}
		case <-deadline:
			t.Fatalf("%d reads and %d posts of %d and %d arrived", reads, posted, submitters*perSubmitter, posts)
		}
	}
	for range waiters {
		p.PostQueuedCompletionStatus(-1, 99, nil)
	}
	waitWG.Wait()
	if reads != submitters*perSubmitter || posted != posts {
		t.Fatalf("%d reads, %d posts", reads, posted)
	}
}
