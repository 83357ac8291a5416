package file

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/internal/sys"
)

// File is an open file whose ReadAt and WriteAt run over completion ports.
// It is safe for concurrent use by multiple goroutines.
type File struct {
	f      *os.File
	fd     int
	name   string
	pl     *pool
	direct bool // opened O_DIRECT: reads never try the page cache first
	append bool // opened O_APPEND: WriteAt is refused, as os.File refuses it
	plainW bool // buffered writes the kernel would do inside io_submit: a bounded pwrite instead

	memory bool // in memory (tmpfs): plain pread and pwrite in the caller

	// The page-cache read, turned off for good by the first EOPNOTSUPP:
	// the file system cannot read without waiting, or cannot say.
	readNowait atomic.Bool

	// Close protocol: state counts the calls in flight, and its closing
	// bit, set by Close, refuses new ones; the last call out after it
	// closes idle, which Close waits on.
	state    atomic.Int64
	idle     chan struct{}
	idleOnce sync.Once
}

// closing is the bit of File.state that Close sets.
const closing = 1 << 62

// Calls that hold a thread in the kernel are bounded: writers the plain
// pwrites of buffered files (dirty-page throttling may stop one for a long
// time), readers the plain preads of buffered pages not cached. A read
// finding readers full goes to the ring, then to the ports (whose own
// workers are bounded too); a write waits, parked, for a place.
//
// The bound costs buffered writes throughput when thousands of goroutines
// write one file: with more writers than places, nearly every call parks
// and is woken, where os.File's goroutines wait in the run queue and run
// 10 ms slices. The gate hands places to the call parked last, so the
// woken goroutines are warm in the caches (see gate.go): 0.86-0.94×
// os.File at G 2,000 and 10,000 on ext4 on the 2-core VM, with 13 threads
// against os.File's 45-57 (first-come hand-over: 0.73-0.75×). Bounded the
// same way with a first-come hand-over, tmpfs writes measured 0.62-0.70×,
// which is why those are not.
var (
	writers = newGate(threadBound)
	readers = make(chan struct{}, threadBound)
	lone    = make(chan struct{}, 1) // the one call run plainly while no port request or ring read is in flight
)

// threadBound is how many calls of each kind may hold a thread at once.
var threadBound = max(8, 2*runtime.GOMAXPROCS(0))

// AlignedBuffer returns n bytes aligned for O_DIRECT (4096).
func AlignedBuffer(n int) []byte { return sys.AlignedBuffer(n, 4096) }

// Open opens the named file as os.OpenFile does and returns it as a File.
func Open(name string, flag int, perm os.FileMode) (*File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	nf, err := New(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return nf, nil
}

// New takes f over: the File reads and writes f's descriptor, and its Close
// closes f. f must not be used afterwards.
func New(f *os.File) (*File, error) {
	if f == nil {
		return nil, &os.PathError{Op: "new", Path: "", Err: syscall.EINVAL}
	}
	sc, err := f.SyscallConn()
	if err != nil {
		return nil, &os.PathError{Op: "new", Path: f.Name(), Err: err}
	}
	fd := -1
	_ = sc.Control(func(p uintptr) { fd = int(p) })
	flags, err := sys.StatusFlags(fd)
	if err != nil {
		return nil, &os.PathError{Op: "new", Path: f.Name(), Err: err}
	}
	pl, err := acquire(fd)
	if err != nil {
		return nil, &os.PathError{Op: "new", Path: f.Name(), Err: err}
	}
	nf := &File{f: f, fd: fd, name: f.Name(), pl: pl, direct: flags&sys.O_DIRECT != 0, append: flags&os.O_APPEND != 0,
		idle: make(chan struct{})}
	// How calls run (see the package doc): a file in memory (tmpfs) is read
	// and written in the caller, since it never waits for a device; a FUSE
	// file's requests all go to the ports, where kernel AIO hands them to
	// its server asynchronously; a buffered file's reads first try the page
	// cache, its writes are bounded pwrites (the kernel would do them
	// inside io_submit anyway, ext4 refusing RWF_NOWAIT for them).
	fuse := sys.OnFUSE(fd)
	nf.memory = !fuse && sys.InMemory(fd)
	nf.readNowait.Store(!nf.direct && !fuse && !nf.memory)
	nf.plainW = !nf.direct && !fuse
	return nf, nil
}

// Name returns the name of the file as given to Open (or f.Name()).
func (f *File) Name() string { return f.name }

// Fd returns the file's descriptor, valid until Close.
func (f *File) Fd() uintptr { return uintptr(f.fd) }

// Stat returns the file's FileInfo.
func (f *File) Stat() (os.FileInfo, error) {
	if err := f.begin("stat"); err != nil {
		return nil, err
	}
	defer f.end()
	return f.f.Stat()
}

// Close waits for the calls in flight on f, then closes the file. Calls
// made after Close began fail with an error wrapping os.ErrClosed, and so
// does a second Close.
func (f *File) Close() error {
	old := f.state.Or(closing)
	if old&closing != 0 {
		return f.closedErr("close")
	}
	if old != 0 {
		<-f.idle
	}
	release()
	return f.f.Close()
}

// begin counts a call in, or fails once Close has begun.
func (f *File) begin(op string) error {
	if f.state.Add(1)&closing != 0 {
		f.end()
		return f.closedErr(op)
	}
	return nil
}

// end counts a call out; the last one out after Close began wakes it.
func (f *File) end() {
	if f.state.Add(-1) == closing {
		f.idleOnce.Do(func() { close(f.idle) })
	}
}

func (f *File) closedErr(op string) error {
	return &os.PathError{Op: op, Path: f.name, Err: os.ErrClosed}
}

// ReadAt reads len(b) bytes at offset off, as io.ReaderAt: fewer only at
// end of file (then io.EOF) or on an error (an *os.PathError).
func (f *File) ReadAt(b []byte, off int64) (int, error) {
	return f.ReadAtContext(context.Background(), b, off)
}

// WriteAt writes b at offset off, as io.WriterAt: all of it, or an error
// (an *os.PathError).
func (f *File) WriteAt(b []byte, off int64) (int, error) {
	return f.WriteAtContext(context.Background(), b, off)
}

// ReadAtContext is ReadAt that returns ctx.Err() once ctx is done, with the
// bytes already read; b is not touched after it returns.
func (f *File) ReadAtContext(ctx context.Context, b []byte, off int64) (int, error) {
	if err := f.begin("read"); err != nil {
		return 0, err
	}
	defer f.end()
	if off < 0 {
		return 0, &os.PathError{Op: "readat", Path: f.name, Err: fmt.Errorf("negative offset: %w", syscall.EINVAL)}
	}
	done := 0
	for done < len(b) {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		n, err := f.readOnce(ctx, b[done:], off+int64(done))
		done += n
		switch {
		case err != nil && err == ctx.Err():
			return done, err
		case err != nil:
			return done, &os.PathError{Op: "read", Path: f.name, Err: err}
		case n == 0:
			return done, io.EOF
		}
	}
	return done, nil
}

// WriteAtContext is WriteAt that returns ctx.Err() once ctx is done, with
// the bytes already written; b is not touched after it returns.
func (f *File) WriteAtContext(ctx context.Context, b []byte, off int64) (int, error) {
	if err := f.begin("write"); err != nil {
		return 0, err
	}
	defer f.end()
	if f.append {
		return 0, &os.PathError{Op: "writeat", Path: f.name, Err: fmt.Errorf("invalid use of WriteAt on file opened with O_APPEND: %w", syscall.EINVAL)}
	}
	if off < 0 {
		return 0, &os.PathError{Op: "writeat", Path: f.name, Err: fmt.Errorf("negative offset: %w", syscall.EINVAL)}
	}
	done := 0
	for done < len(b) {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		n, err := f.writeOnce(ctx, b[done:], off+int64(done))
		done += n
		switch {
		case err != nil && err == ctx.Err():
			return done, err
		case err != nil:
			return done, &os.PathError{Op: "write", Path: f.name, Err: err}
		case n == 0:
			return done, &os.PathError{Op: "write", Path: f.name, Err: io.ErrShortWrite}
		}
	}
	return done, nil
}

// readOnce performs one read: in the caller for a file in memory, what the
// page cache has at once for a buffered one, else one port request.
func (f *File) readOnce(ctx context.Context, b []byte, off int64) (int, error) {
	if f.memory {
		return result(sys.Pread(f.fd, b, off))
	}
	if f.readNowait.Load() {
		if res, ok := f.readBuffered(b, off); ok {
			return result(res)
		}
	}
	if f.direct && f.pl.alone() {
		res := sys.Pread(f.fd, b, off)
		<-lone
		return result(res)
	}
	return f.request(ctx, aiocb.OpRead, b, off)
}

// readBuffered performs one read of a buffered file, or reports false to
// leave it to the ports (readers and the ring both full). At most readers
// at once try the page cache in the caller (even with RWF_NOWAIT a read
// that starts readahead may wait in the block layer for a free request).
// A miss goes to the ring, where the page is waited for without a thread;
// it is a plain pread, as os.File's, when it is alone (the ring would add
// a hand-off to its reaper and a wake-up of this goroutine: 0.6× os.File
// for one goroutine on the 2-core VM's disk) or when the ring is full or
// absent. The callers finding readers full go to the ring.
func (f *File) readBuffered(b []byte, off int64) (int64, bool) {
	ring := f.pl.ring
	select {
	case readers <- struct{}{}:
	default:
		if ring == nil {
			return 0, false
		}
		return ring.read(f.fd, b, off)
	}
	res := sys.PreadNowait(f.fd, b, off)
	switch {
	case res == -int64(syscall.EOPNOTSUPP):
		f.readNowait.Store(false)
		res = sys.Pread(f.fd, b, off)
	case res == -int64(syscall.EAGAIN) && f.pl.alone():
		res = sys.Pread(f.fd, b, off)
		<-lone
	case res == -int64(syscall.EAGAIN) && ring != nil:
		<-readers
		if res, ok := ring.read(f.fd, b, off); ok {
			return res, true
		}
		// The ring is full: a plain pread if a place is free, else the
		// ports, never a wait for a place.
		select {
		case readers <- struct{}{}:
		default:
			return 0, false
		}
		res = sys.Pread(f.fd, b, off)
	case res == -int64(syscall.EAGAIN):
		res = sys.Pread(f.fd, b, off)
	}
	<-readers
	return res, true
}

// writeOnce performs one write: a pwrite in the caller for a file in
// memory, a bounded one for a buffered file, else one port request.
func (f *File) writeOnce(ctx context.Context, b []byte, off int64) (int, error) {
	if f.memory {
		// Unbounded, as os.File's: a write to memory waits for no device,
		// only for the other writers of the file on its inode lock, and
		// a bound costs throughput (see writers).
		return result(sys.Pwrite(f.fd, b, off))
	}
	if f.plainW {
		if err := writers.enter(ctx); err != nil {
			return 0, err
		}
		res := sys.Pwrite(f.fd, b, off)
		writers.leave()
		return result(res)
	}
	if f.direct && f.pl.alone() {
		res := sys.Pwrite(f.fd, b, off)
		<-lone
		return result(res)
	}
	return f.request(ctx, aiocb.OpWrite, b, off)
}

// result turns a byte count or negated errno into Go's pair.
func result(res int64) (int, error) {
	if res < 0 {
		return 0, syscall.Errno(-res)
	}
	return int(res), nil
}

// request runs one port request of op on b at off.
func (f *File) request(ctx context.Context, op aiocb.Opcode, b []byte, off int64) (int, error) {
	r := getRequest()
	r.cb.Fildes, r.cb.Offset, r.cb.Buf, r.cb.Opcode = f.fd, off, b, op
	n, err := r.run(ctx, f.pl)
	r.put()
	return n, err
}

// Sync commits the file's contents to stable storage (fsync), after every
// WriteAt that returned before it was called.
func (f *File) Sync() error { return f.sync("sync", aiocb.OpFsync) }

// Datasync is Sync without the metadata a later read does not need
// (fdatasync), ordered the same way.
func (f *File) Datasync() error { return f.sync("datasync", aiocb.OpFdsync) }

func (f *File) sync(op string, opc aiocb.Opcode) error {
	if err := f.begin(op); err != nil {
		return err
	}
	defer f.end()
	r := getRequest()
	r.cb.Fildes, r.cb.Offset, r.cb.Buf, r.cb.Opcode = f.fd, 0, nil, opc
	_, err := r.run(context.Background(), f.pl)
	r.put()
	if err != nil {
		return &os.PathError{Op: op, Path: f.name, Err: err}
	}
	return nil
}
