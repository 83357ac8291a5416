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

	// Fast paths, turned off for good by the first EOPNOTSUPP: the file
	// system cannot do the transfer without waiting, or cannot say.
	readNowait  atomic.Bool
	writeNowait atomic.Bool

	// Close protocol: ops counts calls in flight; closing, set by Close
	// under mu, refuses new ones; Close waits on idle for the last.
	mu      sync.Mutex
	ops     int
	closing bool
	idle    chan struct{}
}

// writers bounds the plain pwrite calls of files whose buffered writes the
// kernel cannot do without waiting: each holds a thread while dirty-page
// throttling may stop it.
var writers = make(chan struct{}, 2*runtime.GOMAXPROCS(0))

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
	nf := &File{f: f, fd: fd, name: f.Name(), pl: pl, direct: flags&sys.O_DIRECT != 0, append: flags&os.O_APPEND != 0}
	// Reads of a buffered file, or of any file in memory, first try what is
	// there at once; so do writes.
	// there at once; so do writes. A FUSE file's server answers every
	// request itself: its requests go to the ports, where kernel AIO hands
	// them to the server asynchronously.
	fuse := sys.OnFUSE(fd)
	nf.readNowait.Store((!nf.direct || sys.InMemory(fd)) && !fuse)
	nf.writeNowait.Store(nf.readNowait.Load())
	// A buffered file's writes run inside io_submit on most file systems
	// (ext4 cannot do them with RWF_NOWAIT).
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
	f.mu.Lock()
	if f.closing {
		f.mu.Unlock()
		return f.closedErr("close")
	}
	f.closing = true
	var idle chan struct{}
	if f.ops > 0 {
		idle = make(chan struct{})
		f.idle = idle
	}
	f.mu.Unlock()
	if idle != nil {
		<-idle
	}
	release()
	return f.f.Close()
}

// begin counts a call in, or fails once Close has begun.
func (f *File) begin(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing {
		return f.closedErr(op)
	}
	f.ops++
	return nil
}

// end counts a call out and wakes a Close waiting for the last.
func (f *File) end() {
	f.mu.Lock()
	if f.ops--; f.ops == 0 && f.idle != nil {
		close(f.idle)
		f.idle = nil
	}
	f.mu.Unlock()
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

// readOnce performs one read: what the page cache has at once, or one port
// request.
func (f *File) readOnce(ctx context.Context, b []byte, off int64) (int, error) {
	if f.readNowait.Load() {
		switch res := sys.PreadNowait(f.fd, b, off); {
		case res >= 0:
			return int(res), nil
		case res == -int64(syscall.EOPNOTSUPP):
			f.readNowait.Store(false)
		case res != -int64(syscall.EAGAIN):
			return 0, syscall.Errno(-res)
		}
	}
	return f.request(ctx, aiocb.OpRead, b, off)
}

// writeOnce performs one write: at once where the file system can, as a
// bounded plain pwrite where it cannot say, else one port request.
func (f *File) writeOnce(ctx context.Context, b []byte, off int64) (int, error) {
	if f.writeNowait.Load() {
		switch res := sys.PwriteNowait(f.fd, b, off); {
		case res >= 0:
			return int(res), nil
		case res == -int64(syscall.EOPNOTSUPP):
			f.writeNowait.Store(false)
		case res != -int64(syscall.EAGAIN):
			return 0, syscall.Errno(-res)
		}
	}
	if f.plainW {
		// The kernel would do a buffered write inside io_submit anyway;
		// do it here, with the number of such threads bounded.
		writers <- struct{}{}
		res := sys.Pwrite(f.fd, b, off)
		<-writers
		if res < 0 {
			return 0, syscall.Errno(-res)
		}
		return int(res), nil
	}
	return f.request(ctx, aiocb.OpWrite, b, off)
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
