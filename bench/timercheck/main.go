//go:build linux

// Command timercheck shows why in-process timing overstates os.File's
// IOPS with thousands of goroutines blocked in O_DIRECT preads: it runs G
// goroutines of 4 KiB random O_DIRECT ReadAt on a 1 GiB file, sleeps "1 s"
// with time.Sleep, and prints how long that sleep really took beside the
// calls and the device's reads (/sys/block/vda/stat) in that window.
//
//	GOMAXPROCS=1 go run ./bench/timercheck 2000
//
// On the 2-core VM (G 2,000) the sleep took from 1 s to 17.3 s, varying
// from run to run: 2.1 s and 3.9 s with GOMAXPROCS=2, 15.9 s and 17.3 s
// with GOMAXPROCS=1, where 547,891 calls and 582,340 device reads fell in
// the "1 s" window, while the device's real rate was 33,720 reads/s. In
// runs where the sleep was on time, the calls counted in the window could
// still be many times the device reads in it (361,706 against 28,008):
// goroutines whose reads finished earlier, waiting for a P, counted them
// late. Only the device's counters over a wall-clock window measure the
// rate. See bench/README.md.
package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/file"
)

func main() {
	g := 2000
	if len(os.Args) > 1 {
		var err error
		if g, err = strconv.Atoi(os.Args[1]); err != nil || g <= 0 {
			fmt.Fprintln(os.Stderr, "usage: timercheck [goroutines]")
			os.Exit(2)
		}
	}
	path := filepath.Join(os.TempDir(), "timercheck.dat")
	if err := makeFile(path); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.Remove(path)
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var calls atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for i := range g {
		wg.Go(func() {
			b := file.AlignedBuffer(4096)
			r := rand.New(rand.NewPCG(uint64(i), 7))
			for !stop.Load() {
				if _, err := f.ReadAt(b, int64(r.IntN(1<<18))*4096); err != nil {
					panic(err)
				}
				calls.Add(1)
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	c0, d0, t0 := calls.Load(), deviceReads(), time.Now()
	time.Sleep(time.Second)
	c1, d1, real := calls.Load(), deviceReads(), time.Since(t0)
	stop.Store(true)
	wg.Wait()
	fmt.Printf("G %d, GOMAXPROCS %s: time.Sleep(1s) took %v; calls %d, device reads %d: %.0f calls per nominal second, %.0f device reads per real second\n",
		g, os.Getenv("GOMAXPROCS"), real.Round(time.Millisecond), c1-c0, d1-d0, float64(c1-c0), float64(d1-d0)/real.Seconds())
}

// makeFile writes a 1 GiB file that is not sparse.
func makeFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	buf := make([]byte, 1<<20)
	for i := range 1024 {
		buf[0] = byte(i)
		if _, err := f.Write(buf); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// deviceReads is the reads /sys/block/vda/stat counts, or -1.
func deviceReads() int64 {
	b, err := os.ReadFile("/sys/block/vda/stat")
	if err != nil {
		return -1
	}
	n, _ := strconv.ParseInt(strings.Fields(string(b))[0], 10, 64)
	return n
}
