package port

import (
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/internal/engine"
)

// item is a queued packet; req is the I/O request it completes, or nil for
// a posted packet.
type item struct {
	pkt completion.Packet
	req *engine.Request
}

// queue is a FIFO of packets: a ring buffer that grows by doubling and never
// shrinks, so a port in steady state queues without allocating.
type queue struct {
	buf  []item
	head int
	n    int
}

func (q *queue) len() int { return q.n }

func (q *queue) push(it item) {
	if q.n == len(q.buf) {
		nb := make([]item, max(16, 2*len(q.buf)))
		for i := 0; i < q.n; i++ {
			nb[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.n)%len(q.buf)] = it
	q.n++
}

func (q *queue) pop() item {
	it := q.buf[q.head]
	q.buf[q.head] = item{}
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return it
}
