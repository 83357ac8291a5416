//go:build linux

package faultfs

import (
	"context"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Request is one read, write or fsync the file system received, in the
// order they arrived.
type Request struct {
	Op  Op
	Off int64
	Len int
	Err syscall.Errno // what it was answered with (0: success)
}

// File is one in-memory file of a mount, with its fault rules. Its methods
// are safe for concurrent use.
type File struct {
	fs.Inode

	fsys *FS
	name string

	mu    sync.Mutex // guards the fields below
	data  []byte
	rules []Rule
	used  []int // used[i]: times rules[i] applied
	log   []Request
}

var (
	_ fs.NodeOpener    = (*File)(nil)
	_ fs.NodeReader    = (*File)(nil)
	_ fs.NodeWriter    = (*File)(nil)
	_ fs.NodeFsyncer   = (*File)(nil)
	_ fs.NodeFlusher   = (*File)(nil)
	_ fs.NodeGetattrer = (*File)(nil)
	_ fs.NodeSetattrer = (*File)(nil)
)

// Path returns the file's path under the mount point.
func (f *File) Path() string { return filepath.Join(f.fsys.Dir, f.name) }

// SetRules replaces the file's fault rules (and their use counts).
func (f *File) SetRules(rules ...Rule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append([]Rule(nil), rules...)
	f.used = make([]int, len(rules))
}

// Data returns a copy of the file's contents.
func (f *File) Data() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]byte(nil), f.data...)
}

// Requests returns a copy of the log of requests the file received.
func (f *File) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.log...)
}

// rule returns the first rule applying to a request, counting its use.
func (f *File) rule(op Op, off int64, n int) (Rule, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.rules {
		r := &f.rules[i]
		if !r.matches(op, off, n) || (r.Times > 0 && f.used[i] >= r.Times) {
			continue
		}
		f.used[i]++
		return *r, true
	}
	return Rule{}, false
}

// fault applies the rules to a request: it waits as the rule says and
// returns the errno to fail with (0: go on) and the byte limit (<0: none).
func (f *File) fault(ctx context.Context, op Op, off int64, n int) (syscall.Errno, int) {
	r, ok := f.rule(op, off, n)
	if !ok {
		return 0, -1
	}
	if !r.wait(ctx, f.fsys.done) {
		return syscall.EINTR, -1
	}
	if r.Err != 0 {
		return r.Err, -1
	}
	if r.Short > 0 {
		return 0, r.Short
	}
	return 0, -1
}

func (f *File) record(op Op, off int64, n int, e syscall.Errno) {
	f.mu.Lock()
	f.log = append(f.log, Request{Op: op, Off: off, Len: n, Err: e})
	f.mu.Unlock()
}

// Open answers every open with FOPEN_DIRECT_IO, so reads and writes bypass
// the page cache and reach Read and Write one request at a time.
func (f *File) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	return nil, fuse.FOPEN_DIRECT_IO, fs.OK
}

// Read serves a read, after the file's rules.
func (f *File) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	e, limit := f.fault(ctx, Read, off, len(dest))
	if e != 0 {
		f.record(Read, off, len(dest), e)
		return nil, e
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, Request{Op: Read, Off: off, Len: len(dest)})
	if off >= int64(len(f.data)) {
		return fuse.ReadResultData(nil), fs.OK
	}
	end := min(off+int64(len(dest)), int64(len(f.data)))
	if limit >= 0 {
		end = min(end, off+int64(limit))
	}
	// Copy: the result is sent after the lock is released.
	return fuse.ReadResultData(append([]byte(nil), f.data[off:end]...)), fs.OK
}

// Write serves a write, after the file's rules.
func (f *File) Write(ctx context.Context, fh fs.FileHandle, data []byte, off int64) (uint32, syscall.Errno) {
	e, limit := f.fault(ctx, Write, off, len(data))
	if e != 0 {
		f.record(Write, off, len(data), e)
		return 0, e
	}
	if limit >= 0 && limit < len(data) {
		data = data[:limit]
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, Request{Op: Write, Off: off, Len: len(data)})
	if end := off + int64(len(data)); end > int64(len(f.data)) {
		f.data = append(f.data, make([]byte, end-int64(len(f.data)))...)
	}
	copy(f.data[off:], data)
	return uint32(len(data)), fs.OK
}

// Fsync serves an fsync, after the file's rules.
func (f *File) Fsync(ctx context.Context, fh fs.FileHandle, flags uint32) syscall.Errno {
	e, _ := f.fault(ctx, Fsync, 0, 0)
	f.record(Fsync, 0, 0, e)
	return e
}

// Flush accepts every close.
func (f *File) Flush(ctx context.Context, fh fs.FileHandle) syscall.Errno { return fs.OK }

// Getattr reports the file's size.
func (f *File) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	f.mu.Lock()
	defer f.mu.Unlock()
	out.Mode = fuse.S_IFREG | 0o600
	out.Size = uint64(len(f.data))
	out.Blksize = 4096
	out.Blocks = (out.Size + 511) / 512
	return fs.OK
}

// Setattr supports truncation.
func (f *File) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	f.mu.Lock()
	if sz, ok := in.GetSize(); ok {
		if sz <= uint64(len(f.data)) {
			f.data = f.data[:sz]
		} else {
			f.data = append(f.data, make([]byte, sz-uint64(len(f.data)))...)
		}
	}
	f.mu.Unlock()
	return f.Getattr(ctx, fh, out)
}
