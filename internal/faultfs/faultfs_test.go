//go:build linux

package faultfs_test

import (
	"bytes"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/goiocp/goiocp/internal/faultfs"
)

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

func open(t *testing.T, path string, flag int) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestReadWrite(t *testing.T) {
	want := pattern(64 << 10)
	file := faultfs.MountFile(t, "data", want, faultfs.Options{})
	f := open(t, file.Path(), os.O_RDWR)
	got := make([]byte, len(want))
	if n, err := f.ReadAt(got, 0); n != len(want) || err != nil {
		t.Fatalf("ReadAt = %d, %v", n, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("read data differs")
	}
	if _, err := f.WriteAt([]byte("hello"), 100); err != nil {
		t.Fatal(err)
	}
	copy(want[100:], "hello")
	if !bytes.Equal(file.Data(), want) {
		t.Fatal("written data differs")
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != int64(len(want)) {
		t.Fatalf("Stat = %v, %v", fi, err)
	}
}

func TestFaults(t *testing.T) {
	data := pattern(16 << 10)
	fsys := faultfs.Mount(t, faultfs.Options{})
	file := fsys.AddFile("data", data)
	file.SetRules(
		faultfs.Rule{Op: faultfs.Read, Off: 4096, Len: 4096, Err: syscall.EIO},
		faultfs.Rule{Op: faultfs.Read, Off: 8192, Short: 100},
		faultfs.Rule{Op: faultfs.Read, Off: 12288, Delay: 200 * time.Millisecond},
		faultfs.Rule{Op: faultfs.Write, Off: 0, Err: syscall.ENOSPC, Times: 1},
	)
	f := open(t, file.Path(), os.O_RDWR)
	buf := make([]byte, 4096)
	if _, err := f.ReadAt(buf, 0); err != nil {
		t.Fatalf("read at 0: %v", err)
	}
	if _, err := f.ReadAt(buf, 4096); !errors.Is(err, syscall.EIO) {
		t.Fatalf("read at 4096: %v, want EIO", err)
	}
	n, err := syscall.Pread(int(f.Fd()), buf, 8192)
	if n != 100 || err != nil || !bytes.Equal(buf[:100], data[8192:8292]) {
		t.Fatalf("short read = %d, %v", n, err)
	}
	start := time.Now()
	if _, err := f.ReadAt(buf, 12288); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("delayed read took %v", d)
	}
	if _, err := f.WriteAt([]byte("x"), 0); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write: %v, want ENOSPC", err)
	}
	if _, err := f.WriteAt([]byte("x"), 0); err != nil {
		t.Fatalf("second write: %v (rule had Times 1)", err)
	}
	log := file.Requests()
	if len(log) < 6 {
		t.Fatalf("log has %d requests: %v", len(log), log)
	}
}

func TestHoldReleasedAtUnmount(t *testing.T) {
	hold := make(chan struct{}) // never closed: the unmount must release it
	done := make(chan error, 1)
	t.Run("mount", func(t *testing.T) {
		file := faultfs.MountFile(t, "data", pattern(4096), faultfs.Options{})
		file.SetRules(faultfs.Rule{Op: faultfs.Read, Off: 0, Hold: hold})
		f, err := os.Open(file.Path())
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			_, err := f.ReadAt(make([]byte, 10), 0)
			f.Close()
			done <- err
		}()
		time.Sleep(50 * time.Millisecond)
		select {
		case err := <-done:
			t.Fatalf("held read returned early: %v", err)
		default:
		}
		// The subtest ends with the read held: the unmount must release it.
	})
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("released read: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("held read not released by the unmount")
	}
}
