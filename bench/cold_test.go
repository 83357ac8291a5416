//go:build linux

package bench_test

import (
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/internal/engine"
	"github.com/goiocp/goiocp/internal/testutil"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
)

// TestColdSubmit is the performance issue's sixth target: buffered 4 KiB
// random reads of a file not in the page cache, 32 in flight on one port,
// timing each submit call. With RWF_NOWAIT (the default) a read that would
// wait for the disk comes back at once and a worker performs it; with
// engine.BlockingSubmit the submitting goroutine does the read inside
// io_submit; on an io_uring port the kernel reads asynchronously itself,
// with no worker. Each mode reports how many reads workers performed and
// the process's peak Go threads. It needs root (to drop the page cache)
// and runs only when GOIOCP_COLD is set to a directory on a disk:
//
//	GOIOCP_COLD=/var/tmp go test -run TestColdSubmit -v ./bench
func TestColdSubmit(t *testing.T) {
	dir := os.Getenv("GOIOCP_COLD")
	if dir == "" || os.Geteuid() != 0 {
		t.Skip("set GOIOCP_COLD to a directory on a disk, as root (drops the page cache)")
	}
	const size, bs, qd, n = 512 << 20, 4096, 32, 4000
	f, err := os.CreateTemp(dir, "goiocp-cold-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(buf)) {
		f.WriteAt(buf, off)
	}
	f.Sync()
	type mode struct {
		name     string
		blocking bool
		engine   port.Engine
	}
	modes := []mode{{"blocking io_submit", true, port.EngineAIO}, {"RWF_NOWAIT + workers", false, port.EngineAIO}}
	if slices.Contains(port.Engines(), port.EngineIOURing) {
		modes = append(modes, mode{"io_uring", false, port.EngineIOURing})
	}
	modes = append(modes, modes...)
	for _, mode := range modes {
		if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3"), 0); err != nil {
			t.Skip("drop caches:", err)
		}
		engine.BlockingSubmit = mode.blocking
		p, err := port.New(port.WithEngine(mode.engine), port.WithDepth(qd))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Associate(int(f.Fd()), 0); err != nil {
			t.Fatal(err)
		}
		runs := engine.WorkerRuns()
		threads0 := testutil.Threads(t)
		peak := threads0
		rng := rand.New(rand.NewPCG(9, uint64(len(mode.name))))
		free := make([]*aiocb.AIOCB, qd)
		for i := range free {
			free[i] = &aiocb.AIOCB{Fildes: int(f.Fd()), Buf: make([]byte, bs), Flags: aiocb.Extended, Version: aiocb.Vers2, IOCPFD: p.Fd()}
		}
		pkts := make([]completion.Packet, qd)
		var lat []time.Duration
		start := time.Now()
		inflight := 0
		for done := 0; done < n; {
			for len(free) > 0 && len(lat) < n {
				cb := free[len(free)-1]
				free = free[:len(free)-1]
				cb.Offset = rng.Int64N(size/bs) * bs
				t0 := time.Now()
				if err := submit.Read(cb); err != nil {
					t.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
				inflight++
			}
			k, err := p.GetQueuedCompletionStatusEx(pkts, 30*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if done%256 < k {
				peak = max(peak, testutil.Threads(t))
			}
			for _, pkt := range pkts[:k] {
				if pkt.Err != nil || pkt.Bytes != bs {
					t.Fatalf("packet %+v", pkt)
				}
				free = append(free, pkt.CB)
			}
			inflight -= k
			done += k
		}
		elapsed := time.Since(start)
		p.Close()
		slices.Sort(lat)
		q := func(x float64) time.Duration { return lat[int(x*float64(len(lat)-1))] }
		t.Logf("%-22s submit call p50 %9v  p99 %9v  max %9v; %d reads in %v (%.0f IOPS); worker reads %d, Go threads %d idle, %d peak, io-wq threads %d",
			mode.name, q(0.5), q(0.99), lat[len(lat)-1], n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(),
			engine.WorkerRuns()-runs, threads0, peak, testutil.IOWorkers(t))
	}
	engine.BlockingSubmit = false
}
