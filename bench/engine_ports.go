//go:build linux

package bench

import (
	"context"
	"fmt"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
)

// Ports is the ports engine: every goroutine owns a port of depth qd,
// submits with submit.ListIO (NoWait, no sigevent) and harvests with
// GetQueuedCompletionStatusEx, resubmitting what it harvested as one
// ListIO batch. With KernelWait its ports are made with
// port.WithKernelWait: no eventfd signal per request, and a waiter sleeps
// in io_getevents. With URing the ports run on io_uring
// (port.WithEngine(port.EngineIOURing)), the same code otherwise.
type Ports struct {
	KernelWait bool
	URing      bool
}

// Name returns "ports", "ports-kwait", "ports-uring" or "ports-uring-kwait".
func (e Ports) Name() string {
	switch {
	case e.URing && e.KernelWait:
		return EnginePortsURingKWait
	case e.URing:
		return EnginePortsURing
	case e.KernelWait:
		return EnginePortsKWait
	}
	return EnginePorts
}

// portsState is one worker's port and requests.
type portsState struct {
	p     *port.Port
	cbs   []*aiocb.AIOCB
	slot  map[*aiocb.AIOCB]int
	start []int64
	pkts  []completion.Packet
	batch []*aiocb.AIOCB
}

// Run runs job.
func (e Ports) Run(ctx context.Context, job Job) (Sample, error) {
	opts := []port.Option{port.WithDepth(job.QD)}
	if e.URing {
		opts = append(opts, port.WithEngine(port.EngineIOURing))
	}
	if e.KernelWait {
		opts = append(opts, port.WithKernelWait())
	}
	states := make([]*portsState, job.G)
	return runInProcess(ctx, job, inproc{
		setup: func(w *worker) error {
			p, err := port.New(opts...)
			if err != nil {
				return err
			}
			if err := p.Associate(w.fd, uintptr(w.id)); err != nil {
				p.Close()
				return err
			}
			st := &portsState{p: p, slot: make(map[*aiocb.AIOCB]int, job.QD),
				start: make([]int64, job.QD), pkts: make([]completion.Packet, job.QD),
				batch: make([]*aiocb.AIOCB, 0, job.QD)}
			for i := range job.QD {
				cb := &aiocb.AIOCB{Fildes: w.fd, Buf: w.buf(i), Opcode: lioOp(job.Workload.Op),
					Flags: aiocb.Extended, Version: aiocb.Vers2, IOCPFD: p.Fd()}
				st.cbs = append(st.cbs, cb)
				st.slot[cb] = i
			}
			states[w.id] = st
			return nil
		},
		run: func(w *worker) error {
			st := states[w.id]
			now := w.now()
			for i, cb := range st.cbs {
				cb.Offset = w.next()
				st.start[i] = now
			}
			if err := submit.ListIO(submit.NoWait, st.cbs, nil); err != nil {
				return fmt.Errorf("ports: listio: %w", err)
			}
			inflight := len(st.cbs)
			var ferr error
			for inflight > 0 {
				n, err := st.p.GetQueuedCompletionStatusEx(st.pkts, port.Infinite)
				if err != nil {
					return fmt.Errorf("ports: get queued completion status: %w", err)
				}
				now := w.now()
				st.batch = st.batch[:0]
				for k := range st.pkts[:n] {
					pk := &st.pkts[k]
					i := st.slot[pk.CB]
					inflight--
					if pk.Err != nil {
						ferr = fmt.Errorf("ports: %s: %w", job.Workload.Op, pk.Err)
					} else if err := w.done(st.start[i], now, pk.Bytes); err != nil {
						ferr = err
					}
					if ferr == nil && now < w.end {
						cb := st.cbs[i]
						cb.Offset = w.next()
						st.start[i] = now
						st.batch = append(st.batch, cb)
					}
					pk.CB = nil
				}
				if len(st.batch) > 0 {
					if err := submit.ListIO(submit.NoWait, st.batch, nil); err != nil {
						return fmt.Errorf("ports: listio: %w", err)
					}
					inflight += len(st.batch)
				}
			}
			return ferr
		},
		teardown: func(w *worker) {
			if st := states[w.id]; st != nil {
				st.p.Close()
			}
		},
	})
}

// lioOp is the aiocb opcode of op.
func lioOp(op Op) aiocb.Opcode {
	if op == OpWrite {
		return aiocb.OpWrite
	}
	return aiocb.OpRead
}
