package port

// Stats is what a port has done since it was made (the counters, which only
// grow) and holds now.
type Stats struct {
	Submitted uint64 // requests accepted for this port since it was made
	Completed uint64 // packets of this port's requests queued
	Posted    uint64 // packets posted with PostQueuedCompletionStatus
	Dequeued  uint64 // packets handed to waiters
	Canceled  uint64 // this port's requests finished by Cancel or Close
	InFlight  int    // requests of this port not yet final, now
	Queued    int    // packets waiting to be dequeued, now
	Waiters   int    // goroutines waiting on the port, now

	AtOnce  uint64 // ReadFile and WriteFile calls done at once, with no packet
	Wakeups uint64 // waits that returned packets: Dequeued/Wakeups is packets per wake-up
}

// Stats returns the port's counters and state. It makes no system call and
// no allocation, and is safe to call at any time, also after Close.
func (p *Port) Stats() Stats {
	c := p.ctx.Counters()
	s := Stats{
		Submitted: c.Submitted,
		Completed: c.Completed,
		Canceled:  c.Canceled,
		AtOnce:    c.AtOnce,
		Posted:    p.posted.Load(),
		Dequeued:  p.dequeued.Load(),
		Wakeups:   p.wakeups.Load(),
		InFlight:  p.ctx.InFlight(),
	}
	p.mu.Lock()
	s.Queued = p.q.len()
	s.Waiters = len(p.waiters)
	p.mu.Unlock()
	return s
}

// dequeuedN counts n packets handed to one wait.
func (p *Port) dequeuedN(n int) {
	if n > 0 {
		p.dequeued.Add(uint64(n))
		p.wakeups.Inc()
	}
}
