//go:build linux

package faultfs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// Options configures Mount.
type Options struct {
	// SyncDIO leaves FUSE_ASYNC_DIO off, so that the kernel runs every AIO
	// request on the mount synchronously inside io_submit.
	SyncDIO bool
	// Debug logs every FUSE request.
	Debug bool
}

// FS is one mounted fault-injection file system: a directory holding the
// files added with AddFile. Its methods are safe for concurrent use.
type FS struct {
	// Dir is the mount point.
	Dir string

	root   *fs.Inode
	server *fuse.Server
	done   chan struct{} // closed when the mount ends: releases held requests
	watch  *exec.Cmd     // the watchdog, or nil

	mu    sync.Mutex
	files map[string]*File
}

// dir is the root directory node.
type dir struct{ fs.Inode }

// Available returns nil when this process can mount a FUSE file system
// directly, else the reason it cannot.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("faultfs: direct FUSE mounts need root")
	}
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("faultfs: /dev/fuse: %w", err)
	}
	f.Close()
	return nil
}

// Mount mounts an empty fault-injection file system on a new temporary
// directory for the duration of t. It skips t with the reason when FUSE
// cannot be mounted here (not root, no /dev/fuse, no fuse in the kernel or
// no permission to mount).
func Mount(t testing.TB, opts Options) *FS {
	t.Helper()
	if err := Available(); err != nil {
		t.Skip(err)
	}
	mnt := t.TempDir()
	fsys := &FS{Dir: mnt, done: make(chan struct{}), files: map[string]*File{}}
	root := &dir{}
	sec := time.Second
	fo := &fs.Options{
		MountOptions: fuse.MountOptions{
			DirectMount:       true,
			DirectMountStrict: true,
			FsName:            "faultfs",
			Name:              "faultfs",
			Debug:             opts.Debug,
			DisableXAttrs:     true,
			MaxBackground:     256,
			// Splicing keeps a pool of pipes and a /dev/null fd open for
			// the life of the process, which the tests' fd-leak checks
			// would report; the copy costs nothing at test sizes.
			DisableSplice: true,
		},
		EntryTimeout: &sec,
		AttrTimeout:  &sec,
	}
	if !opts.SyncDIO {
		fo.ExtraCapabilities = fuse.CAP_ASYNC_DIO
	}
	server, err := fs.Mount(mnt, root, fo)
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ENODEV) || errors.Is(err, syscall.EACCES) {
			t.Skipf("faultfs: cannot mount FUSE here: %v", err)
		}
		t.Fatalf("faultfs: mount %s: %v", mnt, err)
	}
	fsys.root = &root.Inode
	fsys.server = server
	fsys.watch = startWatchdog(t, mnt)
	t.Cleanup(func() { fsys.unmount(t) })
	return fsys
}

// MountFile mounts a file system holding the single file name with data and
// returns that file.
func MountFile(t testing.TB, name string, data []byte, opts Options) *File {
	t.Helper()
	return Mount(t, opts).AddFile(name, data)
}

// AddFile adds a file called name holding a copy of data and returns it.
// Adding a name twice replaces the file.
func (fsys *FS) AddFile(name string, data []byte) *File {
	f := &File{fsys: fsys, name: name, data: append([]byte(nil), data...)}
	ch := fsys.root.NewPersistentInode(context.Background(), f, fs.StableAttr{Mode: fuse.S_IFREG})
	fsys.root.AddChild(name, ch, true)
	fsys.mu.Lock()
	fsys.files[name] = f
	fsys.mu.Unlock()
	return f
}

// File returns the file called name, or nil.
func (fsys *FS) File(name string) *File {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	return fsys.files[name]
}

// unmount ends the mount: it releases every held request, unmounts, and
// waits (at most 10 s) for the server to stop. A file still open makes the
// plain unmount fail (EBUSY); then the mount is detached and its connection
// aborted, and the test is told.
func (fsys *FS) unmount(t testing.TB) {
	close(fsys.done)
	defer stopWatchdog(fsys.watch)
	err := fsys.server.Unmount()
	if err == nil {
		return
	}
	t.Errorf("faultfs: unmount %s: %v (a file of the mount is still open); detaching", fsys.Dir, err)
	var st syscall.Stat_t
	statErr := syscall.Stat(fsys.Dir, &st)
	if err := syscall.Unmount(fsys.Dir, syscall.MNT_DETACH); err != nil {
		t.Errorf("faultfs: detach %s: %v", fsys.Dir, err)
		return
	}
	if statErr == nil {
		// fusectl, where mounted, lets us end the connection now rather
		// than when the last open file is closed.
		abort := filepath.Join("/sys/fs/fuse/connections", fmt.Sprint(unix.Minor(st.Dev)), "abort")
		_ = os.WriteFile(abort, []byte("1"), 0)
	}
	stopped := make(chan struct{})
	go func() { fsys.server.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Errorf("faultfs: server of %s still running 10 s after detach", fsys.Dir)
	}
}
