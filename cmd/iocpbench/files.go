//go:build linux

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/bench"
)

// runFiles runs the file benchmark: package file's File against os.File on
// the same file, 4 KiB random reads and writes, O_DIRECT and buffered, on
// the disk and tmpfs, for each G, rounds alternating, and prints the
// medians as a Markdown table with File's ratio to os.File and the disk's
// own counts of the reads and writes it served.
func runFiles(gs []int, dirs map[string]string, directs []bool, rounds int, d time.Duration, sizeMiB int64) error {
	// os.File holds a thread per blocked call: let it have them, so that
	// the table shows how many it takes instead of the runtime's crash.
	debug.SetMaxThreads(100_000)
	fmt.Printf("package file against os.File, 4 KiB random calls, one at a time per goroutine, GOMAXPROCS=%d, %d rounds of %v alternating; medians\n\n", runtime.GOMAXPROCS(0), rounds, d)
	fmt.Println("| target | open | op | G | File IOPS | os.File IOPS | ×os.File | p99 µs File / os.File | peak threads File / os.File | goroutines served File / os.File | device ops File / os.File |")
	fmt.Println("|---|---|---|---:|---:|---:|---:|---|---|---|---|")
	for _, target := range []string{"disk", "tmpfs"} {
		dir := dirs[target]
		if dir == "" {
			continue
		}
		path := filepath.Join(dir, "iocpbench-files.dat")
		if err := makeDataFile(path, sizeMiB<<20); err != nil {
			return err
		}
		defer os.Remove(path)
		for _, direct := range directs {
			for _, write := range []bool{false, true} {
				for _, g := range gs {
					got := map[string][]bench.FileResult{}
					for range rounds {
						for _, eng := range bench.FileEngines {
							if target == "disk" && !direct {
								dropCaches() // buffered reads of the disk, not of memory
							}
							res, err := runFileChild(bench.FileConfig{Engine: eng, Path: path, Direct: direct, Write: write, G: g, Duration: d})
							if err != nil {
								return fmt.Errorf("%s %s G=%d: %w", eng, target, g, err)
							}
							got[eng] = append(got[eng], res)
						}
					}
					a, b := medianBy(got["file"], fileRate), medianBy(got["osfile"], fileRate)
					open, op := "buffered", "read"
					if direct {
						open = "O_DIRECT"
					}
					if write {
						op = "write"
					}
					devA, devB := "", ""
					if a.DeviceReads >= 0 {
						ops := func(r bench.FileResult) int64 {
							if write {
								return r.DeviceWrite
							}
							return r.DeviceReads
						}
						devA, devB = fmt.Sprint(ops(a)), fmt.Sprint(ops(b))
					}
					fmt.Printf("| %s | %s | %s | %d | %.0f | %.0f | %.2f | %.0f / %.0f | %d / %d | %d / %d | %s / %s |\n", target, open, op, g,
						a.IOPS, b.IOPS, a.IOPS/b.IOPS, us(a.P99), us(b.P99), a.Threads, b.Threads, a.Served, b.Served, devA, devB)
				}
			}
		}
	}
	return nil
}

// runFileChild runs one cell in a new process (this binary with
// -file-one), so that each engine's thread count starts from nothing: the
// Go runtime never gives back a thread it made.
func runFileChild(cfg bench.FileConfig) (bench.FileResult, error) {
	var res bench.FileResult
	exe, err := os.Executable()
	if err != nil {
		return res, err
	}
	arg, err := json.Marshal(cfg)
	if err != nil {
		return res, err
	}
	out, err := exec.Command(exe, "-file-one", string(arg)).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return res, fmt.Errorf("%w: %s", err, ee.Stderr)
		}
		return res, err
	}
	err = json.Unmarshal(out, &res)
	return res, err
}

// fileOne runs the cell arg (JSON) and prints its result as JSON.
func fileOne(arg string) error {
	debug.SetMaxThreads(100_000)
	var cfg bench.FileConfig
	if err := json.Unmarshal([]byte(arg), &cfg); err != nil {
		return err
	}
	res, err := bench.RunFile(cfg)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

func fileRate(r bench.FileResult) float64 { return r.IOPS }

// makeDataFile writes size bytes of pseudo-random data to path unless a
// file of that size is there.
func makeDataFile(path string, size int64) error {
	if st, err := os.Stat(path); err == nil && st.Size() == size {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i*131 + i>>8)
	}
	for off := int64(0); off < size; off += int64(len(buf)) {
		if _, err := f.WriteAt(buf[:min(int64(len(buf)), size-off)], off); err != nil {
			return err
		}
	}
	return f.Sync()
}

// dropCaches writes the dirty pages back and empties the page cache (root
// only; otherwise buffered disk reads are partly served from memory, which
// the device counts show, and buffered writes find the pages an earlier
// run dirtied still there).
func dropCaches() {
	syscall.Sync()
	_ = os.WriteFile("/proc/sys/vm/drop_caches", []byte("1"), 0)
}
