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
// left over. It is a stress test of those rules: a cancel that only
// uncounted itself (no ghost) goes wrong only when a hand-over meets the
// deadline in the same instant.
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

// checkGateIdle wants, after every call left, no place counted, no call
// parked, and no hand-over or cancelled waiter left over.
func checkGateIdle(t *testing.T, g *gate) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if n := g.n.Load(); n != 0 || g.tokens != 0 || g.ghosts != 0 || g.top != nil || g.bottom != nil {
		t.Errorf("after every call left: %d places counted, %d tokens, %d ghosts, parked list empty: %v", n, g.tokens, g.ghosts, g.top == nil && g.bottom == nil)
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

// parkedCalls counts the calls parked in g.
func parkedCalls(g *gate) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for w := g.top; w != nil; w = w.down {
		n++
	}
	return n
}

// parkOne starts a call that waits for a place of g and closes the
// returned channel when it has one; it returns once the call is parked.
func parkOne(t *testing.T, g *gate) <-chan struct{} {
	t.Helper()
	before := parkedCalls(g)
	in := make(chan struct{})
	go func() {
		if err := g.enter(context.Background()); err != nil {
			t.Error(err)
		}
		close(in)
	}()
	for deadline := time.Now().Add(5 * time.Second); parkedCalls(g) == before; {
		if time.Now().After(deadline) {
			t.Fatal("a call did not park at a full gate")
		}
		time.Sleep(100 * time.Microsecond)
	}
	return in
}

// passes waits for the call want to get a place, failing if it does not
// within 5 s, then reports which of ins got one, by index.
func passes(t *testing.T, want int, ins ...<-chan struct{}) []int {
	t.Helper()
	gotIn(t, ins[want])
	time.Sleep(10 * time.Millisecond) // room for a wrongly woken one to get in too
	var got []int
	for i, in := range ins {
		select {
		case <-in:
			got = append(got, i)
		default:
		}
	}
	return got
}

// gotIn waits for a call parked by parkOne to get a place.
func gotIn(t *testing.T, in <-chan struct{}) {
	t.Helper()
	select {
	case <-in:
	case <-time.After(5 * time.Second):
		t.Fatal("a parked call did not get a place within 5 s of a leave")
	}
}

// TestGateLastComeFirst parks three calls at a full gate: a leaving call
// hands its place to the one parked last, and the others keep waiting.
// A first-come gate hands it to the first.
func TestGateLastComeFirst(t *testing.T) {
	g := newGate(1)
	if err := g.enter(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, b, c := parkOne(t, g), parkOne(t, g), parkOne(t, g)
	g.leave()
	if got := passes(t, 2, a, b, c); len(got) != 1 || got[0] != 2 {
		t.Fatalf("calls in after one leave (0 parked first): %v; want [2]", got)
	}
	g.leave()
	if got := passes(t, 1, a, b); len(got) != 1 || got[0] != 1 {
		t.Fatalf("calls in after a second leave: %v; want [1]", got)
	}
	g.leave()
	gotIn(t, a)
	g.leave()
	checkGateIdle(t, g)
}

// TestGateOldestServed parks a call, waits past maxWait, parks two more:
// the next place goes to the call parked longest, so that later callers
// cannot pass one over for ever.
func TestGateOldestServed(t *testing.T) {
	g := newGate(1)
	if err := g.enter(context.Background()); err != nil {
		t.Fatal(err)
	}
	old := parkOne(t, g)
	time.Sleep(maxWait + 20*time.Millisecond)
	b, c := parkOne(t, g), parkOne(t, g)
	g.leave()
	if got := passes(t, 0, old, b, c); len(got) != 1 || got[0] != 0 {
		t.Fatalf("calls in after one leave (0 parked %v before the others): %v; want [0]", maxWait+20*time.Millisecond, got)
	}
	g.leave()
	gotIn(t, c)
	g.leave()
	gotIn(t, b)
	g.leave()
	checkGateIdle(t, g)
}
