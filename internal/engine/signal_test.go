//go:build linux

package engine

import (
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/goiocp/goiocp/internal/abi"
)

// tmpfsFile returns the fd of a 64 KiB file on tmpfs, where an AIO read
// completes inside io_submit, or skips the test when /dev/shm is missing.
func tmpfsFile(t *testing.T) int {
	t.Helper()
	if st, err := os.Stat("/dev/shm"); err != nil || !st.IsDir() {
		t.Skip("no tmpfs at /dev/shm: the test needs reads that complete inside io_submit")
	}
	f, err := os.CreateTemp("/dev/shm", "goiocp-engine-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close(); os.Remove(f.Name()) })
	if _, err := f.Write(make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	return int(f.Fd())
}

// read submits one 4 KiB read on fd to c and reaps until it is final.
func read(t *testing.T, c *Context, fd int) {
	t.Helper()
	r := &Request{Cmd: abi.IOCB_CMD_PREAD, Fd: fd, Buf: make([]byte, 4096)}
	if err := r.Claim(); err != nil {
		t.Fatal(err)
	}
	if e := c.Submit([]*Request{r}); e != 0 {
		t.Fatalf("submit: %v", e)
	}
	for deadline := time.Now().Add(10 * time.Second); !r.Final(); c.Poll() {
		if time.Now().After(deadline) {
			t.Fatal("read never final")
		}
	}
	if n, err := r.Return(); n != 4096 || err != nil {
		t.Fatalf("read: %d, %v", n, err)
	}
}

// state returns c's signalling state.
func state(c *Context) (signalAll bool, quiet, netParked int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.signalAll, c.quiet, c.netParked
}

// TestCalmWaitsForParkedDriver: reaps by other goroutines never turn the
// eventfd signal off while a driver is parked in the netpoller relying on
// it (the requests submitted meanwhile carry RESFD); once it has gone,
// calmReaps reaps do, and the quiet count returns to zero every time.
// With GOMAXPROCS 1 the driver, made runnable by the first signal, stays
// counted as parked until the reading goroutine yields: that is the window
// in which a reap must not turn the signal off.
func TestCalmWaitsForParkedDriver(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	fd := tmpfsFile(t)
	c, err := NewContext(KindAIO, 8, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	read(t, c, fd)
	if on, quiet, _ := state(c); on || quiet != 0 {
		t.Fatalf("a new context: signalAll %v, quiet %d; want off, 0", on, quiet)
	}

	// Up to 20 tries: the window closes if the scheduler runs the driver
	// anyway (a GC, a preemption).
	held := false
	for try := 0; try < 20 && !held; try++ {
		parked := make(chan error, 1)
		if !c.TryDrive() {
			t.Fatal("TryDrive failed on an idle context")
		}
		go func() {
			parked <- c.Park(time.Time{})
			c.ReleaseDrive()
		}()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			if _, _, n := state(c); n == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the driver never parked in the netpoller")
			}
		}
		for range calmReaps + 8 {
			read(t, c, fd)
		}
		on, quiet, n := state(c)
		if held = n == 1; held && (!on || quiet != 0) {
			t.Fatalf("with a driver parked in the netpoller: signalAll %v, quiet %d; want on, 0", on, quiet)
		}
		c.Kick()
		if err := <-parked; err != nil {
			t.Fatalf("Park: %v", err)
		}
	}
	if !held {
		t.Fatal("in 20 tries the driver always ran before the reads were done")
	}
	c.Poll()
	for range calmReaps + 1 {
		read(t, c, fd)
	}
	if on, quiet, _ := state(c); on || quiet != 0 {
		t.Fatalf("after %d reaps with no wait: signalAll %v, quiet %d; want off, 0", calmReaps+1, on, quiet)
	}
	if n := KernelSleepers(); n != 0 {
		t.Fatalf("%d drivers counted asleep in io_getevents", n)
	}
}

// TestQuietRefused: a request io_submit refuses gives its quiet mark back.
func TestQuietRefused(t *testing.T) {
	c, err := NewContext(KindAIO, 8, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := &Request{Cmd: abi.IOCB_CMD_PREAD, Fd: 1 << 20, Buf: make([]byte, 4096)}
	if err := r.Claim(); err != nil {
		t.Fatal(err)
	}
	if e := c.Submit([]*Request{r}); e != syscall.EBADF {
		t.Fatalf("submit on a bad fd: %v, want EBADF", e)
	}
	if _, quiet, _ := state(c); quiet != 0 {
		t.Fatalf("quiet %d after a refused request, want 0", quiet)
	}
}
