package engine

import "sync/atomic"

// Group tracks the requests of one ListIO call: it fires its Sigevent once
// every member is final, which Final reports.
type Group struct {
	pending atomic.Int32
	sev     Sigevent
}

// NewGroup returns a group expecting n members, notifying sev when all are
// final.
func NewGroup(n int, sev Sigevent) *Group {
	g := &Group{sev: sev}
	g.pending.Store(int32(n))
	if n == 0 {
		g.complete()
	}
	return g
}

// Final reports whether every member is final. It is an atomic load, for
// Await's condition.
func (g *Group) Final() bool { return g.pending.Load() <= 0 }

// done counts one member final.
func (g *Group) done() {
	if g.pending.Add(-1) == 0 {
		g.complete()
	}
}

func (g *Group) complete() { g.sev.fire() }

// Add adjusts the number of members expected, for members the caller
// decided to skip after NewGroup.
func (g *Group) Add(delta int) {
	if g.pending.Add(int32(delta)) == 0 {
		g.complete()
	}
}
