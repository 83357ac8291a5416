//go:build linux

package bench

import (
	"context"
	"fmt"
)

// ReadAt is the readat engine: G goroutines each doing one synchronous
// os.File.ReadAt or WriteAt at a time on a shared *os.File, which is what a
// Go program writes today. Its queue depth is 1 per goroutine whatever qd
// says.
type ReadAt struct{}

// Name returns "readat".
func (ReadAt) Name() string { return EngineReadAt }

// Run runs job.
func (ReadAt) Run(ctx context.Context, job Job) (Sample, error) {
	return runInProcess(ctx, job, inproc{
		run: func(w *worker) error {
			buf := w.buf(0)
			write := job.Workload.Op == OpWrite
			for start := w.now(); start < w.end; {
				off := w.next()
				var n int
				var err error
				if write {
					n, err = w.file.WriteAt(buf, off)
				} else {
					n, err = w.file.ReadAt(buf, off)
				}
				if err != nil {
					return fmt.Errorf("readat: %w", err)
				}
				now := w.now()
				if err := w.done(start, now, n); err != nil {
					return err
				}
				start = now
			}
			return nil
		},
	})
}
