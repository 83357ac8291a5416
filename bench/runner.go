//go:build linux

package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Dir is a place to run on: a label ("tmpfs", "disk") and a directory in
// which the runner creates its file, or File, an existing file to use as it
// is (its size must be at least the largest request).
type Dir struct {
	Label string
	Dir   string
	File  string
}

// Config is a benchmark run: the matrix, the rounds and where to report
// progress.
type Config struct {
	Engines   []Engine
	Workloads []Workload
	Dirs      []Dir
	Direct    []bool // which of O_DIRECT (true) and buffered (false) to run
	Gs        []int
	QD        int
	Rounds    int
	Duration  time.Duration // per engine, per round, per cell
	Size      int64         // bytes of each created file
	Command   string        // recorded in the report
	Progress  io.Writer     // progress line (only if a terminal); nil for none
	Log       io.Writer     // notes as they happen; nil for none
}

// Cell is one cell of the matrix with every engine's result.
type Cell struct {
	Workload string         `json:"workload"`
	FS       string         `json:"fs"`
	Direct   bool           `json:"direct"`
	G        int            `json:"g"`
	QD       int            `json:"qd"`
	Engines  []EngineResult `json:"engines"`
}

// Target returns the cell's "fs direct|buffered" label.
func (c Cell) Target() string {
	return Target{FS: c.FS, Direct: c.Direct}.Label()
}

// Report is the result of a run.
type Report struct {
	Meta  Meta   `json:"meta"`
	Cells []Cell `json:"cells"`
}

// Run runs the matrix of cfg: for every target, O_DIRECT mode, workload and
// G, it runs cfg.Rounds rounds, each of which runs every engine once, in
// order (A B C A B C ...), on the same file. A failing engine is recorded in
// its result and the run goes on; Run fails only on setup errors or when ctx
// is done.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Rounds < 1 || cfg.QD < 1 || len(cfg.Engines) == 0 || len(cfg.Gs) == 0 {
		return nil, fmt.Errorf("run: need engines, G values, qd >= 1 and rounds >= 1")
	}
	rep := &Report{Meta: machineMeta()}
	rep.Meta.Command, rep.Meta.QD, rep.Meta.Rounds, rep.Meta.DurationMS = cfg.Command, cfg.QD, cfg.Rounds, cfg.Duration.Milliseconds()
	note := func(format string, a ...any) {
		s := fmt.Sprintf(format, a...)
		rep.Meta.Notes = append(rep.Meta.Notes, s)
		if cfg.Log != nil {
			fmt.Fprintln(cfg.Log, "note:", s)
		}
	}

	// Targets first, so that the progress line knows the total.
	var targets []Target
	var temps []string
	defer func() {
		for _, p := range temps {
			os.Remove(p)
		}
	}()
	for _, d := range cfg.Dirs {
		path := d.File
		if path == "" {
			p, err := CreateFile(d.Dir, cfg.Size)
			if err != nil {
				return nil, err
			}
			path = p
			temps = append(temps, p)
		}
		st, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("run: %w", err)
		}
		abs, _ := filepath.Abs(path)
		for _, direct := range cfg.Direct {
			t := Target{FS: d.Label, FSType: FSTypeOf(abs), Path: abs, Size: st.Size() &^ (128<<10 - 1), Direct: direct}
			if direct {
				if err := ProbeDirect(abs); err != nil {
					note("%s (%s) does not accept O_DIRECT (%v): it runs buffered only", d.Label, t.FSType, err)
					continue
				}
			}
			targets = append(targets, t)
			rep.Meta.Targets = append(rep.Meta.Targets, t)
		}
	}

	total := len(targets) * len(cfg.Workloads) * len(cfg.Gs) * cfg.Rounds * len(cfg.Engines)
	prog := NewProgress(cfg.Progress, total)
	defer prog.Clear()
	for _, t := range targets {
		for _, wl := range cfg.Workloads {
			for _, g := range cfg.Gs {
				job := Job{Workload: wl, Target: t, G: g, QD: cfg.QD, Duration: cfg.Duration}
				cell := Cell{Workload: wl.Name, FS: t.FS, Direct: t.Direct, G: g, QD: cfg.QD}
				samples := make([][]Sample, len(cfg.Engines))
				ratios := make([][]float64, len(cfg.Engines))
				errs := make([]error, len(cfg.Engines))
				for round := range cfg.Rounds {
					got := make([]Sample, len(cfg.Engines))
					ok := make([]bool, len(cfg.Engines))
					portsAt := -1
					for i, e := range cfg.Engines {
						if err := ctx.Err(); err != nil {
							return rep, err
						}
						prog.Step(fmt.Sprintf("%s %s G=%d round %d/%d %s", t.Label(), wl.Name, g, round+1, cfg.Rounds, e.Name()))
						if errs[i] != nil {
							continue
						}
						s, err := runCounted(ctx, e, job)
						if err != nil {
							errs[i] = err
							continue
						}
						got[i], ok[i] = s, true
						samples[i] = append(samples[i], s)
						if e.Name() == EnginePorts {
							portsAt = i
						}
					}
					for i := range cfg.Engines {
						if ok[i] && portsAt >= 0 {
							ratios[i] = append(ratios[i], got[i].IOPS/got[portsAt].IOPS)
						}
					}
				}
				for i, e := range cfg.Engines {
					r := EngineResult{Engine: e.Name()}
					if errs[i] != nil {
						r.Error = errs[i].Error()
					}
					summarise(&r, samples[i], ratios[i])
					cell.Engines = append(cell.Engines, r)
				}
				rep.Cells = append(rep.Cells, cell)
			}
		}
	}
	return rep, nil
}

// runCounted runs e on job and records how many OS threads the process
// gained meanwhile.
func runCounted(ctx context.Context, e Engine, job Job) (Sample, error) {
	start := osThreads()
	peak := sampleThreads(5 * time.Millisecond)
	s, err := e.Run(ctx, job)
	gained := peak() - start
	switch e.(type) {
	case Fio, *Fio:
		s.NewThreads = -1 // fio's threads are its own process's
	default:
		s.NewThreads = gained
	}
	return s, err
}
