//go:build linux && !race

package file_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goiocp/goiocp/file"
	"github.com/goiocp/goiocp/internal/faultfs"
	"github.com/goiocp/goiocp/internal/testutil"
)

// The race detector allows 8,128 goroutines, so this runs without it:
// `make test` runs it once among the benchmarks.

// slowEnv, set in the environment, makes BenchmarkTenThousandSlowReads the
// os.File child instead of the parent.
const slowEnv = "GOIOCP_SLOW_OSFILE_CHILD"

// BenchmarkTenThousandSlowReads: 10,000 goroutines each read a FUSE file
// whose every read takes 10 ms. Through File they all finish and the
// process gains a few threads; through os.File (in a child process, since
// it may not survive) every blocked read holds a thread, and the child
// crosses Go's 10,000-thread limit ("program exceeds 10000-thread limit")
// or, if it survives, needs thousands of threads.
func BenchmarkTenThousandSlowReads(b *testing.B) {
	const g = 10_000
	ff := faultfs.MountFile(b, "data", testutil.Pattern(8, 1<<20), faultfs.Options{})
	ff.SetRules(faultfs.Rule{Op: faultfs.Read, Len: 1 << 30, Delay: 10 * time.Millisecond})
	if os.Getenv(slowEnv) != "" {
		f, err := os.Open(ff.Path())
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		peak := slowReads(b, f, g)
		b.Logf("os.File: %d goroutines done, peak %d threads", g, peak)
		return
	}
	f, err := file.Open(ff.Path(), os.O_RDONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	idle := testutil.Threads(b)
	start := time.Now()
	peak := slowReads(b, f, g)
	b.ReportMetric(float64(peak), "File-threads")
	b.Logf("File: %d goroutines in %v, threads %d idle, %d at peak", g, time.Since(start).Round(time.Millisecond), idle, peak)
	if peak > idle+64 {
		b.Errorf("File: %d threads for %d slow reads, %d idle", peak, g, idle)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$", "-test.bench=^BenchmarkTenThousandSlowReads$", "-test.benchtime=1x", "-test.v")
	cmd.Env = append(os.Environ(), slowEnv+"=1")
	out, _ := cmd.CombinedOutput()
	switch {
	case bytes.Contains(out, []byte("exceeds 10000-thread limit")):
		b.Logf("os.File: the child crossed Go's thread limit: %q", firstLine(out, "thread limit"))
	case bytes.Contains(out, []byte("os.File: ")):
		line := firstLine(out, "os.File: ")
		b.Logf("%s", line)
		var n int
		if i := strings.LastIndex(line, "peak "); i >= 0 {
			n, _ = strconv.Atoi(strings.Fields(line[i+5:])[0])
		}
		if n < 10*peak {
			b.Errorf("os.File needed %d threads, File %d: expected a thread per blocked read", n, peak)
		}
	default:
		b.Errorf("os.File child: neither done nor crossing the limit:\n%s", tail(out))
	}
}

// slowReads runs g goroutines of one 64-byte ReadAt each and returns the
// most threads seen meanwhile.
func slowReads(b *testing.B, r interface {
	ReadAt([]byte, int64) (int, error)
}, g int) int {
	var wg sync.WaitGroup
	var peak atomic.Int64
	done := make(chan struct{})
	go func() {
		for {
			if n := int64(testutil.Threads(b)); n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	var failed atomic.Int32
	for i := range g {
		wg.Go(func() {
			buf := make([]byte, 64)
			off := rand.N(int64(1<<20 - 64))
			if n, err := r.ReadAt(buf, off); n != 64 || err != nil {
				if failed.Add(1) == 1 {
					b.Errorf("read %d: %d, %v", i, n, err)
				}
			}
		})
	}
	wg.Wait()
	close(done)
	return int(max(peak.Load(), int64(testutil.Threads(b))))
}

func firstLine(out []byte, sub string) string {
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, sub) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

func tail(out []byte) string {
	if len(out) > 2000 {
		out = out[len(out)-2000:]
	}
	return string(out)
}
