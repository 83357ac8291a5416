//go:build linux

package bench

import (
	"math/bits"
	"time"
)

// histSub is log2 of the number of linear sub-buckets per power of two:
// 64 sub-buckets bound the relative error of a percentile to 1/64.
const histSub = 6

// histBuckets covers every int64 nanosecond value.
const histBuckets = (64 - histSub + 1) << histSub

// Histogram is a log-linear histogram of latencies in nanoseconds. Record
// never allocates. A Histogram is not safe for concurrent use: each worker
// goroutine keeps its own and the runner merges them.
type Histogram struct {
	counts [histBuckets]uint32
	n      int64
}

// bucketOf returns the bucket of v (v >= 0).
func bucketOf(v uint64) int {
	if v < 1<<histSub {
		return int(v)
	}
	exp := bits.Len64(v) - histSub - 1 // >= 0
	return (exp+1)<<histSub | int(v>>uint(exp))&(1<<histSub-1)
}

// lowOf returns the smallest value of bucket b.
func lowOf(b int) uint64 {
	if b < 1<<histSub {
		return uint64(b)
	}
	exp := b>>histSub - 1
	return (1<<histSub | uint64(b)&(1<<histSub-1)) << uint(exp)
}

// Record adds one latency.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	h.n++
}

// touch writes every page of h, so that recording into it later takes no
// page fault.
func (h *Histogram) touch() {
	for i := 0; i < len(h.counts); i += 1024 {
		h.counts[i] = 0
	}
	h.n = 0
}

// Count returns how many latencies were recorded.
func (h *Histogram) Count() int64 { return h.n }

// Merge adds every latency of o to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// Quantile returns the q-quantile (0 < q <= 1) as the midpoint of its
// bucket, or 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(q*float64(h.n) + 0.5)
	rank = max(1, min(rank, h.n))
	var seen int64
	for b, c := range h.counts {
		seen += int64(c)
		if seen >= rank {
			lo := lowOf(b)
			hi := lowOf(b + 1)
			return time.Duration(lo + (hi-lo)/2)
		}
	}
	return 0
}
