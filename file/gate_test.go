package file

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/atomic"
)

// TestGateBounds runs 200 goroutines through a gate of 3 places: never
// more than 3 inside at once, and every one gets through.
func TestGateBounds(t *testing.T) {
	g := newGate(3)
	var inside, most, passed atomic.Int32
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			for range 20 {
				if err := g.enter(context.Background()); err != nil {
					t.Error(err)
					return
				}
				raise(&most, inside.Inc())
				time.Sleep(10 * time.Microsecond)
				inside.Dec()
				passed.Inc()
				g.leave()
			}
		})
	}
	waitOrFail(t, &wg, 60*time.Second)
	if m := most.Load(); m > 3 || m < 2 {
		t.Errorf("at most %d inside a gate of 3 places; want 2 or 3", m)
	}
	if p := passed.Load(); p != 200*20 {
		t.Errorf("%d passages; want %d", p, 200*20)
	}
	checkGateIdle(t, g)
}

// TestGateCancel gives up waiting for a place: the waiter returns
// ctx.Err(), and its place is not lost: the next waiter gets in when the
// holder leaves, and at the end no place is counted.
func TestGateCancel(t *testing.T) {
	g := newGate(1)
	if err := g.enter(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := g.enter(ctx); err != context.DeadlineExceeded {
		t.Fatalf("enter with every place taken and the context done: %v; want %v", err, context.DeadlineExceeded)
	}
	in := make(chan struct{})
	go func() {
		if err := g.enter(context.Background()); err != nil {
			t.Error(err)
		}
		close(in)
	}()
	select {
	case <-in:
		t.Fatal("a second call got in while the first held the only place")
	case <-time.After(20 * time.Millisecond):
	}
	g.leave()
	select {
	case <-in:
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting call did not get in after the holder left")
	}
	g.leave()
	checkGateIdle(t, g)
}

// TestGateCancelRace has waiters give up on short deadlines while places
// are taken and handed over around them: never more inside than the
// place, no wake-up lost, and at the end no place counted and no token
// stranded. It is a stress test of those rules: a cancel that only
// uncounted itself strands a token only when a hand-over meets the
// deadline in the same instant, and it passed 5 runs of this test.
func TestGateCancelRace(t *testing.T) {
	g := newGate(1)
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for i := range 128 {
		wg.Go(func() {
			for j := range 300 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration((i*7+j)%4)*5*time.Microsecond)
				err := g.enter(ctx)
				cancel()
				if err != nil {
					continue
				}
				raise(&most, inside.Inc())
				time.Sleep(time.Duration(j%3) * 10 * time.Microsecond)
				inside.Dec()
				g.leave()
			}
		})
	}
	waitOrFail(t, &wg, 60*time.Second)
	if m := most.Load(); m > 1 {
		t.Errorf("%d inside a gate of 1 place", m)
	}
	checkGateIdle(t, g)
}

// checkGateIdle waits for the goroutines passing owed places on, then
// wants no place counted and no token left in the channel.
func checkGateIdle(t *testing.T, g *gate) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for (g.n.Load() != 0 || len(g.token) != 0) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n, k := g.n.Load(), len(g.token); n != 0 || k != 0 {
		t.Errorf("after every call left: %d places counted, %d tokens stranded", n, k)
	}
}

// waitOrFail waits for wg, failing the test at once if that takes longer
// than d (a lost wake-up would otherwise hang until the test binary's
// timeout).
func waitOrFail(t *testing.T, wg *sync.WaitGroup, d time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("calls still waiting for the gate after %v: a wake-up was lost", d)
	}
}

// raise makes most at least n.
func raise(most *atomic.Int32, n int32) {
	for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
	}
}
