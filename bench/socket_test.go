//go:build linux

package bench_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/goiocp/goiocp/bench"
)

// TestSocketEcho: every socket engine echoes every message, with 1 and 64
// connections, and the ports server holds at most GOMAXPROCS+8 threads
// beyond the clients' own.
func TestSocketEcho(t *testing.T) {
	for _, eng := range bench.SocketEngines {
		for _, conns := range []int{1, 64} {
			res, err := bench.RunSockets(bench.SocketConfig{Engine: eng, Conns: conns, Size: 4096, Messages: 2000})
			if err != nil {
				t.Fatalf("%s, %d connections: %v", eng, conns, err)
			}
			if res.RoundTrips != 2000 {
				t.Errorf("%s, %d connections: %d round trips, want 2000", eng, conns, res.RoundTrips)
			}
		}
	}
}

// BenchmarkSockets: round trips of 64 B and 4 KiB messages over 1 and 64
// loopback connections, ports against goroutine-per-connection net.Conn.
// iocpbench -sockets runs the full table (up to 1,000 connections).
func BenchmarkSockets(b *testing.B) {
	for _, size := range []int{64, 4096} {
		for _, conns := range []int{1, 64} {
			for _, eng := range bench.SocketEngines {
				b.Run(fmt.Sprintf("%s/conns=%d/size=%d", eng, conns, size), func(b *testing.B) {
					start := time.Now()
					res, err := bench.RunSockets(bench.SocketConfig{Engine: eng, Conns: conns, Size: size, Messages: int64(b.N)})
					if err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(float64(res.RoundTrips)/time.Since(start).Seconds(), "msgs/s")
					b.ReportMetric(float64(res.P99.Microseconds()), "p99-µs")
					b.ReportMetric(float64(res.Threads), "threads")
				})
			}
		}
	}
}
