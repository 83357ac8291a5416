//go:build linux

package bench

import (
	"fmt"
	"math"
	"slices"
)

// Verdict sums a report up in a line per target, for a reader new to it:
// how own ports compare with the better of the two global-waiter shapes and
// with os.File.ReadAt over the cells with G >= 4 (one goroutine has nobody
// to share a waiter with), and how many threads each needed.
func (r *Report) Verdict() []string {
	var targets []string
	for _, c := range r.Cells {
		if t := c.Target(); !slices.Contains(targets, t) {
			targets = append(targets, t)
		}
	}
	var out []string
	for _, t := range targets {
		global := span{lo: math.Inf(1), hi: math.Inf(-1)}
		readat := global
		gs := span{lo: math.Inf(1), hi: math.Inf(-1)}
		threads := map[string]int{}
		for _, c := range r.Cells {
			if c.Target() != t {
				continue
			}
			var ports, best, ra float64
			for _, e := range c.Engines {
				if e.Threads > threads[e.Engine] {
					threads[e.Engine] = e.Threads
				}
				switch e.Engine {
				case EnginePorts:
					ports = e.IOPS.Median
				case EngineGlobalEBUSY, EngineGlobalCollector:
					best = max(best, e.IOPS.Median)
				case EngineReadAt:
					ra = e.IOPS.Median
				}
			}
			if c.G < 4 || ports == 0 {
				continue
			}
			gs.add(float64(c.G))
			if best > 0 {
				global.add(ports / best)
			}
			if ra > 0 {
				readat.add(ports / ra)
			}
		}
		if global.empty() {
			continue
		}
		how := "the waiter decides"
		if global.lo < 1.15 {
			how = "the device decides, not the waiter"
		}
		line := fmt.Sprintf("%s, G %.0f-%.0f: own ports %s× the better global waiter (%s)", t, gs.lo, gs.hi, global, how)
		if !readat.empty() {
			line += fmt.Sprintf(", %s× os.File.ReadAt", readat)
		}
		line += fmt.Sprintf("; new OS threads: ports %d, global %d, readat %d",
			threads[EnginePorts], max(threads[EngineGlobalEBUSY], threads[EngineGlobalCollector]), threads[EngineReadAt])
		out = append(out, line+".")
	}
	return out
}

// span is the range of a few ratios.
type span struct{ lo, hi float64 }

func (s *span) add(x float64) { s.lo, s.hi = min(s.lo, x), max(s.hi, x) }

func (s span) empty() bool { return s.lo > s.hi }

func (s span) String() string {
	if fmt.Sprintf("%.2f", s.lo) == fmt.Sprintf("%.2f", s.hi) {
		return fmt.Sprintf("%.2f", s.lo)
	}
	return fmt.Sprintf("%.2f-%.2f", s.lo, s.hi)
}
