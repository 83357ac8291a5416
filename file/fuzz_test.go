//go:build linux

package file_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/goiocp/goiocp/file"
	"github.com/goiocp/goiocp/internal/testutil"
	"golang.org/x/sys/unix"
)

// FuzzFile runs a sequence of ReadAt, WriteAt, Sync and Datasync calls on
// a File against a model of the file in memory, on the disk and tmpfs,
// buffered and O_DIRECT (with aligned buffers, offsets and lengths, and
// misaligned ones: a write must fail with EINVAL, having written no more
// than ext4 does (its aligned part: the model is reloaded), a read fail so
// or, where the kernel clips it to end of file, read right). Each
// step is 4 bytes: op, and three bytes of offset and length; steps run two
// at a time from two goroutines when they touch different bytes. At the
// end the file must equal the model.
func FuzzFile(f *testing.F) {
	f.Add([]byte{0, 0, 1, 2, 1, 3, 4, 5, 2, 0, 0, 0, 0, 9, 9, 9})
	f.Add([]byte{5, 1, 0, 3, 1, 0x81, 0x10, 7, 0, 0x80, 0, 1, 4, 0, 0, 0})
	disk, tmpfs := f.TempDir(), testutil.TmpfsDir(f)
	// A File held open for the whole run keeps the shared ports: made and
	// closed per input, their io_destroy (an RCU grace period each) would
	// dominate the run.
	keep, err := file.Open(filepath.Join(disk, "keep"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { keep.Close() })
	f.Fuzz(func(t *testing.T, prog []byte) {
		if len(prog) > 256 {
			prog = prog[:256]
		}
		for _, dir := range []string{disk, tmpfs} {
			for _, direct := range []bool{false, true} {
				// ext4 refuses misaligned O_DIRECT with EINVAL; tmpfs takes it.
				fuzzOne(t, dir, direct, direct && dir == disk, prog)
			}
		}
	})
}

const fuzzSize = 64 << 10

func fuzzOne(t *testing.T, dir string, direct, strict bool, prog []byte) {
	name := filepath.Join(dir, "fuzz")
	model := testutil.Pattern(9, fuzzSize)
	if err := os.WriteFile(name, model, 0o644); err != nil {
		t.Fatal(err)
	}
	flag := os.O_RDWR
	if direct {
		flag |= syscall.O_DIRECT
	}
	f, err := file.Open(name, flag, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size := int64(fuzzSize)
	// What the kernel requires of O_DIRECT offsets and lengths here
	// (statx STATX_DIOALIGN): the device's logical block, 512 on virtio.
	align := int64(4096)
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, name, 0, unix.STATX_DIOALIGN, &stx); err == nil && stx.Dio_offset_align > 0 {
		align = int64(stx.Dio_offset_align)
	}
	step := func(op []byte, buf []byte) error {
		kind := op[0] % 6
		off := int64(op[1]) << 9 // 512-byte steps: aligned for O_DIRECT when a multiple of 8
		n := int(op[2])<<5 + int(op[3]&31)
		aligned := op[3]&0x80 == 0
		if direct && aligned {
			off, n = off&^4095, (n+4095)&^4095
		}
		if n == 0 {
			n = 1
		}
		b := buf[:n]
		misaligned := strict && (off%align != 0 || int64(n)%align != 0)
		switch kind {
		case 0, 1, 2: // read
			got, err := f.ReadAt(b, off)
			switch {
			case misaligned && errors.Is(err, syscall.EINVAL):
				// What the kernel says of a misaligned direct read. It may
				// also read it (at or across end of file, ext4 clips the
				// request to the file first): then the bytes must be right.
			case off+int64(n) > size:
				want := max(0, size-off)
				if int64(got) != want || err != io.EOF || !bytes.Equal(b[:got], model[min(off, size):size]) {
					return fmt.Errorf("read at %d+%d past end %d: %d, %v", off, n, size, got, err)
				}
			default:
				if got != n || err != nil || !bytes.Equal(b, model[off:off+int64(n)]) {
					return fmt.Errorf("read at %d+%d: %d, %v", off, n, got, err)
				}
			}
		case 3, 4: // write
			for i := range b {
				b[i] = op[0] + byte(i)
			}
			got, err := f.WriteAt(b, off)
			if misaligned {
				if !errors.Is(err, syscall.EINVAL) {
					return fmt.Errorf("misaligned O_DIRECT write at %d+%d: %d, %v", off, n, got, err)
				}
				// ext4 writes the aligned part before it refuses the rest
				// (as a plain pwrite does): take the file as it is now.
				cur, err := os.ReadFile(name)
				if err != nil {
					return err
				}
				model, size = cur, int64(len(cur))
				return nil
			}
			if got != n || err != nil {
				return fmt.Errorf("write at %d+%d: %d, %v", off, n, got, err)
			}
			if end := off + int64(n); end > size {
				model = append(model, make([]byte, end-size)...)
				size = end
			}
			copy(model[off:], b)
		case 5:
			sync := f.Sync
			if op[1]&1 != 0 {
				sync = f.Datasync
			}
			if err := sync(); err != nil {
				return fmt.Errorf("sync: %v", err)
			}
		}
		return nil
	}
	bufs := [2][]byte{file.AlignedBuffer(16 << 10), file.AlignedBuffer(16 << 10)}
	for len(prog) >= 4 {
		// Two steps at once when both read, or touch distant bytes.
		if len(prog) >= 8 && prog[0]%6 < 3 && prog[4]%6 < 3 {
			var wg sync.WaitGroup
			var ea, eb error
			a, b := prog[:4], prog[4:8]
			// The model is read only: both may run together.
			wg.Go(func() { ea = step(a, bufs[0]) })
			wg.Go(func() { eb = step(b, bufs[1]) })
			wg.Wait()
			if err := errors.Join(ea, eb); err != nil {
				t.Fatal(err)
			}
			prog = prog[8:]
			continue
		}
		if err := step(prog[:4], bufs[0]); err != nil {
			t.Fatal(err)
		}
		prog = prog[4:]
	}
	got, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if i := testutil.Equal(got, model); i >= 0 {
		t.Fatalf("%s, direct %v: file (%d bytes) differs from the model (%d bytes) at %d", dir, direct, len(got), len(model), i)
	}
}
