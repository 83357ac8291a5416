//go:build linux

package bench

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/file"
)

// The file benchmark: G goroutines each doing 4 KiB random reads (or
// writes) of one file, one call at a time, through package file's File or
// through *os.File, the same file and open flags for both.

// FileEngines are the ReaderAt/WriterAt implementations RunFile knows.
var FileEngines = []string{"file", "osfile"}

// FileConfig is one cell of the file benchmark.
type FileConfig struct {
	Engine   string
	Path     string // an existing file, at least 64 MiB
	Direct   bool
	Write    bool
	G        int
	Duration time.Duration // run time; 0: until Ops
	Ops      int64         // with Duration 0, the calls to make in all
}

// FileResult is what one run measured.
type FileResult struct {
	FileConfig
	Calls       int64
	IOPS        float64
	P50, P99    time.Duration
	Threads     int   // the most OS threads seen during the run
	DeviceReads int64 // reads the disk completed meanwhile (/sys/block/*/stat), -1 unknown
	DeviceWrite int64 // writes the disk completed meanwhile, -1 unknown
	Served      int   // goroutines with at least one call done in the window
}

// readerWriterAt is what both engines offer.
type readerWriterAt interface {
	io.ReaderAt
	io.WriterAt
	io.Closer
}

// RunFile runs one cell.
func RunFile(cfg FileConfig) (FileResult, error) {
	res := FileResult{FileConfig: cfg, DeviceReads: -1, DeviceWrite: -1}
	flag := os.O_RDWR
	if cfg.Direct {
		flag |= syscall.O_DIRECT
	}
	var f readerWriterAt
	var err error
	switch cfg.Engine {
	case "file":
		f, err = file.Open(cfg.Path, flag, 0)
	case "osfile":
		f, err = os.OpenFile(cfg.Path, flag, 0)
	default:
		err = fmt.Errorf("file engine %q: want one of %s", cfg.Engine, strings.Join(FileEngines, ", "))
	}
	if err != nil {
		return res, err
	}
	defer f.Close()
	st, err := os.Stat(cfg.Path)
	if err != nil {
		return res, err
	}
	blocks := st.Size() / 4096
	dev := diskOf(cfg.Path)
	r0, w0 := deviceOps(dev)

	// The window is the wall clock's, kept by every goroutine: a call
	// counts only if it returned before the deadline, and the first
	// goroutine to see the deadline pass reads the device's counters. A
	// stop given by a timer alone is not enough: with thousands of
	// goroutines runnable (os.File's page-cache hits), the goroutine the
	// timer wakes waits behind them, and a "1 s" run of os.File lasted 121
	// s and 180 s on the 2-core VM (bench/timercheck shows the same for
	// O_DIRECT), long enough to read the whole file into the page cache and
	// report its hits as the cold file's rate.
	var stop atomic.Bool
	var left atomic.Int64
	left.Store(cfg.Ops)
	var window sync.Once
	r1, w1 := int64(-1), int64(-1)
	endWindow := func() {
		window.Do(func() {
			r1, w1 = deviceOps(dev)
			stop.Store(true)
		})
	}
	// Each goroutine's histogram and buffer are touched here, before the
	// window: otherwise the first call of each goroutine pays the page
	// faults of the benchmark's own memory (15 KiB of histogram and 4 KiB
	// of buffer), and an engine that serves every goroutine in the window
	// pays them 10,000 times where one that serves a few hundred (os.File,
	// whose goroutines run 10 ms slices) pays them a few hundred times.
	hists := make([]Histogram, cfg.G)
	bufs := make([][]byte, cfg.G)
	for g := range cfg.G {
		hists[g].touch()
		bufs[g] = file.AlignedBuffer(4096) // one page
		bufs[g][0] = 1
	}
	peakThreads := sampleThreads(20 * time.Millisecond)
	var firstErr atomic.Pointer[error]
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	for g := range cfg.G {
		wg.Go(func() {
			buf := bufs[g]
			rng := rand.New(rand.NewPCG(uint64(g), 11))
			h := &hists[g]
			for !stop.Load() {
				if cfg.Duration == 0 && left.Add(-1) < 0 {
					return
				}
				off := rng.Int64N(blocks) * 4096
				t0 := time.Now()
				var err error
				if cfg.Write {
					_, err = f.WriteAt(buf, off)
				} else {
					_, err = f.ReadAt(buf, off)
				}
				if err != nil {
					firstErr.CompareAndSwap(nil, &err)
					return
				}
				t1 := time.Now()
				if cfg.Duration > 0 && t1.After(deadline) {
					endWindow()
					return
				}
				h.Record(t1.Sub(t0))
			}
		})
	}
	if cfg.Duration > 0 {
		time.Sleep(time.Until(deadline))
		endWindow()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if cfg.Duration > 0 {
		elapsed = cfg.Duration
	} else {
		r1, w1 = deviceOps(dev)
	}
	threads := peakThreads()
	if p := firstErr.Load(); p != nil {
		return res, *p
	}
	if r0 >= 0 && r1 >= 0 {
		res.DeviceReads, res.DeviceWrite = r1-r0, w1-w0
	}
	var all Histogram
	for i := range hists {
		all.Merge(&hists[i])
		if hists[i].Count() > 0 {
			res.Served++
		}
	}
	res.Calls = all.Count()
	res.IOPS = float64(res.Calls) / elapsed.Seconds()
	res.P50, res.P99 = all.Quantile(0.50), all.Quantile(0.99)
	res.Threads = threads
	return res, nil
}

// DiskOf returns the block device under path ("vda"), or "" for a file
// system without one (tmpfs).
func DiskOf(path string) string { return diskOf(path) }

func diskOf(path string) string {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return ""
	}
	major, minor := (st.Dev>>8)&0xfff, st.Dev&0xff|(st.Dev>>12)&0xfff00
	link, err := os.Readlink(fmt.Sprintf("/sys/dev/block/%d:%d", major, minor))
	if err != nil {
		return ""
	}
	parts := strings.Split(link, "/")
	// .../block/vda/vda1 for a partition: the disk is the parent.
	for i, p := range parts {
		if p == "block" && i+1 < len(parts) {
			return parts[i+1]
		}
	}
	return ""
}

// deviceOps returns the reads and writes disk has completed
// (/sys/block/DISK/stat fields 1 and 5), or -1, -1.
func deviceOps(disk string) (reads, writes int64) {
	if disk == "" {
		return -1, -1
	}
	b, err := os.ReadFile("/sys/block/" + disk + "/stat")
	if err != nil {
		return -1, -1
	}
	f := strings.Fields(string(b))
	if len(f) < 5 {
		return -1, -1
	}
	fmt.Sscan(f[0], &reads)
	fmt.Sscan(f[4], &writes)
	return reads, writes
}
