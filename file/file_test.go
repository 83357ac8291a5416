//go:build linux

package file_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"github.com/goiocp/goiocp/file"
	"github.com/goiocp/goiocp/internal/faultfs"
	"github.com/goiocp/goiocp/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(testutil.RunChecked(m)) }

// dirs are the places the tests run: the disk's temp dir and tmpfs.
func dirs(t *testing.T) map[string]string {
	return map[string]string{"disk": t.TempDir(), "tmpfs": testutil.TmpfsDir(t)}
}

// mkFile writes data to a new file in dir and opens it with flag.
func mkFile(t *testing.T, dir string, data []byte, flag int) *file.File {
	t.Helper()
	name := filepath.Join(dir, "f")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := file.Open(name, flag, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestReaderContract: testing/iotest's checks of io.ReaderAt through a
// SectionReader, buffered, on the disk and on tmpfs.
func TestReaderContract(t *testing.T) {
	data := testutil.Pattern(1, 100_000)
	for name, dir := range dirs(t) {
		t.Run(name, func(t *testing.T) {
			f := mkFile(t, dir, data, os.O_RDONLY)
			if err := iotest.TestReader(io.NewSectionReader(f, 0, int64(len(data))), data); err != nil {
				t.Fatal(err)
			}
			// Past the end: io.EOF with what there was.
			buf := make([]byte, 100)
			if n, err := f.ReadAt(buf, int64(len(data))-40); n != 40 || err != io.EOF || !bytes.Equal(buf[:40], data[len(data)-40:]) {
				t.Errorf("ReadAt across end = %d, %v", n, err)
			}
			if n, err := f.ReadAt(buf, int64(len(data))+10); n != 0 || err != io.EOF {
				t.Errorf("ReadAt past end = %d, %v", n, err)
			}
			if _, err := f.ReadAt(buf, -1); err == nil {
				t.Error("negative offset accepted")
			}
		})
	}
}

// TestParallelReadsDirect: 64 goroutines of random O_DIRECT reads through
// the ports, every byte checked, on the disk and tmpfs.
func TestParallelReadsDirect(t *testing.T) {
	data := testutil.Pattern(2, 4<<20)
	for name, dir := range dirs(t) {
		t.Run(name, func(t *testing.T) {
			f := mkFile(t, dir, data, os.O_RDONLY|syscall.O_DIRECT)
			var wg sync.WaitGroup
			for g := range 64 {
				wg.Go(func() {
					r := rand.New(rand.NewPCG(uint64(g), 3))
					buf := file.AlignedBuffer(8192)
					for range 50 {
						off := r.Int64N(int64(len(data)/4096-2)) * 4096
						n, err := f.ReadAt(buf, off)
						if err != nil || n != len(buf) || !bytes.Equal(buf, data[off:off+int64(n)]) {
							t.Errorf("ReadAt(%d) = %d, %v, equal %v", off, n, err, bytes.Equal(buf[:n], data[off:off+int64(n)]))
							return
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

// TestDirectAlignment: a misaligned buffer, offset or length on an
// O_DIRECT File fails with EINVAL; an AlignedBuffer works.
func TestDirectAlignment(t *testing.T) {
	f := mkFile(t, t.TempDir(), testutil.Pattern(3, 1<<16), os.O_RDWR|syscall.O_DIRECT)
	buf := file.AlignedBuffer(8192)
	if len(buf) != 8192 || cap(buf) != 8192 {
		t.Fatalf("AlignedBuffer len %d cap %d", len(buf), cap(buf))
	}
	for _, c := range []struct {
		name string
		b    []byte
		off  int64
	}{{"buffer", buf[1:4097], 0}, {"offset", buf[:4096], 100}, {"length", buf[:100], 0}} {
		if _, err := f.ReadAt(c.b, c.off); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("misaligned %s: %v, want EINVAL", c.name, err)
		}
		var pe *os.PathError
		if _, err := f.WriteAt(c.b, c.off); !errors.Is(err, syscall.EINVAL) || !errors.As(err, &pe) {
			t.Errorf("misaligned %s write: %v, want an *os.PathError with EINVAL", c.name, err)
		}
	}
	if n, err := f.ReadAt(buf[:4096], 4096); n != 4096 || err != nil {
		t.Errorf("aligned read = %d, %v", n, err)
	}
}

// TestParallelWritesSync: 32 goroutines write their own blocks in
// parallel, Sync, and the file reads back as written, buffered and O_DIRECT.
func TestParallelWritesSync(t *testing.T) {
	for _, direct := range []bool{false, true} {
		t.Run(map[bool]string{false: "buffered", true: "direct"}[direct], func(t *testing.T) {
			flag := os.O_RDWR
			if direct {
				flag |= syscall.O_DIRECT
			}
			f := mkFile(t, t.TempDir(), make([]byte, 32*16384), flag)
			want := testutil.Pattern(4, 32*16384)
			var wg sync.WaitGroup
			for g := range 32 {
				wg.Go(func() {
					buf := file.AlignedBuffer(16384)
					copy(buf, want[g*16384:])
					if n, err := f.WriteAt(buf, int64(g)*16384); n != len(buf) || err != nil {
						t.Errorf("WriteAt = %d, %v", n, err)
					}
				})
			}
			wg.Wait()
			if err := f.Sync(); err != nil {
				t.Fatal(err)
			}
			if err := f.Datasync(); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(f.Name())
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("read back %d bytes, equal %v, %v", len(got), bytes.Equal(got, want), err)
			}
		})
	}
}

// TestClosed: after Close every method fails with os.ErrClosed; so does a
// second Close.
func TestClosed(t *testing.T) {
	f := mkFile(t, t.TempDir(), []byte("abc"), os.O_RDWR)
	if st, err := f.Stat(); err != nil || st.Size() != 3 {
		t.Fatalf("Stat = %v, %v", st, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	for name, err := range map[string]error{
		"ReadAt":   second(f.ReadAt(b, 0)),
		"WriteAt":  second(f.WriteAt(b, 0)),
		"Sync":     f.Sync(),
		"Datasync": f.Datasync(),
		"Stat":     second(f.Stat()),
		"Close":    f.Close(),
	} {
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("%s after Close: %v", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// TestAppend: WriteAt on an O_APPEND File is refused, as os.File does.
func TestAppend(t *testing.T) {
	f := mkFile(t, t.TempDir(), nil, os.O_RDWR|os.O_APPEND)
	if _, err := f.WriteAt([]byte("x"), 0); err == nil {
		t.Error("WriteAt on O_APPEND accepted")
	}
}

// slowFile mounts a FUSE file whose reads are held until release, and
// opens it as a File.
func slowFile(t *testing.T, size int, hold chan struct{}) *file.File {
	t.Helper()
	ff := faultfs.MountFile(t, "data", testutil.Pattern(5, size), faultfs.Options{})
	ff.SetRules(faultfs.Rule{Op: faultfs.Read, Len: 1 << 30, Hold: hold})
	f, err := file.Open(ff.Path(), os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestManyBlockedReadsFewThreads: 3,000 goroutines blocked in ReadAt on a
// FUSE file that holds every read add only a few threads.
func TestManyBlockedReadsFewThreads(t *testing.T) {
	hold := make(chan struct{})
	f := slowFile(t, 1<<20, hold)
	runtime.GC()
	idle := testutil.Threads(t)
	var wg sync.WaitGroup
	var returned atomic.Int32
	for g := range 3000 {
		wg.Go(func() {
			buf := make([]byte, 64)
			if n, err := f.ReadAt(buf, int64(g)*64%(1<<20)); n != 64 || err != nil {
				t.Errorf("ReadAt = %d, %v", n, err)
			}
			returned.Add(1)
		})
	}
	time.Sleep(500 * time.Millisecond)
	peak := testutil.Threads(t)
	if n := returned.Load(); n != 0 {
		t.Fatalf("%d reads returned while the file system held every read", n)
	}
	close(hold)
	wg.Wait()
	// The FUSE server itself runs in this process and takes threads for
	// the requests it holds; the bound allows for them.
	if peak > idle+40 {
		t.Errorf("%d threads with 3,000 reads blocked, %d idle", peak, idle)
	}
	t.Logf("threads: %d idle, %d with 3,000 reads blocked", idle, peak)
}

// TestContextCancel: a done context returns ctx.Err() at once; one
// cancelled while the read waits returns promptly once its read is
// cancelled or finished, and the buffer is not touched afterwards.
func TestContextCancel(t *testing.T) {
	f := mkFile(t, t.TempDir(), testutil.Pattern(6, 8192), os.O_RDONLY)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n, err := f.ReadAtContext(ctx, make([]byte, 10), 0); n != 0 || err != context.Canceled {
		t.Errorf("ReadAtContext(done) = %d, %v", n, err)
	}
	if n, err := f.WriteAtContext(ctx, make([]byte, 10), 0); n != 0 || err != context.Canceled {
		t.Errorf("WriteAtContext(done) = %d, %v", n, err)
	}

	hold := make(chan struct{})
	sf := slowFile(t, 1<<16, hold)
	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	errc := make(chan error, 1)
	go func() {
		_, err := sf.ReadAtContext(ctx, make([]byte, 4096), 0)
		errc <- err
	}()
	time.Sleep(300 * time.Millisecond)
	close(hold) // the kernel cannot cancel a FUSE read it sent: it is waited for
	select {
	case err := <-errc:
		if err != context.DeadlineExceeded {
			t.Errorf("ReadAtContext = %v, want DeadlineExceeded", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReadAtContext did not return")
	}
	t.Logf("returned after %v", time.Since(start))
}

// TestCloseWaitsForCalls: Close while reads are blocked waits for them;
// they return (with their data), then the file closes, nothing leaks.
func TestCloseWaitsForCalls(t *testing.T) {
	hold := make(chan struct{})
	f := slowFile(t, 1<<16, hold)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if n, err := f.ReadAt(make([]byte, 100), 0); n != 100 || err != nil {
				t.Errorf("blocked ReadAt = %d, %v", n, err)
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- f.Close() }()
	select {
	case <-closed:
		t.Fatal("Close returned while reads were in flight")
	case <-time.After(100 * time.Millisecond):
	}
	close(hold)
	wg.Wait()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
}

// TestFUSEFaults: EIO and short reads from a real file system come through
// File as the io.ReaderAt contract says: EIO as an *os.PathError, short
// reads continued to the full length.
func TestFUSEFaults(t *testing.T) {
	data := testutil.Pattern(7, 1<<16)
	ff := faultfs.MountFile(t, "data", data, faultfs.Options{})
	ff.SetRules(
		faultfs.Rule{Op: faultfs.Read, Off: 8192, Len: 4096, Err: syscall.EIO},
		faultfs.Rule{Op: faultfs.Read, Off: 16384, Len: 4096, Short: 100},
	)
	f, err := file.Open(ff.Path(), os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	var pe *os.PathError
	if _, err := f.ReadAt(buf, 8192); !errors.Is(err, syscall.EIO) || !errors.As(err, &pe) {
		t.Errorf("read of a failing block: %v, want *os.PathError EIO", err)
	}
	if n, err := f.ReadAt(buf, 16384); n != 4096 || err != nil || !bytes.Equal(buf, data[16384:20480]) {
		t.Errorf("short reads continued: %d, %v", n, err)
	}
}
