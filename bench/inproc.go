//go:build linux

package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// worker is the state one goroutine of an in-process engine runs with. Its
// offsets, buffers and histogram are its own.
type worker struct {
	id    int
	job   Job
	file  *os.File
	fd    int
	bufs  *Buffers
	rng   *rand.Rand
	seq   int64 // next sequential offset
	lo    int64 // this worker's region for sequential workloads
	span  int64
	base  time.Time
	end   int64 // ns since base after which no request starts
	hist  Histogram
	reqs  int64
	bytes int64
}

// buf returns slot i's buffer, the workload's size long.
func (w *worker) buf(i int) []byte { return w.bufs.Slot(i)[:w.job.Workload.Size] }

// now returns nanoseconds since the start of the run.
func (w *worker) now() int64 { return int64(time.Since(w.base)) }

// next returns the offset of the next request.
func (w *worker) next() int64 {
	size := int64(w.job.Workload.Size)
	if w.job.Workload.Random {
		return w.rng.Int64N(w.job.Target.Size/size) * size
	}
	off := w.lo + w.seq
	w.seq += size
	if w.seq+size > w.span {
		w.seq = 0
	}
	return off
}

// done records one finished request that started at start (ns since base)
// and moved n bytes; a short transfer is an error.
func (w *worker) done(start, now int64, n int) error {
	if n != w.job.Workload.Size {
		return fmt.Errorf("short %s: %d of %d bytes", w.job.Workload.Op, n, w.job.Workload.Size)
	}
	w.hist.Record(time.Duration(now - start))
	w.reqs++
	w.bytes += int64(n)
	return nil
}

// inproc is an in-process engine body: setup runs per worker before the
// clock starts, run after, teardown after the clock stops. shared, when not
// nil, runs beside the workers (the global collector) and must return once
// every worker has.
type inproc struct {
	setup    func(w *worker) error
	run      func(w *worker) error
	teardown func(w *worker)
	shared   func(stop <-chan struct{}) error
}

// runInProcess runs job with G workers and measures the run phase: wall
// time, getrusage(RUSAGE_SELF) CPU and MemStats.Mallocs deltas.
func runInProcess(ctx context.Context, job Job, body inproc) (Sample, error) {
	if job.G < 1 || job.QD < 1 {
		return Sample{}, errors.New("run: G and qd must be at least 1")
	}
	f, err := job.Target.Open()
	if err != nil {
		return Sample{}, err
	}
	defer f.Close()
	size := int64(job.Workload.Size)
	span := job.Target.Size / int64(job.G) / size * size
	if span < size {
		span = size
	}
	ws := make([]*worker, job.G)
	for i := range ws {
		bufs, err := NewBuffers(job.QD, job.Workload.Size)
		if err != nil {
			return Sample{}, err
		}
		defer bufs.Free()
		ws[i] = &worker{
			id: i, job: job, file: f, fd: int(f.Fd()), bufs: bufs,
			rng: rand.New(rand.NewPCG(uint64(i)+1, uint64(job.G))),
			lo:  int64(i) * span % job.Target.Size, span: span,
		}
	}
	for _, w := range ws {
		if body.setup != nil {
			if err := body.setup(w); err != nil {
				for _, w := range ws {
					if body.teardown != nil {
						body.teardown(w)
					}
				}
				return Sample{}, err
			}
		}
	}
	if body.teardown != nil {
		defer func() {
			for _, w := range ws {
				body.teardown(w)
			}
		}()
	}

	runtime.GC()
	var ms0, ms1 runtime.MemStats
	var ru0, ru1 syscall.Rusage
	runtime.ReadMemStats(&ms0)
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru0); err != nil {
		return Sample{}, fmt.Errorf("getrusage: %w", err)
	}
	base := time.Now()
	for _, w := range ws {
		w.base = base
		w.end = int64(job.Duration)
	}
	errs := make([]error, len(ws)+1)
	var wg, sharedWG sync.WaitGroup
	stop := make(chan struct{})
	if body.shared != nil {
		sharedWG.Go(func() { errs[len(ws)] = body.shared(stop) })
	}
	for i, w := range ws {
		wg.Go(func() { errs[i] = body.run(w) })
	}
	wg.Wait()
	close(stop)
	sharedWG.Wait()
	elapsed := time.Since(base)
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru1); err != nil {
		return Sample{}, fmt.Errorf("getrusage: %w", err)
	}
	runtime.ReadMemStats(&ms1)
	if err := errors.Join(errs...); err != nil {
		return Sample{}, err
	}
	if err := ctx.Err(); err != nil {
		return Sample{}, err
	}

	var h Histogram
	var s Sample
	for _, w := range ws {
		h.Merge(&w.hist)
		s.Requests += w.reqs
		s.Bytes += w.bytes
	}
	if s.Requests == 0 {
		return Sample{}, errors.New("run: no request completed")
	}
	cpu := time.Duration(ru1.Utime.Nano()-ru0.Utime.Nano()) + time.Duration(ru1.Stime.Nano()-ru0.Stime.Nano())
	s.Elapsed = elapsed
	s.IOPS = float64(s.Requests) / elapsed.Seconds()
	s.MBps = float64(s.Bytes) / 1e6 / elapsed.Seconds()
	s.P50, s.P99, s.P999 = h.Quantile(0.50), h.Quantile(0.99), h.Quantile(0.999)
	s.CPUPerReq = float64(cpu) / float64(s.Requests)
	s.AllocsPerReq = float64(ms1.Mallocs-ms0.Mallocs) / float64(s.Requests)
	return s, nil
}
