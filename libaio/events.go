package libaio

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/port"
)

// Event is libaio's struct io_event: one completed request.
type Event struct {
	CB  *aiocb.AIOCB // the request (io_event.obj); for a packet posted on the Port, what was posted
	Res int          // bytes transferred: short at end of file, 0 for fsync and on error
	Err error        // nil, or the request's errno (errors.Is(ev.Err, syscall.EIO) ...)
}

// GetEvents is io_getevents: it waits until at least minNr requests of the
// queue have completed, or timeout has passed, and stores up to len(events)
// of them in events, returning how many. Infinite (libaio's NULL timeout)
// waits without limit; 0 takes what is there without waiting. Like the
// kernel's call, running out of time is not an error: GetEvents then
// returns fewer than minNr, maybe 0, and a nil error.
//
// Each completion is delivered once, to one caller, with the callback set
// for it by SetCallback forgotten, not called (io_getevents does not call
// callbacks either; see Run). minNr < 0 or minNr > len(events) is EINVAL.
// After Release the error is ErrReleased. Any number of goroutines may
// call GetEvents, Run and Wait at once.
func (q *Queue) GetEvents(minNr int, events []Event, timeout time.Duration) (int, error) {
	if minNr < 0 || minNr > len(events) {
		return 0, fmt.Errorf("get events: min %d of %d: %w", minNr, len(events), syscall.EINVAL)
	}
	if len(events) == 0 {
		return 0, nil
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	pb := getPackets()
	defer putPackets(pb)
	n := 0
	for n < len(events) {
		wait := time.Duration(0) // once minNr are in, take only what is there
		if n < minNr {
			wait = timeout
			if timeout > 0 {
				if wait = time.Until(deadline); wait <= 0 {
					wait = 0
				}
			}
		}
		pkts := pb.p[:min(len(pb.p), len(events)-n)]
		k, err := q.port.GetQueuedCompletionStatusEx(pkts, wait)
		for i := range k {
			events[n], _ = q.takeFn(&pkts[i])
			n++
		}
		clear(pkts[:k])
		switch {
		case errors.Is(err, port.ErrTimeout):
			return n, nil
		case err != nil:
			return n, err
		}
	}
	return n, nil
}

// takeFn turns a packet dequeued from the port into its Event, and
// forgets the request: it is no longer in flight, and its callback, which
// takeFn returns, is cleared.
func (q *Queue) takeFn(pkt *completion.Packet) (Event, Callback) {
	ev := Event{CB: pkt.CB, Res: pkt.Bytes, Err: pkt.Err}
	if ev.CB == nil {
		return ev, nil
	}
	q.mu.Lock()
	delete(q.inflight, ev.CB)
	fn := q.cbfns[ev.CB]
	delete(q.cbfns, ev.CB)
	q.mu.Unlock()
	return ev, fn
}

// packets is a buffer of packets for one call, pooled so that a steady
// stream of GetEvents and Run calls does not allocate.
type packets struct{ p [64]completion.Packet }

var packetPool = sync.Pool{New: func() any { return new(packets) }}

func getPackets() *packets  { return packetPool.Get().(*packets) }
func putPackets(b *packets) { packetPool.Put(b) }
