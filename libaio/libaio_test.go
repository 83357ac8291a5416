//go:build linux

package libaio_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/libaio"
	"github.com/goiocp/goiocp/port"
)

const timeout = 5 * time.Second

// newQueue returns a queue of depth released at the end of the test.
func newQueue(t *testing.T, depth int) *libaio.Queue {
	t.Helper()
	q, err := libaio.QueueInit(depth)
	if err != nil {
		t.Fatalf("QueueInit(%d): %v", depth, err)
	}
	t.Cleanup(func() { q.Release() })
	return q
}

// tempFile creates a file holding data, open with flag, closed at the end
// of the test.
func tempFile(t *testing.T, data []byte, flag int) *os.File {
	t.Helper()
	name := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(name, flag, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// getAll collects n events, failing the test if they do not come in time.
func getAll(t *testing.T, q *libaio.Queue, n int) []libaio.Event {
	t.Helper()
	evs := make([]libaio.Event, n)
	got, err := q.GetEvents(n, evs, timeout)
	if err != nil || got != n {
		t.Fatalf("GetEvents(%d) = %d, %v", n, got, err)
	}
	return evs
}

func TestQueueInitRelease(t *testing.T) {
	if _, err := libaio.QueueInit(0); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("QueueInit(0) = %v, want EINVAL", err)
	}
	q, err := libaio.QueueInit(8)
	if err != nil {
		t.Fatal(err)
	}
	if q.Depth() != 8 || q.Port().Depth() != 8 {
		t.Errorf("Depth = %d, port depth %d, want 8", q.Depth(), q.Port().Depth())
	}
	if err := q.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if err := q.Release(); !errors.Is(err, libaio.ErrReleased) {
		t.Errorf("second Release = %v, want ErrReleased", err)
	}
	f := tempFile(t, pattern(16), os.O_RDONLY)
	var cb aiocb.AIOCB
	libaio.PrepPread(&cb, int(f.Fd()), make([]byte, 16), 0)
	if n, err := q.Submit([]*aiocb.AIOCB{&cb}); n != 0 || !errors.Is(err, libaio.ErrReleased) {
		t.Errorf("Submit after Release = %d, %v", n, err)
	}
	if _, err := q.GetEvents(0, make([]libaio.Event, 1), 0); !errors.Is(err, libaio.ErrReleased) {
		t.Errorf("GetEvents after Release = %v", err)
	}
	if _, err := q.Run(); !errors.Is(err, libaio.ErrReleased) {
		t.Errorf("Run after Release = %v", err)
	}
	if err := q.Wait(0); !errors.Is(err, libaio.ErrReleased) {
		t.Errorf("Wait after Release = %v", err)
	}
}

func TestSubmitGetEventsPread(t *testing.T) {
	const n, size = 16, 4096
	data := pattern(n*size - 100) // the last read is short
	f := tempFile(t, data, os.O_RDONLY)
	q := newQueue(t, n)
	cbs := make([]*aiocb.AIOCB, n)
	for i := range cbs {
		cbs[i] = new(aiocb.AIOCB)
		libaio.PrepPread(cbs[i], int(f.Fd()), make([]byte, size), int64(i*size))
	}
	got, err := q.Submit(cbs)
	if got != n || err != nil {
		t.Fatalf("Submit = %d, %v, want %d, nil", got, err, n)
	}
	for _, cb := range cbs {
		if cb.Flags != aiocb.Extended || cb.Version != aiocb.Vers2 || cb.IOCPFD != q.Port().Fd() {
			t.Fatalf("Submit left extended fields %v %v %d, want the port %d", cb.Flags, cb.Version, cb.IOCPFD, q.Port().Fd())
		}
	}
	seen := make(map[*aiocb.AIOCB]bool)
	for _, ev := range getAll(t, q, n) {
		if ev.Err != nil {
			t.Fatalf("event of offset %d: %v", ev.CB.Offset, ev.Err)
		}
		if seen[ev.CB] {
			t.Fatalf("request at %d delivered twice", ev.CB.Offset)
		}
		seen[ev.CB] = true
		want := data[ev.CB.Offset:min(int(ev.CB.Offset)+size, len(data))]
		if ev.Res != len(want) || !bytes.Equal(ev.CB.Buf[:ev.Res], want) {
			t.Fatalf("read at %d: %d bytes, want %d, data equal %v", ev.CB.Offset, ev.Res, len(want), bytes.Equal(ev.CB.Buf[:ev.Res], want))
		}
	}
	if q.InFlight() != 0 {
		t.Errorf("InFlight = %d after every event, want 0", q.InFlight())
	}
	// The AIOCBs may be submitted again once delivered.
	if got, err := q.Submit(cbs[:1]); got != 1 || err != nil {
		t.Fatalf("resubmit = %d, %v", got, err)
	}
	getAll(t, q, 1)
}

func TestPwriteFsyncFdsync(t *testing.T) {
	f := tempFile(t, nil, os.O_RDWR)
	fd := int(f.Fd())
	q := newQueue(t, 8)
	data := pattern(3 * 4096)
	var w1, w2, fs, fds aiocb.AIOCB
	libaio.PrepPwrite(&w1, fd, data[:4096], 0)
	libaio.PrepPwrite(&w2, fd, data[4096:], 4096)
	libaio.PrepFsync(&fs, fd)
	libaio.PrepFdsync(&fds, fd)
	if fs.Opcode != aiocb.OpFsync || fds.Opcode != aiocb.OpFdsync {
		t.Fatalf("opcodes %v %v", fs.Opcode, fds.Opcode)
	}
	if n, err := q.Submit([]*aiocb.AIOCB{&w1, &w2, &fs, &fds}); n != 4 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	for _, ev := range getAll(t, q, 4) {
		want := ev.CB.Nbytes()
		if ev.Err != nil || ev.Res != want {
			t.Errorf("%v: %d, %v, want %d", ev.CB.Opcode, ev.Res, ev.Err, want)
		}
	}
	got, err := os.ReadFile(f.Name())
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("file holds %d bytes (%v), equal %v", len(got), err, bytes.Equal(got, data))
	}
}

func TestPreadvPwritev(t *testing.T) {
	f := tempFile(t, nil, os.O_RDWR)
	fd := int(f.Fd())
	q := newQueue(t, 2)
	data := pattern(10000)
	var w, r aiocb.AIOCB
	libaio.PrepPwritev(&w, fd, [][]byte{data[:3], data[3:5000], data[5000:]}, 100)
	if n, err := q.Submit([]*aiocb.AIOCB{&w}); n != 1 || err != nil {
		t.Fatalf("Submit pwritev = %d, %v", n, err)
	}
	if ev := getAll(t, q, 1)[0]; ev.Err != nil || ev.Res != len(data) {
		t.Fatalf("pwritev: %d, %v", ev.Res, ev.Err)
	}
	iov := [][]byte{make([]byte, 1), make([]byte, 9000), make([]byte, 2000)}
	libaio.PrepPreadv(&r, fd, iov, 100)
	if r.Opcode != aiocb.OpReadv || r.Buf != nil {
		t.Fatalf("PrepPreadv: opcode %v, buf %v", r.Opcode, r.Buf)
	}
	if n, err := q.Submit([]*aiocb.AIOCB{&r}); n != 1 || err != nil {
		t.Fatalf("Submit preadv = %d, %v", n, err)
	}
	if ev := getAll(t, q, 1)[0]; ev.Err != nil || ev.Res != len(data) {
		t.Fatalf("preadv: %d, %v, want %d", ev.Res, ev.Err, len(data))
	}
	if got := bytes.Join(iov, nil)[:len(data)]; !bytes.Equal(got, data) {
		t.Fatal("preadv did not read back what pwritev wrote")
	}
}

func TestPrepClearsFields(t *testing.T) {
	cb := aiocb.AIOCB{Reqprio: 3, Iov: [][]byte{nil}, Flags: aiocb.Extended, Version: aiocb.Vers2, IOCPFD: 9,
		Sigevent: aiocb.Sigevent{Notify: aiocb.SigevThread}}
	buf := make([]byte, 5)
	libaio.PrepPwrite(&cb, 7, buf, 42)
	if cb.Fildes != 7 || cb.Offset != 42 || len(cb.Buf) != 5 || cb.Opcode != aiocb.OpWrite ||
		cb.Iov != nil || cb.Reqprio != 0 || cb.Flags != 0 || cb.Version != 0 || cb.IOCPFD != 0 ||
		cb.Sigevent.Notify != aiocb.SigevNone {
		t.Fatalf("PrepPwrite left %+v", &cb)
	}
}

func TestSubmitStopsAtFirstBad(t *testing.T) {
	f := tempFile(t, pattern(4096), os.O_RDONLY)
	fd := int(f.Fd())
	q := newQueue(t, 4)
	mk := func() *aiocb.AIOCB {
		cb := new(aiocb.AIOCB)
		libaio.PrepPread(cb, fd, make([]byte, 512), 0)
		return cb
	}
	badOff, badPrio, nop, badFd := mk(), mk(), mk(), mk()
	badOff.Offset = -1
	badPrio.Reqprio = 21
	nop.Opcode = aiocb.OpNop
	libaio.PrepPread(badFd, 1<<20, make([]byte, 1), 0)
	badSev := mk()
	badSev.Sigevent.Notify = 99
	busy := mk()
	cases := []struct {
		name string
		bad  *aiocb.AIOCB
		want syscall.Errno
	}{
		{"nil", nil, syscall.EINVAL},
		{"negative offset", badOff, syscall.EINVAL},
		{"reqprio", badPrio, syscall.EINVAL},
		{"nop", nop, syscall.EINVAL},
		{"bad fd", badFd, syscall.EBADF},
		{"sigevent", badSev, syscall.EINVAL},
		{"busy", busy, syscall.EBUSY},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok1, ok2 := mk(), mk()
			list := []*aiocb.AIOCB{ok1, c.bad, ok2}
			if c.bad == busy {
				list = []*aiocb.AIOCB{busy, busy, ok2} // the second busy is in flight by then
			}
			n, err := q.Submit(list)
			var se *libaio.SubmitError
			if n != 1 || !errors.As(err, &se) || se.Index != 1 || !errors.Is(err, c.want) {
				t.Fatalf("Submit = %d, %v; want 1, entry 1: %v", n, err, c.want)
			}
			getAll(t, q, 1)
			if q.InFlight() != 0 {
				t.Fatalf("InFlight = %d, want 0: entry 2 must not have been queued", q.InFlight())
			}
			if got, _ := q.GetEvents(0, make([]libaio.Event, 2), 50*time.Millisecond); got != 0 {
				t.Fatalf("%d more events, want none", got)
			}
		})
	}
}

func TestSubmitNoRoom(t *testing.T) {
	f := tempFile(t, pattern(4096), os.O_RDONLY)
	q := newQueue(t, 3)
	cbs := make([]*aiocb.AIOCB, 5)
	for i := range cbs {
		cbs[i] = new(aiocb.AIOCB)
		libaio.PrepPread(cbs[i], int(f.Fd()), make([]byte, 100), int64(i))
	}
	n, err := q.Submit(cbs)
	if n != 3 || !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("Submit of 5 on depth 3 = %d, %v; want 3, EAGAIN", n, err)
	}
	if n, err := q.Submit(cbs[3:]); n != 0 || !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("Submit on a full queue = %d, %v; want 0, EAGAIN", n, err)
	}
	getAll(t, q, 3)
	if n, err := q.Submit(cbs[3:]); n != 2 || err != nil {
		t.Fatalf("Submit of the rest = %d, %v", n, err)
	}
	getAll(t, q, 2)
}

// TestSubmitKernelRefusal covers the request the kernel itself refuses
// (io_submit EBADF: a write to a file open read-only): the others of the
// call are queued and deliver their events; the refused one delivers none.
func TestSubmitKernelRefusal(t *testing.T) {
	f := tempFile(t, pattern(4096), os.O_RDONLY)
	fd := int(f.Fd())
	q := newQueue(t, 4)
	var r1, w, r2 aiocb.AIOCB
	libaio.PrepPread(&r1, fd, make([]byte, 10), 0)
	libaio.PrepPwrite(&w, fd, make([]byte, 10), 0)
	libaio.PrepPread(&r2, fd, make([]byte, 10), 10)
	n, err := q.Submit([]*aiocb.AIOCB{&r1, &w, &r2})
	var se *libaio.SubmitError
	if n != 2 || !errors.As(err, &se) || se.Index != 1 || !errors.Is(err, syscall.EBADF) {
		t.Fatalf("Submit = %d, %v; want 2, entry 1: EBADF", n, err)
	}
	for _, ev := range getAll(t, q, 2) {
		if ev.CB == &w || ev.Err != nil || ev.Res != 10 {
			t.Fatalf("unexpected event %+v", ev)
		}
	}
	if q.InFlight() != 0 {
		t.Fatalf("InFlight = %d, want 0", q.InFlight())
	}
}

func TestGetEvents(t *testing.T) {
	q := newQueue(t, 4)
	if _, err := q.GetEvents(2, make([]libaio.Event, 1), 0); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("min > len: %v, want EINVAL", err)
	}
	if _, err := q.GetEvents(-1, make([]libaio.Event, 1), 0); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("min < 0: %v, want EINVAL", err)
	}
	if n, err := q.GetEvents(0, nil, Infinite()); n != 0 || err != nil {
		t.Errorf("no room: %d, %v", n, err)
	}
	start := time.Now()
	n, err := q.GetEvents(1, make([]libaio.Event, 1), 30*time.Millisecond)
	if n != 0 || err != nil {
		t.Errorf("nothing in flight: %d, %v; want 0, nil", n, err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("returned after %v, before the timeout", d)
	}

	// min is honoured: with 3 of 4 done, GetEvents(4) waits for the fourth,
	// which a posted packet supplies; then max bounds what it takes.
	f := tempFile(t, pattern(100), os.O_RDONLY)
	cbs := make([]*aiocb.AIOCB, 3)
	for i := range cbs {
		cbs[i] = new(aiocb.AIOCB)
		libaio.PrepPread(cbs[i], int(f.Fd()), make([]byte, 10), 0)
	}
	if n, err := q.Submit(cbs); n != 3 || err != nil {
		t.Fatal(n, err)
	}
	posted := new(aiocb.AIOCB)
	go func() {
		time.Sleep(20 * time.Millisecond)
		q.Port().PostQueuedCompletionStatus(77, 0, posted)
	}()
	evs := make([]libaio.Event, 5)
	n, err = q.GetEvents(4, evs, timeout)
	if n != 4 || err != nil {
		t.Fatalf("GetEvents(4) = %d, %v", n, err)
	}
	if evs[3].CB != posted || evs[3].Res != 77 {
		t.Errorf("fourth event %+v, want the posted packet", evs[3])
	}

	// A Release wakes a blocked GetEvents.
	done := make(chan error, 1)
	go func() {
		_, err := q.GetEvents(1, make([]libaio.Event, 1), libaio.Infinite)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	q.Release()
	select {
	case err := <-done:
		if !errors.Is(err, libaio.ErrReleased) {
			t.Errorf("GetEvents across Release = %v", err)
		}
	case <-time.After(timeout):
		t.Fatal("Release did not wake GetEvents")
	}
}

// Infinite is libaio.Infinite, a call so vet sees a Duration.
func Infinite() time.Duration { return libaio.Infinite }

func TestCallbacksRun(t *testing.T) {
	data := pattern(8192)
	f := tempFile(t, data, os.O_RDONLY)
	q := newQueue(t, 4)
	type call struct {
		cb  *aiocb.AIOCB
		res int
		err error
	}
	var calls []call
	fn := func(cb *aiocb.AIOCB, res int, err error) { calls = append(calls, call{cb, res, err}) }
	var a, b, c aiocb.AIOCB
	libaio.PrepPread(&a, int(f.Fd()), make([]byte, 100), 0)
	libaio.PrepPread(&b, int(f.Fd()), make([]byte, 100), 8150) // short: 42 bytes
	libaio.PrepPread(&c, int(f.Fd()), make([]byte, 100), 100)  // no callback
	q.SetCallback(&a, fn)
	q.SetCallback(&b, fn)
	if n, err := q.Submit([]*aiocb.AIOCB{&a, &b, &c}); n != 3 || err != nil {
		t.Fatal(n, err)
	}
	ran := 0
	for deadline := time.Now().Add(timeout); ran < 3 && time.Now().Before(deadline); {
		n, err := q.Run()
		if err != nil {
			t.Fatal(err)
		}
		ran += n
	}
	if ran != 3 || len(calls) != 2 {
		t.Fatalf("Run delivered %d, called %d callbacks; want 3 and 2", ran, len(calls))
	}
	for _, c := range calls {
		want := 100
		if c.cb == &b {
			want = 42
		}
		if c.err != nil || c.res != want {
			t.Errorf("callback of offset %d: %d, %v; want %d", c.cb.Offset, c.res, c.err, want)
		}
	}
	if n, err := q.Run(); n != 0 || err != nil {
		t.Errorf("Run with nothing complete = %d, %v", n, err)
	}

	// Callbacks are one-shot: a resubmitted AIOCB without a new one
	// completes without a call; SetCallback(cb, nil) forgets one.
	calls = nil
	q.SetCallback(&b, fn)
	q.SetCallback(&b, nil)
	if n, err := q.Submit([]*aiocb.AIOCB{&a, &b}); n != 2 || err != nil {
		t.Fatal(n, err)
	}
	for ran = 0; ran < 2; {
		if err := q.Wait(timeout); err != nil {
			t.Fatal(err)
		}
		ran++
	}
	if len(calls) != 0 {
		t.Errorf("%d callbacks ran, want none", len(calls))
	}
}

// TestCallbackError checks a callback sees the request's errno: an
// O_DIRECT read at an unaligned offset fails with EINVAL when the kernel
// runs it (an event, not a refusal at io_submit).
func TestCallbackError(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(name, pattern(8192), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		t.Skipf("O_DIRECT not supported here: %v", err)
	}
	defer f.Close()
	buf := alignedBuf(t, 4096)
	q := newQueue(t, 1)
	var cb aiocb.AIOCB
	libaio.PrepPread(&cb, int(f.Fd()), buf, 1)
	var got error
	res := -1
	q.SetCallback(&cb, func(_ *aiocb.AIOCB, r int, err error) { res, got = r, err })
	if n, err := q.Submit([]*aiocb.AIOCB{&cb}); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	if err := q.Wait(timeout); err != nil {
		t.Fatal(err)
	}
	if res != 0 || !errors.Is(got, syscall.EINVAL) {
		t.Fatalf("callback got %d, %v; want 0, EINVAL", res, got)
	}
}

func TestWait(t *testing.T) {
	q := newQueue(t, 2)
	start := time.Now()
	if err := q.Wait(20 * time.Millisecond); !errors.Is(err, port.ErrTimeout) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Wait with nothing in flight = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("Wait returned after %v", d)
	}
	if err := q.Wait(0); !errors.Is(err, port.ErrTimeout) {
		t.Fatalf("Wait(0) = %v", err)
	}
	// A callback may submit: the aiocp read-then-write step.
	src := tempFile(t, pattern(4096), os.O_RDONLY)
	dst := tempFile(t, nil, os.O_WRONLY)
	var cb aiocb.AIOCB
	libaio.PrepPread(&cb, int(src.Fd()), make([]byte, 4096), 0)
	wrote := false
	q.SetCallback(&cb, func(cb *aiocb.AIOCB, res int, err error) {
		if err != nil {
			t.Errorf("read: %v", err)
			return
		}
		libaio.PrepPwrite(cb, int(dst.Fd()), cb.Buf[:res], 0)
		q.SetCallback(cb, func(_ *aiocb.AIOCB, res int, err error) { wrote = err == nil && res == 4096 })
		if n, err := q.Submit([]*aiocb.AIOCB{cb}); n != 1 {
			t.Errorf("submit from callback: %v", err)
		}
	})
	if n, err := q.Submit([]*aiocb.AIOCB{&cb}); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	for range 2 {
		if err := q.Wait(libaio.Infinite); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := os.ReadFile(dst.Name())
	if !wrote || !bytes.Equal(got, pattern(4096)) {
		t.Fatalf("read-then-write: wrote %v, copy equal %v", wrote, bytes.Equal(got, pattern(4096)))
	}
}

func TestCancel(t *testing.T) {
	f := tempFile(t, pattern(4096), os.O_RDWR)
	fd := int(f.Fd())
	q := newQueue(t, 4)
	var cb aiocb.AIOCB
	libaio.PrepPread(&cb, fd, make([]byte, 10), 0)
	if _, err := q.Cancel(&cb); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Cancel of a request never submitted = %v, want EINVAL", err)
	}
	if n, err := q.Submit([]*aiocb.AIOCB{&cb}); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	// A buffered read is done inside io_submit: too late to cancel.
	if _, err := q.Cancel(&cb); !errors.Is(err, syscall.EAGAIN) {
		t.Errorf("Cancel of a complete read = %v, want EAGAIN", err)
	}
	if ev := getAll(t, q, 1)[0]; ev.CB != &cb || ev.Err != nil || ev.Res != 10 {
		t.Errorf("event of the uncancelled read: %+v", ev)
	}
}

// TestCancelHeldFsync cancels an fsync that goiocp holds in user space
// behind an earlier O_DIRECT read of the same file still in the kernel.
func TestCancelHeldFsync(t *testing.T) {
	const size = 32 << 20
	name := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(name, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(name, os.O_RDWR|syscall.O_DIRECT, 0)
	if err != nil {
		t.Skipf("O_DIRECT not supported here: %v", err)
	}
	defer f.Close()
	fd := int(f.Fd())
	buf := alignedBuf(t, size)
	q := newQueue(t, 2)
	for try := 0; try < 10; try++ {
		var rd, fs aiocb.AIOCB
		libaio.PrepPread(&rd, fd, buf, 0)
		libaio.PrepFsync(&fs, fd)
		called := false
		q.SetCallback(&fs, func(*aiocb.AIOCB, int, error) { called = true })
		if n, err := q.Submit([]*aiocb.AIOCB{&rd, &fs}); n != 2 || err != nil {
			t.Fatal(n, err)
		}
		ev, err := q.Cancel(&fs)
		if err != nil {
			if !errors.Is(err, syscall.EAGAIN) {
				t.Fatalf("Cancel of the fsync = %v", err)
			}
			getAll(t, q, 2) // the read finished first: try again
			continue
		}
		if ev.CB != &fs || !errors.Is(ev.Err, syscall.ECANCELED) {
			t.Fatalf("Cancel event %+v, want the fsync with ECANCELED", ev)
		}
		if e := getAll(t, q, 1)[0]; e.CB != &rd || e.Err != nil || e.Res != size {
			t.Fatalf("read event %+v", e)
		}
		if n, _ := q.GetEvents(0, make([]libaio.Event, 1), 50*time.Millisecond); n != 0 {
			t.Fatal("the cancelled fsync delivered an event")
		}
		if q.Run(); called || q.InFlight() != 0 {
			t.Fatalf("after cancel: callback called %v, InFlight %d", called, q.InFlight())
		}
		return
	}
	t.Skip("the O_DIRECT read always finished before Cancel could catch the fsync")
}
