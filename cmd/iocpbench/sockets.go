//go:build linux

package main

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goiocp/goiocp/bench"
)

// runSockets runs the socket benchmark: for each connection count and
// message size, rounds of each engine in turn, and prints the medians as a
// Markdown table with ports' ratio to net.Conn.
func runSockets(connList, sizeList string, rounds int, d time.Duration) error {
	conns, err := ints(connList)
	if err != nil {
		return err
	}
	sizes, err := ints(sizeList)
	if err != nil {
		return err
	}
	fmt.Printf("socket ping-pong over loopback TCP, GOMAXPROCS=%d, %d rounds of %v, engines alternating; medians\n\n", runtime.GOMAXPROCS(0), rounds, d)
	fmt.Println("| conns | msg | engine | round trips/s | p50 µs | p99 µs | CPU µs/msg | peak threads | pkts/wake | at once | ×net.Conn |")
	fmt.Println("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, n := range conns {
		for _, size := range sizes {
			got := map[string][]bench.SocketResult{}
			for range rounds {
				for _, eng := range bench.SocketEngines {
					runtime.GC()
					res, err := bench.RunSockets(bench.SocketConfig{Engine: eng, Conns: n, Size: size, Duration: d})
					if err != nil {
						return fmt.Errorf("%s, %d connections, %d B: %w", eng, n, size, err)
					}
					got[eng] = append(got[eng], res)
				}
			}
			base := medianBy(got["netconn"], socketRate).PerSec
			for _, eng := range bench.SocketEngines {
				m := medianBy(got[eng], socketRate)
				perWake, atOnce := "", ""
				if strings.HasPrefix(eng, "ports") {
					perWake, atOnce = fmt.Sprintf("%.1f", m.PerWake), fmt.Sprintf("%.0f %%", 100*m.AtOnce)
				}
				fmt.Printf("| %d | %d | %s | %.0f | %.0f | %.0f | %.1f | %d | %s | %s | %.2f |\n", n, size, eng, m.PerSec,
					float64(m.P50.Nanoseconds())/1e3, float64(m.P99.Nanoseconds())/1e3,
					float64(m.CPUPerMsg.Nanoseconds())/1e3, m.Threads, perWake, atOnce, m.PerSec/base)
			}
		}
	}
	return nil
}

// medianBy returns the run whose rate is the median of rs (the upper of
// the two middle ones for an even count).
func medianBy[T any](rs []T, rate func(T) float64) T {
	rs = slices.Clone(rs)
	slices.SortStableFunc(rs, func(a, b T) int { return cmp.Compare(rate(a), rate(b)) })
	return rs[len(rs)/2]
}

func socketRate(r bench.SocketResult) float64 { return r.PerSec }

func ints(list string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad count %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}
