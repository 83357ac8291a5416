//go:build linux

package bench

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
)

// Range is the median and the min–max of one figure over the rounds. It
// encodes in JSON as [median, min, max].
type Range struct {
	Median, Min, Max float64
}

// RangeOf summarises xs (the median of an even count is the mean of the
// middle two). It is the zero Range for no values.
func RangeOf(xs []float64) Range {
	if len(xs) == 0 {
		return Range{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Range{Median: m, Min: s[0], Max: s[len(s)-1]}
}

// MarshalJSON encodes r as [median, min, max], to 4 significant digits.
func (r Range) MarshalJSON() ([]byte, error) {
	b := []byte{'['}
	for i, v := range [3]float64{r.Median, r.Min, r.Max} {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, v, 'g', 4, 64)
	}
	return append(b, ']'), nil
}

// UnmarshalJSON decodes [median, min, max].
func (r *Range) UnmarshalJSON(b []byte) error {
	var a [3]float64
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	r.Median, r.Min, r.Max = a[0], a[1], a[2]
	return nil
}

// EngineResult is one engine's figures in one cell, over the rounds.
// Latencies and CPU time are in microseconds.
type EngineResult struct {
	Engine string    `json:"engine"`
	Error  string    `json:"error,omitempty"`
	Rounds []float64 `json:"iops_rounds,omitempty"` // IOPS of each round, in run order
	IOPS   Range     `json:"iops"`
	MBps   Range     `json:"mb_s"`
	P50    Range     `json:"p50_us"`
	P99    Range     `json:"p99_us"`
	P999   Range     `json:"p999_us"`
	CPU    Range     `json:"cpu_us_per_req"`
	Allocs Range     `json:"allocs_per_req"` // [-1,-1,-1] when not measured (fio)
	Ratio  Range     `json:"ratio_to_ports"` // zero when ports did not run
	// Threads is the most OS threads the process gained in one of the
	// engine's rounds (Sample.NewThreads); -1 when not measured.
	Threads int `json:"new_threads"`
}

// summarise fills r's ranges from its per-round samples; ratio holds the
// per-round ratios to ports (empty when ports did not run).
func summarise(r *EngineResult, samples []Sample, ratios []float64) {
	pick := func(f func(Sample) float64) Range {
		xs := make([]float64, len(samples))
		for i, s := range samples {
			xs[i] = f(s)
		}
		return RangeOf(xs)
	}
	r.Rounds = nil
	for _, s := range samples {
		r.Rounds = append(r.Rounds, math.Round(s.IOPS))
	}
	r.IOPS = pick(func(s Sample) float64 { return s.IOPS })
	r.MBps = pick(func(s Sample) float64 { return s.MBps })
	r.P50 = pick(func(s Sample) float64 { return float64(s.P50) / 1e3 })
	r.P99 = pick(func(s Sample) float64 { return float64(s.P99) / 1e3 })
	r.P999 = pick(func(s Sample) float64 { return float64(s.P999) / 1e3 })
	r.CPU = pick(func(s Sample) float64 { return s.CPUPerReq / 1e3 })
	r.Allocs = pick(func(s Sample) float64 { return s.AllocsPerReq })
	r.Ratio = RangeOf(ratios)
	r.Threads = 0
	for i, s := range samples {
		if i == 0 || s.NewThreads > r.Threads {
			r.Threads = s.NewThreads
		}
	}
}
