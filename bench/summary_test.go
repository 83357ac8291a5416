//go:build linux

package bench

import (
	"encoding/json"
	"testing"
	"time"
)

func TestRangeOf(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want Range
	}{
		{nil, Range{}},
		{[]float64{3}, Range{3, 3, 3}},
		{[]float64{5, 1, 3}, Range{3, 1, 5}},
		{[]float64{4, 1, 2, 3}, Range{2.5, 1, 4}},
	} {
		if got := RangeOf(c.in); got != c.want {
			t.Errorf("RangeOf(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	b, err := json.Marshal(Range{2, 1, 3})
	if err != nil || string(b) != "[2,1,3]" {
		t.Fatalf("marshal: %s %v", b, err)
	}
	var r Range
	if err := json.Unmarshal(b, &r); err != nil || r != (Range{2, 1, 3}) {
		t.Fatalf("unmarshal: %v %v", r, err)
	}
}

func TestSummarise(t *testing.T) {
	var r EngineResult
	summarise(&r, []Sample{
		{IOPS: 100, P50: 2 * time.Microsecond, CPUPerReq: 1000, AllocsPerReq: 0},
		{IOPS: 300, P50: 4 * time.Microsecond, CPUPerReq: 3000, AllocsPerReq: 1},
		{IOPS: 200, P50: 3 * time.Microsecond, CPUPerReq: 2000, AllocsPerReq: 0},
	}, []float64{0.5, 1, 2})
	if r.IOPS != (Range{200, 100, 300}) || r.P50 != (Range{3, 2, 4}) || r.CPU != (Range{2, 1, 3}) ||
		r.Allocs != (Range{0, 0, 1}) || r.Ratio != (Range{1, 0.5, 2}) || len(r.Rounds) != 3 || r.Rounds[1] != 300 {
		t.Fatalf("summary %+v", r)
	}
}
