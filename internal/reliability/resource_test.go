//go:build linux

package reliability_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/internal/faultfs"
	"github.com/goiocp/goiocp/internal/testutil"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
	"golang.org/x/sys/unix"
)

// outcome is what one request ended with.
type outcome struct {
	n   int
	err error
}

// runBatch submits list (NoWait) and returns each entry's outcome from its
// packet, checking that Return agrees with it.
func runBatch(t *testing.T, p *port.Port, list []*aiocb.AIOCB) map[*aiocb.AIOCB]outcome {
	t.Helper()
	err := submit.ListIO(submit.NoWait, list, nil)
	if err != nil {
		t.Fatalf("ListIO: %v", err)
	}
	return packetsOf(t, collect(t, p, len(list)))
}

func packetsOf(t *testing.T, pkts map[*aiocb.AIOCB]completion.Packet) map[*aiocb.AIOCB]outcome {
	t.Helper()
	out := map[*aiocb.AIOCB]outcome{}
	for cb, pkt := range pkts {
		n, err := submit.Return(cb)
		if pkt.Err != nil {
			if n != -1 || !errors.Is(err, pkt.Err) {
				t.Errorf("offset %d: packet %v but Return %d %v", cb.Offset, pkt.Err, n, err)
			}
			out[cb] = outcome{-1, pkt.Err}
			continue
		}
		if n != pkt.Bytes || err != nil {
			t.Errorf("offset %d: packet %d bytes but Return %d %v", cb.Offset, pkt.Bytes, n, err)
		}
		out[cb] = outcome{pkt.Bytes, nil}
	}
	return out
}

// entry returns a ListIO entry on p.
func entry(p *port.Port, op aiocb.Opcode, fd int, off int64, buf []byte) *aiocb.AIOCB {
	cb := portCB(p, fd, off, buf)
	cb.Opcode = op
	return cb
}

// preadAll reads n bytes of fd from offset 0 (fewer at end of file).
func preadAll(t *testing.T, fd int, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	got := 0
	for got < n {
		m, err := unix.Pread(fd, b[got:], int64(got))
		if err != nil {
			t.Fatalf("pread: %v", err)
		}
		if m == 0 {
			break
		}
		got += m
	}
	return b[:got]
}

// tinyTmpfs mounts a tmpfs of size bytes in a private mount namespace (of
// one locked OS thread, which exits afterwards: nothing is left mounted
// where anyone else can see it) and returns an fd of a new empty file on it.
func tinyTmpfs(t *testing.T, size string) int {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a private mount namespace needs root")
	}
	dir := t.TempDir()
	type res struct {
		fd  int
		err error
	}
	c := make(chan res, 1)
	go func() {
		// Never unlocked: the thread, with its namespace, ends with the
		// goroutine.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
			c <- res{-1, fmt.Errorf("unshare mount namespace: %w", err)}
			return
		}
		if err := unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
			c <- res{-1, fmt.Errorf("make mounts private: %w", err)}
			return
		}
		if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
			c <- res{-1, fmt.Errorf("mount tmpfs: %w", err)}
			return
		}
		fd, err := unix.Open(filepath.Join(dir, "data"), unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
		c <- res{fd, err}
	}()
	r := <-c
	if r.err != nil {
		if errors.Is(r.err, syscall.EPERM) {
			t.Skipf("no private tmpfs here: %v", r.err)
		}
		t.Fatal(r.err)
	}
	t.Cleanup(func() { unix.Close(r.fd) })
	return r.fd
}

// TestENOSPC: writes to a full file system: the ones that fit succeed
// (the last may be short), the rest fail with ENOSPC each in its own packet,
// a read and an fsync beside them succeed, and the file holds exactly the
// bytes the successful writes reported.
func TestENOSPC(t *testing.T) {
	fd := tinyTmpfs(t, "64k")
	p := newPort(t)
	associate(t, p, fd, 3)
	const chunk = 8 << 10
	data := testutil.Pattern(11, 12*chunk)
	var list []*aiocb.AIOCB
	for i := range 12 {
		off := int64(i * chunk)
		list = append(list, entry(p, aiocb.OpWrite, fd, off, data[off:off+chunk]))
	}
	out := runBatch(t, p, list)
	end, nospc := 0, 0
	for _, cb := range list {
		o := out[cb]
		switch {
		case errors.Is(o.err, syscall.ENOSPC):
			nospc++
		case o.err != nil:
			t.Errorf("write at %d: %v, want success or ENOSPC", cb.Offset, o.err)
		case o.n > 0:
			end = max(end, int(cb.Offset)+o.n)
		}
	}
	if nospc == 0 {
		t.Fatal("no write failed with ENOSPC on a 64 KiB tmpfs holding 96 KiB")
	}
	file := preadAll(t, fd, 12*chunk)
	if len(file) != end {
		t.Fatalf("file is %d bytes, the successful writes end at %d", len(file), end)
	}
	for _, cb := range list {
		if o := out[cb]; o.err == nil && !bytes.Equal(file[cb.Offset:cb.Offset+int64(o.n)], cb.Buf[:o.n]) {
			t.Errorf("write at %d succeeded with %d bytes but the file differs", cb.Offset, o.n)
		}
	}
	t.Logf("ENOSPC: %d of 12 writes failed; the file holds %d bytes", nospc, end)
	r := entry(p, aiocb.OpRead, fd, 0, make([]byte, chunk))
	f := portCB(p, fd, 0, nil)
	if err := submit.Read(r); err != nil {
		t.Fatal(err)
	}
	if err := submit.Fsync(unix.O_SYNC, f); err != nil {
		t.Fatal(err)
	}
	got := collect(t, p, 2)
	if pkt := got[r]; pkt.Err != nil || !bytes.Equal(r.Buf[:pkt.Bytes], data[:pkt.Bytes]) || pkt.Bytes != min(chunk, end) {
		t.Errorf("read on the full file system: %d %v", pkt.Bytes, pkt.Err)
	}
	if pkt := got[f]; pkt.Err != nil {
		t.Errorf("fsync on the full file system: %v", pkt.Err)
	}
}

// efbigEnv names the file the EFBIG child writes; see TestMain.
const efbigEnv = "GOIOCP_EFBIG_CHILD"

// efbigLimit is the child's RLIMIT_FSIZE.
const efbigLimit = 64 << 10

// efbigChild runs in a child process: with RLIMIT_FSIZE at efbigLimit and
// SIGXFSZ ignored it writes below, across and beyond the limit through a
// port and the default context, and prints each outcome as
// "offset bytes errno".
func efbigChild(path string) int {
	signal.Ignore(syscall.SIGXFSZ)
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: efbigLimit, Max: efbigLimit}); err != nil {
		fmt.Println("setrlimit:", err)
		return 1
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer f.Close()
	fd := int(f.Fd())
	p, err := port.Create(fd, nil, 1, 0)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer p.Close()
	const chunk = 16 << 10
	data := testutil.Pattern(12, 6*chunk)
	var cbs []*aiocb.AIOCB
	for i := range 6 {
		// 0..48 KiB fit; the write at 48 KiB asks for 100 bytes more than
		// the 16 KiB left under the limit; the fifth and sixth are past it.
		off := int64(i * chunk)
		buf := data[off : off+chunk]
		if i == 3 {
			buf = data[off : off+chunk+100]
		}
		cb := portCB(p, fd, off, buf)
		if i == 5 {
			cb = &aiocb.AIOCB{Fildes: fd, Offset: off, Buf: buf} // default context
		}
		if err := submit.Write(cb); err != nil {
			fmt.Printf("%d submit %v\n", off, err)
			continue
		}
		cbs = append(cbs, cb)
	}
	for _, cb := range cbs {
		end := time.Now().Add(deadline)
		for submit.Error(cb) == syscall.EINPROGRESS && time.Now().Before(end) {
			time.Sleep(time.Millisecond)
		}
		n, err := submit.Return(cb)
		e := 0
		if errno, ok := err.(syscall.Errno); ok {
			e = int(errno)
		} else if err != nil {
			fmt.Printf("%d error %v\n", cb.Offset, err)
			continue
		}
		fmt.Printf("%d %d %d\n", cb.Offset, n, e)
	}
	return 0
}

// TestEFBIG: in a child process limited by RLIMIT_FSIZE (SIGXFSZ ignored),
// writes below the limit succeed, one across it is cut short at the limit,
// ones beyond it fail with EFBIG (port and default context alike), and the
// file holds exactly the bytes written.
func TestEFBIG(t *testing.T) {
	path := tempPath(t)
	ctx := exec.Command(os.Args[0], "-test.run=^$")
	ctx.Env = append(os.Environ(), efbigEnv+"="+path)
	out, err := ctx.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	data := testutil.Pattern(12, 6*(16<<10))
	results := map[int64]outcome{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			continue
		}
		off, err1 := strconv.ParseInt(f[0], 10, 64)
		n, err2 := strconv.Atoi(f[1])
		e, err3 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("child said %q", sc.Text())
		}
		var rerr error
		if e != 0 {
			rerr = syscall.Errno(e)
		}
		results[off] = outcome{n, rerr}
	}
	want := map[int64]outcome{
		0: {16 << 10, nil}, 16 << 10: {16 << 10, nil}, 32 << 10: {16 << 10, nil},
		48 << 10: {16 << 10, nil}, // 16 KiB + 100 asked, cut at the limit
		64 << 10: {-1, syscall.EFBIG}, 80 << 10: {-1, syscall.EFBIG},
	}
	for off, w := range want {
		if g, ok := results[off]; !ok || g.n != w.n || g.err != w.err {
			t.Errorf("write at %d: %+v, want %+v\nchild output:\n%s", off, g, w, out)
		}
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	wantFile := data[:efbigLimit]
	if i := testutil.Equal(file, wantFile); i >= 0 {
		t.Fatalf("file (%d bytes) differs from what succeeded at byte %d", len(file), i)
	}
}

// TestEFAULT: reading into or writing from memory the kernel cannot touch
// fails that request alone with EFAULT, on a buffered and an O_DIRECT file,
// on a port and the default context; the file keeps its bytes.
func TestEFAULT(t *testing.T) {
	for _, direct := range []bool{false, true} {
		t.Run(map[bool]string{false: "buffered", true: "direct"}[direct], func(t *testing.T) {
			flag := 0
			if direct {
				flag = unix.O_DIRECT
			}
			data := testutil.Pattern(13, 8*blk)
			_, fd := createFile(t, tempPath(t), data, flag)
			p := newPort(t)
			associate(t, p, fd, 5)
			bad := testutil.Faulting(t, blk)
			good := testutil.Aligned(t, 4*blk)
			copy(good[2*blk:], testutil.Pattern(14, 2*blk))
			list := []*aiocb.AIOCB{
				entry(p, aiocb.OpRead, fd, 0, bad),
				entry(p, aiocb.OpRead, fd, blk, good[:blk]),
				entry(p, aiocb.OpWrite, fd, 2*blk, bad),
				entry(p, aiocb.OpWrite, fd, 3*blk, good[2*blk:3*blk]),
			}
			out := runBatch(t, p, list)
			for i, cb := range list {
				o := out[cb]
				if i%2 == 0 {
					if !errors.Is(o.err, syscall.EFAULT) {
						t.Errorf("%v from PROT_NONE memory: %+v, want EFAULT", cb.Opcode, o)
					}
				} else if o.err != nil || o.n != blk {
					t.Errorf("%v beside it: %+v", cb.Opcode, o)
				}
			}
			if !bytes.Equal(good[:blk], data[blk:2*blk]) {
				t.Error("good read: wrong data")
			}
			dflt := &aiocb.AIOCB{Fildes: fd, Offset: 4 * blk, Buf: bad}
			if err := submit.Write(dflt); err != nil {
				t.Fatal(err)
			}
			if n, err := final(t, dflt); n != -1 || !errors.Is(err, syscall.EFAULT) {
				t.Errorf("default-context write from PROT_NONE: %d %v, want EFAULT", n, err)
			}
			want := append([]byte(nil), data...)
			copy(want[3*blk:], good[2*blk:3*blk])
			if i := testutil.Equal(preadAll(t, fd, len(data)+blk), want); i >= 0 {
				t.Fatalf("file differs at byte %d", i)
			}
		})
	}
}

// TestEBADF: a file that is not open, open read-only for a write or
// write-only for a read, or a port fd that is no port: the submit fails at
// once with EBADF, makes no packet and does no I/O; in a ListIO batch only
// that entry fails.
func TestEBADF(t *testing.T) {
	data := testutil.Pattern(15, 4*blk)
	path := tempPath(t)
	_, rw := createFile(t, path, data, 0)
	ro, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	wo, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer wo.Close()
	p := newPort(t)
	for _, fd := range []int{rw, int(ro.Fd()), int(wo.Fd())} {
		associate(t, p, fd, uintptr(fd))
	}
	const notOpen = 1 << 20
	junk := testutil.Pattern(16, blk)
	cases := []struct {
		name string
		cb   *aiocb.AIOCB
		op   func(*aiocb.AIOCB) error
	}{
		{"read of a fd not open", &aiocb.AIOCB{Fildes: notOpen, Buf: make([]byte, blk)}, submit.Read},
		{"write to a read-only file", portCB(p, int(ro.Fd()), 0, junk), submit.Write},
		{"read of a write-only file", portCB(p, int(wo.Fd()), 0, make([]byte, blk)), submit.Read},
		{"write to the default context, read-only file", &aiocb.AIOCB{Fildes: int(ro.Fd()), Buf: junk}, submit.Write},
		{"IOCPFD naming a file, not a port", &aiocb.AIOCB{Fildes: rw, Buf: junk, Flags: aiocb.Extended, Version: aiocb.Vers2, IOCPFD: rw}, submit.Write},
		{"fsync of a fd not open", portCB(p, notOpen, 0, nil), func(cb *aiocb.AIOCB) error { return submit.Fsync(unix.O_SYNC, cb) }},
	}
	for _, c := range cases {
		if err := c.op(c.cb); !errors.Is(err, syscall.EBADF) {
			t.Errorf("%s: %v, want EBADF", c.name, err)
		}
	}
	if err := p.Associate(notOpen, 1); !errors.Is(err, syscall.EBADF) {
		t.Errorf("Associate(fd not open): %v, want EBADF", err)
	}
	if _, err := submit.Cancel(notOpen, nil); !errors.Is(err, syscall.EBADF) {
		t.Errorf("Cancel(fd not open): %v, want EBADF", err)
	}
	// In a batch: the bad entries fail alone.
	good := entry(p, aiocb.OpRead, rw, blk, make([]byte, blk))
	goodW := entry(p, aiocb.OpWrite, rw, 2*blk, testutil.Pattern(17, blk))
	badR := &aiocb.AIOCB{Fildes: notOpen, Buf: make([]byte, blk), Opcode: aiocb.OpRead}
	badW := entry(p, aiocb.OpWrite, int(ro.Fd()), 3*blk, junk)
	err = submit.ListIO(submit.Wait, []*aiocb.AIOCB{badR, good, badW, goodW}, nil)
	if !errors.Is(err, syscall.EIO) {
		t.Errorf("ListIO with bad entries: %v, want EIO", err)
	}
	for _, cb := range []*aiocb.AIOCB{badR, badW} {
		if err := submit.Error(cb); !errors.Is(err, syscall.EBADF) {
			t.Errorf("bad entry status: %v, want EBADF", err)
		}
		if n, err := submit.Return(cb); n != -1 || !errors.Is(err, syscall.EBADF) {
			t.Errorf("bad entry Return: %d %v", n, err)
		}
	}
	got := collect(t, p, 2) // only the good entries make packets
	if pkt, ok := got[good]; !ok || pkt.Err != nil || !bytes.Equal(good.Buf, data[blk:2*blk]) {
		t.Errorf("good read beside bad entries: %+v", pkt)
	}
	if pkt, ok := got[goodW]; !ok || pkt.Err != nil || pkt.Bytes != blk {
		t.Errorf("good write beside bad entries: %+v", pkt)
	}
	noPacket(t, p, 50*time.Millisecond)
	want := append([]byte(nil), data...)
	copy(want[2*blk:], goodW.Buf)
	if i := testutil.Equal(preadAll(t, rw, 8*blk), want); i >= 0 {
		t.Fatalf("file differs at byte %d: a refused write did I/O", i)
	}
}

// TestMisalignedDirect: on ext4 with O_DIRECT, a request with a misaligned
// offset, buffer or length fails alone with EINVAL (in its packet: the
// kernel checks alignment when it runs the request), its aligned neighbours
// succeed, and a misaligned write changes nothing.
func TestMisalignedDirect(t *testing.T) {
	data := testutil.Pattern(18, 16*blk)
	path := tempPath(t)
	_, fd := createFile(t, path, data, unix.O_DIRECT)
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil || st.Type != unix.EXT4_SUPER_MAGIC {
		t.Skipf("the temp dir is not on ext4 (statfs type %#x, %v): its O_DIRECT alignment rules are unknown", st.Type, err)
	}
	p := newPort(t)
	associate(t, p, fd, 9)
	al := testutil.Aligned(t, 16*blk)
	wsrc := testutil.Pattern(19, 2*blk)
	copy(al[8*blk:], wsrc)
	list := []*aiocb.AIOCB{
		entry(p, aiocb.OpRead, fd, 1, al[:blk]),                // offset
		entry(p, aiocb.OpRead, fd, 0, al[blk+1:2*blk+1]),       // buffer
		entry(p, aiocb.OpRead, fd, 0, al[3*blk:3*blk+100]),     // length
		entry(p, aiocb.OpWrite, fd, 5*blk+7, al[8*blk:9*blk]),  // write offset
		entry(p, aiocb.OpRead, fd, 2*blk, al[4*blk:5*blk]),     // aligned
		entry(p, aiocb.OpWrite, fd, 6*blk, al[9*blk:10*blk]),   // aligned
		entry(p, aiocb.OpRead, fd, 512, al[12*blk:12*blk+512]), // sector-aligned
	}
	out := runBatch(t, p, list)
	for i, cb := range list[:4] {
		if o := out[cb]; !errors.Is(o.err, syscall.EINVAL) {
			t.Errorf("misaligned request %d: %+v, want EINVAL", i, o)
		}
	}
	for i, cb := range list[4:] {
		if o := out[cb]; o.err != nil || o.n != cb.Nbytes() {
			t.Errorf("aligned request %d: %+v", i, o)
		}
	}
	if !bytes.Equal(al[4*blk:5*blk], data[2*blk:3*blk]) {
		t.Error("aligned read: wrong data")
	}
	want := append([]byte(nil), data...)
	copy(want[6*blk:], wsrc[blk:])
	if i := testutil.Equal(preadAll(t, fd, len(data)), want); i >= 0 {
		t.Fatalf("file differs at byte %d", i)
	}
}

// TestCloseFileInFlight: closing a file right after submitting requests
// on it (64 O_DIRECT reads and writes) loses nothing and corrupts nothing.
// A request the kernel started completes with its key and its bytes (the
// kernel holds its own reference). A request the kernel handed back
// (RWF_NOWAIT: it would have blocked) and that a worker could not reach
// before the close fails with EBADF, as POSIX lets close cancel outstanding
// I/O: the worker never uses a number that may now name another file. The
// file holds exactly the writes that succeeded, and a later submit on the
// closed number fails with EBADF.
func TestCloseFileInFlight(t *testing.T) {
	data := testutil.Pattern(20, 64*blk)
	path := tempPath(t)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_DIRECT, 0)
	if err != nil {
		t.Fatal(err)
	}
	fd := int(f.Fd())
	p := newPort(t, port.WithDepth(128))
	associate(t, p, fd, 21)
	buf := testutil.Aligned(t, 64*blk)
	wsrc := testutil.Pattern(22, 32*blk)
	copy(buf[32*blk:], wsrc)
	var list []*aiocb.AIOCB
	for i := range 64 {
		op := aiocb.OpRead
		if i >= 32 {
			op = aiocb.OpWrite
		}
		off := int64((i%32)*2*blk) + int64(i/32)*blk // reads of even blocks, writes of odd ones
		list = append(list, entry(p, op, fd, off, buf[i*blk:(i+1)*blk]))
	}
	if err := submit.ListIO(submit.NoWait, list, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	want := append([]byte(nil), data...)
	ok, failed := 0, 0
	for cb, pkt := range collect(t, p, len(list)) {
		if pkt.Key != 21 {
			t.Errorf("%v at %d after close: key %d", cb.Opcode, cb.Offset, pkt.Key)
		}
		if pkt.Err != nil {
			if !errors.Is(pkt.Err, syscall.EBADF) || pkt.Bytes != 0 {
				t.Errorf("%v at %d after close: %d %v, want success or EBADF", cb.Opcode, cb.Offset, pkt.Bytes, pkt.Err)
			}
			failed++
			continue
		}
		ok++
		if pkt.Bytes != blk {
			t.Errorf("%v at %d after close: %d bytes", cb.Opcode, cb.Offset, pkt.Bytes)
		}
		switch cb.Opcode {
		case aiocb.OpRead:
			if !bytes.Equal(cb.Buf, data[cb.Offset:cb.Offset+blk]) {
				t.Errorf("read at %d: wrong data", cb.Offset)
			}
		case aiocb.OpWrite:
			copy(want[cb.Offset:], cb.Buf)
		}
	}
	t.Logf("after close: %d requests completed, %d failed with EBADF", ok, failed)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if i := testutil.Equal(got, want); i >= 0 {
		t.Fatalf("file differs at byte %d", i)
	}
	if err := submit.Read(&aiocb.AIOCB{Fildes: fd, Buf: buf[:blk]}); !errors.Is(err, syscall.EBADF) {
		// The number may have been reused by another file meanwhile; only
		// an unused number must fail.
		if !fcntlOK(fd) {
			t.Errorf("read of the closed fd: %v, want EBADF", err)
		}
	}
}

// fcntlOK reports whether fd is open.
func fcntlOK(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == nil
}

// TestCloseFileInFlightReused: a file closed while the file system holds
// its request, and its number reused by another file associated under
// another key: the held request still completes with its own key and its
// file's bytes, the new file's request with the new key.
func TestCloseFileInFlightReused(t *testing.T) {
	fsys := faultfs.Mount(t, faultfs.Options{})
	d1, d2 := testutil.Pattern(23, 4*blk), testutil.Pattern(24, 4*blk)
	f1 := fsys.AddFile("one", d1)
	f2 := fsys.AddFile("two", d2)
	hold := make(chan struct{})
	f1.SetRules(faultfs.Rule{Op: faultfs.Read, Off: 0, Hold: hold})
	file, err := os.OpenFile(f1.Path(), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	fd := int(file.Fd())
	p := newPort(t)
	associate(t, p, fd, 1)
	held := portCB(p, fd, 0, make([]byte, blk))
	if err := submit.Read(held); err != nil {
		t.Fatal(err)
	}
	if err := file.Close(); err != nil {
		t.Fatal(err)
	}
	if err := submit.Read(portCB(p, fd, 0, make([]byte, blk))); !errors.Is(err, syscall.EBADF) && !errors.Is(err, syscall.EINVAL) {
		t.Errorf("submit on the closed fd: %v, want EBADF", err)
	}
	nfd, err := unix.Open(f2.Path(), unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(nfd)
	associate(t, p, nfd, 2)
	other := portCB(p, nfd, blk, make([]byte, blk))
	if err := submit.Read(other); err != nil {
		t.Fatal(err)
	}
	if pkt := next(t, p); pkt.CB != other || pkt.Key != 2 || pkt.Err != nil || !bytes.Equal(other.Buf, d2[blk:2*blk]) {
		t.Errorf("new file's read: key %d err %v", pkt.Key, pkt.Err)
	}
	close(hold)
	if pkt := next(t, p); pkt.CB != held || pkt.Key != 1 || pkt.Err != nil || !bytes.Equal(held.Buf, d1[:blk]) {
		t.Errorf("held read of the closed file: key %d err %v (same number reused: %v)", pkt.Key, pkt.Err, nfd == fd)
	}
}
