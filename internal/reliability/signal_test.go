//go:build linux

package reliability_test

import (
	"bytes"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/internal/engine"
	"github.com/goiocp/goiocp/internal/faultfs"
	"github.com/goiocp/goiocp/internal/testutil"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
)

// wakeBy bounds how long a completion may take to wake a waiter: far
// below deadline, which a lost wake-up would run into.
const wakeBy = 3 * time.Second

// recvWithin returns what ch yields, failing the test if nothing comes
// within wakeBy: what woke (or should have woken) the waiter is what.
func recvWithin[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wakeBy):
		t.Fatalf("%s did not wake the waiter within %v", what, wakeBy)
	}
	panic("unreachable")
}

// TestQuietRequestsWake covers the waits of adaptive signalling: requests
// go to the kernel without the eventfd signal while their port does not
// wait, and a waiter that parks with such a request in flight must still
// wake, for that request's completion and for anything else (a post, a
// timeout), sleeping in io_getevents. A port that parked signals again, so
// a request submitted while its waiter is parked in the netpoller wakes it.
// The requests are FUSE reads the file system holds, so they really are in
// flight while the waiters park. The tmpfs part needs /dev/shm.
func TestQuietRequestsWake(t *testing.T) {
	testutil.SkipOnIOURing(t, "requests without IOCB_FLAG_RESFD; io_uring signals every completion")
	file, data, fd, p := fuseFile(t, faultfs.Options{})
	hold := make(chan struct{})
	file.SetRules(faultfs.Rule{Op: faultfs.Read, Off: 0, Hold: hold})

	// A waiter waits up to deadline, but must be woken within wakeBy: a
	// lost wake-up would only end at its timeout, whose Poll still finds
	// the packet.
	type result struct {
		pkt completion.Packet
		err error
	}
	waiter := func() <-chan result {
		ch := make(chan result, 1)
		go func() {
			pkt, err := p.GetQueuedCompletionStatus(deadline)
			ch <- result{pkt, err}
		}()
		return ch
	}
	wait := func(ch <-chan result, what string) completion.Packet {
		t.Helper()
		r := recvWithin(t, ch, what)
		if r.err != nil {
			t.Fatalf("%s: waiter: %v", what, r.err)
		}
		return r.pkt
	}

	// A new port has never waited: the held read goes without the signal.
	slow := portCB(p, fd, 0, make([]byte, blk))
	if err := submit.Read(slow); err != nil {
		t.Fatal(err)
	}
	// The waiter parks with it in flight; a post wakes it.
	ch := waiter()
	time.Sleep(20 * time.Millisecond)
	if err := p.PostQueuedCompletionStatus(11, 12, nil); err != nil {
		t.Fatal(err)
	}
	if pkt := wait(ch, "a post"); pkt.CB != nil || pkt.Bytes != 11 || pkt.Key != 12 {
		t.Fatalf("posted packet %+v", pkt)
	}
	// A timed wait with it in flight times out on time.
	start := time.Now()
	if _, err := p.GetQueuedCompletionStatus(50 * time.Millisecond); !errors.Is(err, port.ErrTimeout) {
		t.Fatalf("timed wait: %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a 50ms wait took %v", d)
	}
	// Its completion wakes a parked waiter.
	ch = waiter()
	time.Sleep(20 * time.Millisecond)
	close(hold)
	if pkt := wait(ch, "the held read's completion"); pkt.CB != slow || pkt.Err != nil || !bytes.Equal(slow.Buf, data[:blk]) {
		t.Fatalf("held read: packet %+v", pkt)
	}

	// Those waits were long: the port signals again. Reads on tmpfs (they
	// complete inside io_submit, so no harvest waits) show it, and then,
	// 64 harvests on, calm the port until it stops signalling. A waiter
	// then parks with nothing in flight, and a FUSE read submitted
	// meanwhile must signal it.
	if dir := testutil.TmpfsDir(t); dir != "" {
		_, mfd := createFile(t, dir+"/calm", testutil.Pattern(1, 16<<10), 0)
		associate(t, p, mfd, 8)
		buf := make([]byte, blk)
		cycle := func(n int) {
			for range n {
				cb := portCB(p, mfd, 0, buf)
				if err := submit.Read(cb); err != nil {
					t.Fatal(err)
				}
				if pkt := next(t, p); pkt.CB != cb {
					t.Fatalf("tmpfs read: packet %+v", pkt)
				}
				submit.Return(cb)
			}
		}
		if n := testutil.CountSignals(t, p.Fd(), func() { cycle(10) }); n != 10 {
			t.Fatalf("after long waits: eventfd counted %d of 10 completions, want 10", n)
		}
		cycle(100)
		if n := testutil.CountSignals(t, p.Fd(), func() { cycle(10) }); n != 0 {
			t.Fatalf("after 110 harvests with no wait: eventfd counted %d of 10 completions, want 0", n)
		}
	}
	for i := range 20 {
		ch = waiter()
		time.Sleep(2 * time.Millisecond)
		cb := portCB(p, fd, int64(1+i%8)*blk, make([]byte, blk))
		if err := submit.Read(cb); err != nil {
			t.Fatal(err)
		}
		if pkt := wait(ch, "a read submitted while the waiter was parked"); pkt.CB != cb || pkt.Err != nil {
			t.Fatalf("read %d: packet %+v", i, pkt)
		}
		submit.Return(cb)
	}
}

// TestQuietRequestsSuspend: Suspend on the default context, which drives
// it through the same park, wakes for a held read that went to the kernel
// without the eventfd signal, and times out on time while it is held.
func TestQuietRequestsSuspend(t *testing.T) {
	data := testutil.Pattern(5, fuseSize)
	file := faultfs.MountFile(t, "data", data, faultfs.Options{})
	_, fd := openFile(t, file.Path(), 0)
	hold := make(chan struct{})
	file.SetRules(faultfs.Rule{Op: faultfs.Read, Off: 0, Hold: hold})
	cb := &aiocb.AIOCB{Fildes: fd, Buf: make([]byte, blk)}
	if err := submit.Read(cb); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := submit.Suspend([]*aiocb.AIOCB{cb}, 50*time.Millisecond); !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("Suspend while held: %v, want EAGAIN", err)
	}
	if d := time.Since(start); d < 40*time.Millisecond || d > 5*time.Second {
		t.Fatalf("a 50ms Suspend took %v", d)
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		close(hold)
	}()
	start = time.Now()
	if err := submit.Suspend([]*aiocb.AIOCB{cb}, deadline); err != nil {
		t.Fatalf("Suspend: %v", err)
	}
	if d := time.Since(start); d > wakeBy {
		t.Fatalf("Suspend returned %v after the read was released; a completion must wake it", d)
	}
	if n, err := submit.Return(cb); n != blk || err != nil || !bytes.Equal(cb.Buf, data[:blk]) {
		t.Fatalf("Return: %d, %v", n, err)
	}
}

// TestQuietRequestsNoSleeperPlace: with no place left for another thread
// asleep in io_getevents (the limit is set to 0 here), a waiter that parks
// with a read in flight without the eventfd signal polls instead: the
// read's completion still reaches it, quickly, and a post wakes it at once.
func TestQuietRequestsNoSleeperPlace(t *testing.T) {
	defer engine.SetSleeperLimit(0)()
	file, data, fd, p := fuseFile(t, faultfs.Options{})
	hold := make(chan struct{})
	file.SetRules(faultfs.Rule{Op: faultfs.Read, Off: 0, Hold: hold})
	slow := portCB(p, fd, 0, make([]byte, blk))
	if err := submit.Read(slow); err != nil {
		t.Fatal(err)
	}
	got := make(chan completion.Packet, 2)
	go func() {
		for range 2 {
			pkt, err := p.GetQueuedCompletionStatus(deadline)
			if err != nil {
				pkt.Err = err
			}
			got <- pkt
		}
	}()
	time.Sleep(20 * time.Millisecond)
	if err := p.PostQueuedCompletionStatus(5, 6, nil); err != nil {
		t.Fatal(err)
	}
	if pkt := recvWithin(t, got, "a post"); pkt.CB != nil || pkt.Bytes != 5 || pkt.Key != 6 {
		t.Fatalf("posted packet %+v", pkt)
	}
	time.Sleep(20 * time.Millisecond)
	close(hold)
	if pkt := recvWithin(t, got, "the held read's completion"); pkt.CB != slow || pkt.Err != nil || !bytes.Equal(slow.Buf, data[:blk]) {
		t.Fatalf("held read: packet %+v", pkt)
	}
}
