//go:build linux

package bench

import (
	"fmt"
	"strings"
)

// Op is what a workload's requests do.
type Op int

// The operations.
const (
	OpRead Op = iota
	OpWrite
)

// String returns "read" or "write".
func (o Op) String() string {
	if o == OpWrite {
		return "write"
	}
	return "read"
}

// Workload is one access pattern: every request moves Size bytes, at
// random Size-aligned offsets or sequentially.
type Workload struct {
	Name   string `json:"name"`
	Op     Op     `json:"-"`
	Size   int    `json:"size"`
	Random bool   `json:"random"`
}

// FioRW returns the fio rw= value of w.
func (w Workload) FioRW() string {
	switch {
	case w.Random && w.Op == OpWrite:
		return "randwrite"
	case w.Random:
		return "randread"
	case w.Op == OpWrite:
		return "write"
	}
	return "read"
}

// The workloads of the suite.
var (
	RandRead4K   = Workload{Name: "randread-4k", Op: OpRead, Size: 4 << 10, Random: true}
	RandWrite4K  = Workload{Name: "randwrite-4k", Op: OpWrite, Size: 4 << 10, Random: true}
	SeqRead128K  = Workload{Name: "seqread-128k", Op: OpRead, Size: 128 << 10}
	AllWorkloads = []Workload{RandRead4K, RandWrite4K, SeqRead128K}
)

// ParseWorkloads parses a comma-separated list of workload names ("all" for
// every one).
func ParseWorkloads(s string) ([]Workload, error) {
	if s == "all" {
		return AllWorkloads, nil
	}
	var ws []Workload
	for name := range strings.SplitSeq(s, ",") {
		name = strings.TrimSpace(name)
		found := false
		for _, w := range AllWorkloads {
			if w.Name == name {
				ws = append(ws, w)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("parse workloads: unknown workload %q (have %s)", name, workloadNames())
		}
	}
	return ws, nil
}

func workloadNames() string {
	var n []string
	for _, w := range AllWorkloads {
		n = append(n, w.Name)
	}
	return strings.Join(n, ", ")
}
