//go:build linux

package bench

import (
	"math"
	"testing"
	"time"
)

func TestHistogramBuckets(t *testing.T) {
	prev := -1
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 1000, 1 << 20, 1<<40 + 12345, math.MaxInt64} {
		b := bucketOf(v)
		if b <= prev && v != 0 {
			t.Fatalf("bucketOf(%d) = %d not increasing (prev %d)", v, b, prev)
		}
		prev = b
		if lo := lowOf(b); lo > v || (b+1 < histBuckets && lowOf(b+1) <= v) {
			t.Fatalf("value %d in bucket %d [%d, %d)", v, b, lo, lowOf(b+1))
		}
	}
	if b := bucketOf(math.MaxUint64 >> 1); b >= histBuckets {
		t.Fatalf("bucket %d out of range", b)
	}
}

func TestHistogramQuantile(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 {
		t.Fatal("empty histogram has a median")
	}
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	var o Histogram
	o.Record(-5)
	h.Merge(&o)
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5 * time.Millisecond}, {0.99, 9900 * time.Microsecond}, {0.999, 9990 * time.Microsecond}} {
		got := h.Quantile(c.q)
		if rel := math.Abs(float64(got-c.want)) / float64(c.want); rel > 1.0/64 {
			t.Errorf("q%.3f = %v, want %v ±1.6%%", c.q, got, c.want)
		}
	}
	if h.Count() != 10001 {
		t.Fatalf("count %d", h.Count())
	}
	testing.AllocsPerRun(10, func() { h.Record(time.Millisecond) })
	if a := testing.AllocsPerRun(100, func() { h.Record(time.Millisecond) }); a != 0 {
		t.Fatalf("Record allocates %v", a)
	}
}
