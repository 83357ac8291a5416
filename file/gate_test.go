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
				n := inside.Inc()
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(10 * time.Microsecond)
				inside.Dec()
				passed.Inc()
				g.leave()
			}
		})
	}
	wg.Wait()
	if m := most.Load(); m > 3 || m < 2 {
		t.Errorf("at most %d inside a gate of 3 places; want 2 or 3", m)
	}
	if p := passed.Load(); p != 200*20 {
		t.Errorf("%d passages; want %d", p, 200*20)
	}
	if n := g.n.Load(); n != 0 {
		t.Errorf("%d places still counted after every call left", n)
	}
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
	deadline := time.Now().Add(5 * time.Second)
	for g.n.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := g.n.Load(); n != 0 {
		t.Errorf("%d places still counted after every call left", n)
	}
}
