//go:build linux

// Package testutil holds what goiocp's tests share: files on the file
// systems the tests cover, page-aligned and faulting buffers, and the leak
// checks (fds, /proc/sys/fs/aio-nr, goroutines) every package runs.
package testutil

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goiocp/goiocp/internal/engine"
	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

// FS is a file system the tests run on.
type FS struct {
	Name string
	Dir  string
}

// FileSystems returns the file systems to run a test on: the test's temp
// directory (ext4 here) and /dev/shm (tmpfs) when it exists.
func FileSystems(t testing.TB) []FS {
	fss := []FS{{"disk", t.TempDir()}}
	if d := TmpfsDir(t); d != "" {
		fss = append(fss, FS{"tmpfs", d})
	}
	return fss
}

// TmpfsDir returns a new directory on tmpfs (/dev/shm), removed at
// cleanup, where an AIO read completes inside io_submit; "" when there is
// none.
func TmpfsDir(t testing.TB) string {
	if st, err := os.Stat("/dev/shm"); err != nil || !st.IsDir() {
		return ""
	}
	d, err := os.MkdirTemp("/dev/shm", "goiocp-test-")
	if err != nil {
		return ""
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// Pattern returns n bytes that differ at every offset of a file, so a read
// from a wrong offset is caught.
func Pattern(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// File creates a file in dir holding data, opened with flag (os.O_RDWR,
// os.O_RDONLY, ..., possibly with O_DIRECT) and closed at cleanup. It
// returns the file and its fd.
func File(t testing.TB, dir string, data []byte, flag int) (*os.File, int) {
	t.Helper()
	name := filepath.Join(dir, fmt.Sprintf("f-%d", rand.Uint64()))
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(name, flag, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, int(f.Fd())
}

// Contents returns the bytes of the file at path.
func Contents(t testing.TB, f *os.File) []byte {
	t.Helper()
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Aligned returns n bytes of page-aligned anonymous memory, as O_DIRECT
// needs, unmapped at cleanup.
func Aligned(t testing.TB, n int) []byte {
	t.Helper()
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(b) })
	return b
}

// Faulting returns n bytes of memory the kernel can neither read nor write
// (PROT_NONE): I/O into it fails with EFAULT.
func Faulting(t testing.TB, n int) []byte {
	t.Helper()
	b, err := unix.Mmap(-1, 0, n, unix.PROT_NONE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(b) })
	return b
}

// FdTable returns this process's open fds, each with what it refers to
// (its /proc/self/fd link), leaving out the descriptor that reads the table.
func FdTable() map[int]string {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil
	}
	table := make(map[int]string, len(ents))
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil {
			table[fd] = l
		}
	}
	return table
}

// FdsLeft describes what the fd table after holds that before did not:
// each fd opened since (or now referring to something else), and each fd
// of keep no longer open as it was. It is empty when nothing was left
// behind. An fd of before that is gone is not reported unless it is in
// keep: the code under test did not leave it, and another part of the
// process (the Go runtime, the fuzzing worker) may have had it open for a
// moment when before was read.
func FdsLeft(before, after map[int]string, keep ...int) string {
	var out []string
	for fd, l := range after {
		switch b, ok := before[fd]; {
		case !ok:
			out = append(out, fmt.Sprintf("opened %d=%s", fd, l))
		case b != l:
			out = append(out, fmt.Sprintf("changed %d=%s to %s", fd, b, l))
		}
	}
	for _, fd := range keep {
		if l, ok := after[fd]; !ok || l != before[fd] {
			out = append(out, fmt.Sprintf("lost %d=%s", fd, before[fd]))
		}
	}
	slices.Sort(out)
	if len(out) > 10 {
		out = append(out[:10], fmt.Sprintf("and %d more", len(out)-10))
	}
	return strings.Join(out, ", ")
}

// AioNr returns /proc/sys/fs/aio-nr, the events reserved by io_setup
// system-wide, or -1 where it cannot be read.
func AioNr() int {
	b, err := os.ReadFile("/proc/sys/fs/aio-nr")
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return -1
	}
	return n
}

// Equal reports the first differing offset of got and want, or -1.
func Equal(got, want []byte) int {
	if bytes.Equal(got, want) {
		return -1
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return i
		}
	}
	return min(len(got), len(want))
}

// IsRoot reports whether the tests run as root.
func IsRoot() bool { return os.Geteuid() == 0 }

// AioRings returns how many kernel AIO rings this process has mapped: one
// per live io_setup context ("/[aio] (deleted)" in /proc/self/maps). Unlike
// /proc/sys/fs/aio-nr it counts this process only.
func AioRings() int {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return -1
	}
	return strings.Count(string(b), "[aio]")
}

// Leaks compares fds and AIO rings with a baseline taken by Baseline.
type Leaks struct {
	fds   map[int]string
	rings int
}

// Baseline records the process's open fds and AIO rings. It first makes
// the Go runtime open its netpoller (an epoll fd and a wake-up eventfd, kept
// for the life of the process), so those do not count as leaks.
func Baseline() Leaks {
	if r, w, err := os.Pipe(); err == nil {
		r.Close()
		w.Close()
	}
	return Leaks{FdTable(), AioRings()}
}

// Check returns a description of what leaked since the baseline, or "":
// each fd opened since and still open (see FdsLeft), and a change in the
// number of AIO rings.
func (l Leaks) Check() string {
	var s []string
	if left := FdsLeft(l.fds, FdTable()); left != "" {
		s = append(s, "fds "+left)
	}
	if n := AioRings(); n != l.rings {
		s = append(s, fmt.Sprintf("aio rings %d -> %d", l.rings, n))
	}
	return strings.Join(s, ", ")
}

// RunChecked runs the tests of m and returns their exit code, turned to 1
// when they pass but leaked an fd, a kernel AIO context or a goroutine
// since before m ran, or left the engine's counters of sleeping drivers,
// quiet requests or stale events off zero. TestMain functions call it
// after making whatever lives as long as the process (the default context).
// It runs them once per engine (OnEachEngine).
func RunChecked(m *testing.M) int {
	return OnEachEngine(func() int { return runChecked(m) })
}

func runChecked(m *testing.M) int {
	base := Baseline()
	code := m.Run()
	if code != 0 {
		return code
	}
	// Closing a port releases everything before Close returns; the retry
	// covers only fds of helpers (child processes' pipes) that the runtime
	// closes asynchronously.
	leak := base.Check()
	for deadline := time.Now().Add(5 * time.Second); leak != "" && time.Now().Before(deadline); leak = base.Check() {
		time.Sleep(50 * time.Millisecond)
	}
	if leak != "" {
		fmt.Fprintln(os.Stderr, "leak:", leak)
		code = 1
	}
	if err := goleak.Find(); err != nil {
		fmt.Fprintln(os.Stderr, "goroutine leak:", err)
		code = 1
	}
	if e := EngineLeaks(); e != "" {
		fmt.Fprintln(os.Stderr, "engine:", e)
		code = 1
	}
	return code
}

// EngineLeaks describes what the engine's own counters say went wrong, or
// returns "": drivers still counted asleep in io_getevents (none may be
// once no goroutine waits), contexts closed with requests still counted
// quiet, and stale events (a request finished twice).
func EngineLeaks() string {
	var s []string
	if n := engine.KernelSleepers(); n != 0 {
		s = append(s, fmt.Sprintf("%d drivers counted asleep in io_getevents", n))
	}
	if n := engine.QuietLeaks(); n != 0 {
		s = append(s, fmt.Sprintf("%d contexts closed with requests counted quiet", n))
	}
	if n := engine.StaleEvents(); n != 0 {
		s = append(s, fmt.Sprintf("%d stale events", n))
	}
	return strings.Join(s, ", ")
}

// EventfdCount reads and clears the count of the eventfd fd (a port's Fd),
// which the kernel raises by one for every completion of a request
// submitted with IOCB_FLAG_RESFD. It returns 0 when the count is zero; the
// caller makes sure nobody else reads the eventfd meanwhile.
func EventfdCount(t testing.TB, fd int) uint64 {
	t.Helper()
	var b [8]byte
	n, err := unix.Read(fd, b[:])
	if err == unix.EAGAIN {
		return 0
	}
	if err != nil || n != 8 {
		t.Fatalf("read eventfd: %d, %v", n, err)
	}
	return binary.NativeEndian.Uint64(b[:])
}

// CountSignals clears the eventfd fd's count, runs f, and returns how many
// completions signalled the eventfd meanwhile (see EventfdCount).
func CountSignals(t testing.TB, fd int, f func()) uint64 {
	t.Helper()
	EventfdCount(t, fd)
	f()
	return EventfdCount(t, fd)
}

// Threads returns how many OS threads the process runs for Go: every
// thread but io_uring's io-wq workers (named iou-wrk-*), which the kernel
// starts and bounds per ring, which hold no Go stack and which do not count
// against the runtime's thread limit. IOWorkers counts those.
func Threads(t testing.TB) int {
	t.Helper()
	all, wrk := threadCounts(t)
	return all - wrk
}

// IOWorkers returns how many io_uring io-wq worker threads the process has.
func IOWorkers(t testing.TB) int {
	t.Helper()
	_, wrk := threadCounts(t)
	return wrk
}

func threadCounts(t testing.TB) (all, ioWorkers int) {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile("/proc/self/task/" + e.Name() + "/comm")
		if err != nil {
			continue // exited meanwhile
		}
		all++
		if strings.HasPrefix(string(b), "iou-wrk-") {
			ioWorkers++
		}
	}
	return all, ioWorkers
}
