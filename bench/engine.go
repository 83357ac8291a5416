//go:build linux

package bench

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/goiocp/goiocp/port"
)

// Job is one cell of the matrix as an engine sees it.
type Job struct {
	Workload Workload
	Target   Target
	G        int           // goroutines (fio: numjobs)
	QD       int           // requests in flight per goroutine (fio: iodepth)
	Duration time.Duration // how long requests are started
}

// Sample is what one engine measured in one round of one cell.
type Sample struct {
	Requests int64         `json:"requests"`
	Bytes    int64         `json:"bytes"`
	Elapsed  time.Duration `json:"elapsed_ns"`
	IOPS     float64       `json:"iops"`
	MBps     float64       `json:"mb_s"`
	P50      time.Duration `json:"p50_ns"`
	P99      time.Duration `json:"p99_ns"`
	P999     time.Duration `json:"p999_ns"`
	// CPUPerReq is user+system CPU time per request in nanoseconds.
	CPUPerReq float64 `json:"cpu_ns_per_req"`
	// AllocsPerReq is heap allocations per request; -1 when the engine
	// runs outside this process (fio).
	AllocsPerReq float64 `json:"allocs_per_req"`
	// Ratio is IOPS over ports' IOPS in the same round; 0 when ports did
	// not run.
	Ratio float64 `json:"ratio_to_ports,omitempty"`
	// NewThreads is how many OS threads the process gained while the run
	// lasted (the Go runtime keeps every thread it makes, so an engine
	// that needs threads shows them in its first round); -1 for an engine
	// outside this process (fio).
	NewThreads int `json:"new_threads"`
}

// Engine is an I/O runtime under test. Run performs one job and returns
// what it measured. Engines are used by one goroutine at a time.
type Engine interface {
	Name() string
	Run(ctx context.Context, job Job) (Sample, error)
}

// The engine names.
const (
	EnginePorts           = "ports"
	EnginePortsKWait      = "ports-kwait"
	EnginePortsURing      = "ports-uring"
	EnginePortsURingKWait = "ports-uring-kwait"
	EngineGlobalEBUSY     = "global-ebusy"
	EngineGlobalCollector = "global-collector"
	EngineReadAt          = "readat"
	EngineFioLibaio       = "fio-libaio"
	EngineFioIOUring      = "fio-io_uring"
	// EngineFioIOUringFixed is fio's io_uring with registered files and
	// fixed buffers (registerfiles=1, fixedbufs=1), its fastest setup.
	EngineFioIOUringFixed = "fio-io_uring-fixed"
)

// AllEngineNames lists every engine in the order the runner alternates them.
var AllEngineNames = []string{EnginePorts, EnginePortsURing, EnginePortsKWait, EnginePortsURingKWait, EngineGlobalEBUSY, EngineGlobalCollector, EngineReadAt, EngineFioLibaio, EngineFioIOUring, EngineFioIOUringFixed}

// FioHint is how to install fio, printed when fio engines are asked for but
// fio is not on PATH.
const FioHint = "fio not found on PATH: install it with `apt-get install -y fio` (Debian/Ubuntu) or `dnf install -y fio`; the fio engines are skipped"

// ParseEngines parses a comma-separated list of engine names. "global"
// stands for both global shapes, "fio" for both fio engines and "all" for
// every engine. Fio engines are dropped, with a note, when fio is not
// installed.
func ParseEngines(s string) (engines []Engine, notes []string, err error) {
	var names []string
	for n := range strings.SplitSeq(s, ",") {
		switch n = strings.TrimSpace(n); n {
		case "all":
			names = append(names, AllEngineNames...)
		case "global":
			names = append(names, EngineGlobalEBUSY, EngineGlobalCollector)
		case "fio":
			names = append(names, EngineFioLibaio, EngineFioIOUring, EngineFioIOUringFixed)
		default:
			names = append(names, n)
		}
	}
	seen := map[string]bool{}
	fio, fioErr := exec.LookPath("fio")
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		switch n {
		case EnginePorts:
			engines = append(engines, Ports{})
		case EnginePortsKWait:
			engines = append(engines, Ports{KernelWait: true})
		case EnginePortsURing, EnginePortsURingKWait:
			if !slices.Contains(port.Engines(), port.EngineIOURing) {
				_, err := port.New(port.WithEngine(port.EngineIOURing))
				notes = append(notes, fmt.Sprintf("%s skipped: %v", n, err))
				continue
			}
			engines = append(engines, Ports{URing: true, KernelWait: n == EnginePortsURingKWait})
		case EngineGlobalEBUSY:
			engines = append(engines, Global{Collector: false})
		case EngineGlobalCollector:
			engines = append(engines, Global{Collector: true})
		case EngineReadAt:
			engines = append(engines, ReadAt{})
		case EngineFioLibaio, EngineFioIOUring, EngineFioIOUringFixed:
			if fioErr != nil {
				if !seen["fio-note"] {
					notes = append(notes, FioHint)
					seen["fio-note"] = true
				}
				continue
			}
			if n == EngineFioIOUringFixed {
				engines = append(engines, Fio{Path: fio, IOEngine: "io_uring", Fixed: true})
				continue
			}
			engines = append(engines, Fio{Path: fio, IOEngine: strings.TrimPrefix(n, "fio-")})
		default:
			return nil, nil, fmt.Errorf("parse engines: unknown engine %q (have %s, global, fio, all)", n, strings.Join(AllEngineNames, ", "))
		}
	}
	return engines, notes, nil
}
