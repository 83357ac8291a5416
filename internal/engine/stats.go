package engine

import (
	"syscall"

	"go.uber.org/atomic"
)

// Counters are a context's request counters, for Port.Stats. Each only
// grows; reading them takes a few atomic loads.
type Counters struct {
	Submitted uint64 // requests accepted by Submit
	Completed uint64 // requests finished with a packet for the sink
	Canceled  uint64 // requests finished with ECANCELED
	AtOnce    uint64 // AtOnce requests done within Submit, without a packet
}

type counters struct {
	submitted, completed, canceled, atOnce atomic.Uint64
}

// countFinal counts r, about to be final with r.res.
func (c *Context) countFinal(r *Request, packet bool) {
	if packet {
		c.stats.completed.Inc()
	}
	if r.res == -int64(syscall.ECANCELED) {
		c.stats.canceled.Inc()
	}
	if r.doneAtOnce {
		c.stats.atOnce.Inc()
	}
}

// Counters returns c's counters. It is safe at any time, also after Close.
func (c *Context) Counters() Counters {
	return Counters{
		Submitted: c.stats.submitted.Load(),
		Completed: c.stats.completed.Load(),
		Canceled:  c.stats.canceled.Load(),
		AtOnce:    c.stats.atOnce.Load(),
	}
}
