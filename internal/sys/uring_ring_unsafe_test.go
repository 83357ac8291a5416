//go:build linux

package sys

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func newRing(t *testing.T, entries uint32) *URing {
	t.Helper()
	if err := ProbeIOURing(); err != nil {
		t.Skipf("io_uring: %v", err)
	}
	r, err := NewURing(entries, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestURingLayout checks the sizes of struct io_uring_sqe (64) and
// io_uring_cqe (16) and the offsets the kernel reads.
func TestURingLayout(t *testing.T) {
	if n := unsafe.Sizeof(URingSQE{}); n != 64 {
		t.Errorf("io_uring_sqe is %d bytes, want 64", n)
	}
	if n := unsafe.Sizeof(URingCQE{}); n != 16 {
		t.Errorf("io_uring_cqe is %d bytes, want 16", n)
	}
	var s URingSQE
	for name, got := range map[string]uintptr{"fd": unsafe.Offsetof(s.Fd), "off": unsafe.Offsetof(s.Off), "addr": unsafe.Offsetof(s.Addr),
		"len": unsafe.Offsetof(s.Len), "user_data": unsafe.Offsetof(s.UserData), "buf_index": unsafe.Offsetof(s.BufIndex)} {
		want := map[string]uintptr{"fd": 4, "off": 8, "addr": 16, "len": 24, "user_data": 32, "buf_index": 40}[name]
		if got != want {
			t.Errorf("io_uring_sqe.%s at %d, want %d", name, got, want)
		}
	}
}

// TestURingNopsWrapAround submits NOPs through more than the ring's size,
// so the indexes wrap, and reaps each one's user_data exactly once.
func TestURingNopsWrapAround(t *testing.T) {
	r := newRing(t, 8)
	seen := map[uint64]int{}
	cqes := make([]URingCQE, 16)
	for round := uint64(0); round < 10; round++ {
		for i := uint64(0); i < 5; i++ {
			sqe := r.SQE()
			if sqe == nil {
				t.Fatal("SQ full with 5 of 8 in use")
			}
			sqe.Opcode, sqe.UserData = IORING_OP_NOP, round*100+i
		}
		if n, err := r.Submit(5); err != nil || n != 5 {
			t.Fatalf("submit: %d, %v", n, err)
		}
		for got := 0; got < 5; {
			n := r.Reap(cqes)
			for _, c := range cqes[:n] {
				seen[c.UserData]++
				if c.Res != 0 {
					t.Errorf("nop %d: res %d", c.UserData, c.Res)
				}
			}
			got += n
		}
	}
	if len(seen) != 50 {
		t.Fatalf("%d distinct completions, want 50", len(seen))
	}
	for k, v := range seen {
		if v != 1 {
			t.Errorf("user_data %d reaped %d times", k, v)
		}
	}
}

// TestURingReadSignalsEventfd reads a file through the ring with an
// eventfd registered: the bytes are the file's and the eventfd counts the
// completion.
func TestURingReadSignalsEventfd(t *testing.T) {
	r := newRing(t, 4)
	efd, err := Eventfd()
	if err != nil {
		t.Fatal(err)
	}
	defer CloseFd(efd)
	if err := r.RegisterEventfd(efd); err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte("io_uring "), 1000)
	path := filepath.Join(t.TempDir(), "f")
	os.WriteFile(path, want, 0o644)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	sqe := r.SQE()
	sqe.Opcode, sqe.Fd, sqe.Off, sqe.UserData = IORING_OP_READ, int32(f.Fd()), 100, 7
	sqe.SetBuffer(buf)
	if _, err := r.Submit(1); err != nil {
		t.Fatal(err)
	}
	cqes := make([]URingCQE, 1)
	if n := r.Reap(cqes); n != 1 || cqes[0].UserData != 7 || cqes[0].Res != 4096 {
		t.Fatalf("reaped %d: %+v", n, cqes[0])
	}
	if !bytes.Equal(buf, want[100:100+4096]) {
		t.Fatal("the bytes read are not the file's")
	}
	var b [8]byte
	n, err := unix.Read(efd, b[:])
	if err != nil || n != 8 || b[0] == 0 {
		t.Fatalf("eventfd: %d %v %v", n, err, b)
	}
}

// TestURingRegisterLayout checks the sizes of the structs the queue hands
// to io_uring_enter and io_uring_register: io_uring_getevents_arg (24),
// io_uring_sync_cancel_reg (64), io_uring_files_update (16).
func TestURingRegisterLayout(t *testing.T) {
	for name, c := range map[string]struct{ got, want uintptr }{
		"io_uring_getevents_arg":   {unsafe.Sizeof(uringGeteventsArg{}), 24},
		"io_uring_sync_cancel_reg": {unsafe.Sizeof(uringSyncCancel{}), 64},
		"io_uring_files_update":    {unsafe.Sizeof(uringFilesUpdate{}), 16},
	} {
		if c.got != c.want {
			t.Errorf("%s is %d bytes, want %d", name, c.got, c.want)
		}
	}
	var s uringSyncCancel
	if off := unsafe.Offsetof(s.timeout); off != 16 {
		t.Errorf("io_uring_sync_cancel_reg.timeout at %d, want 16", off)
	}
	if off := unsafe.Offsetof(s.opcode); off != 32 {
		t.Errorf("io_uring_sync_cancel_reg.opcode at %d, want 32", off)
	}
}
