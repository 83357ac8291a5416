//go:build linux

package httpd

import (
	"mime"
	"net/http"
	"path"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/internal/sys"
	"golang.org/x/sys/unix"
)

// A worker keeps the files it serves open for a while (Config.FileCache,
// as nginx's open_file_cache does): a request for a file opened less than
// that long ago reuses its descriptor, its fstat and its association with
// the port, so it costs no open, fstat or close. A file changed, replaced
// or removed in that time may be served as it was for at most that long.

// maxCached bounds a worker's open files.
const maxCached = 512

// openFile is a regular file open for reading, or (not cached) a
// directory's O_PATH descriptor.
type openFile struct {
	rel     string
	fd      int
	info    sys.FileInfo
	direct  bool
	ctype   string // Content-Type, by the name's extension
	lastMod string // Last-Modified
	opened  time.Time
	refs    int  // responses using it
	dropped bool // out of the cache: closed when the last response is done
}

// fileCache is a worker's open files, by path under the root.
type fileCache struct {
	w     *worker
	valid time.Duration
	m     map[string]*openFile
}

// get returns the file rel names beneath the root, opened for reading if
// regular, with a reference the response gives back with put; or the
// status that answers the request.
func (fc *fileCache) get(rel string) (*openFile, int) {
	now := fc.w.now
	if f := fc.m[rel]; f != nil {
		if now.Sub(f.opened) < fc.valid {
			f.refs++
			return f, 0
		}
		fc.drop(f)
	}
	f, code := fc.w.openName(rel)
	if code != 0 {
		return nil, code
	}
	f.opened, f.refs = now, 1
	f.dropped = true
	if f.info.Reg && fc.valid > 0 {
		if len(fc.m) >= maxCached {
			fc.evict()
		}
		if len(fc.m) < maxCached {
			f.dropped = false
			fc.m[rel] = f
		}
	}
	return f, 0
}

// put gives back a reference from get.
func (fc *fileCache) put(f *openFile) {
	f.refs--
	if f.refs == 0 && f.dropped {
		sys.CloseFd(f.fd)
	}
}

// drop takes f out of the cache.
func (fc *fileCache) drop(f *openFile) {
	delete(fc.m, f.rel)
	f.dropped = true
	if f.refs == 0 {
		sys.CloseFd(f.fd)
	}
}

// evict drops the files no response uses and, if that frees nothing, one
// more.
func (fc *fileCache) evict() {
	for _, f := range fc.m {
		if f.refs == 0 {
			fc.drop(f)
		}
	}
	for _, f := range fc.m {
		if len(fc.m) < maxCached {
			break
		}
		fc.drop(f)
	}
}

// sweep drops the files past their time.
func (fc *fileCache) sweep(now time.Time) {
	for _, f := range fc.m {
		if now.Sub(f.opened) >= fc.valid {
			fc.drop(f)
		}
	}
}

// closeAll drops every file (the worker is done).
func (fc *fileCache) closeAll() {
	for _, f := range fc.m {
		fc.drop(f)
	}
}

// openName opens rel beneath the root: a regular file (open for reading, and
// associated with the worker's port under the file key) or a directory (an
// O_PATH descriptor), or the status that answers the request. The name is
// first opened O_PATH, which runs no driver code, and only a regular file
// is then opened for reading, through that descriptor: a device node in
// the root is never opened, whatever its open would do (a watchdog's, a
// tape's), and a FIFO never blocks a worker.
func (w *worker) openName(rel string) (*openFile, int) {
	pfd, err := sys.OpenBeneath(w.s.rootfd, rel, unix.O_PATH)
	if err != nil {
		return nil, openStatus(err)
	}
	info, err := sys.Fstat(pfd)
	switch {
	case err != nil:
		sys.CloseFd(pfd)
		return nil, http.StatusInternalServerError
	case info.Dir:
		return &openFile{rel: rel, fd: pfd, info: info}, 0
	case !info.Reg:
		sys.CloseFd(pfd)
		return nil, http.StatusNotFound
	}
	// O_NONBLOCK: a file under a lease being broken fails at once with
	// EAGAIN (503) instead of holding the worker.
	flags := unix.O_RDONLY | unix.O_NONBLOCK
	direct := w.s.cfg.Direct
	if direct {
		flags |= unix.O_DIRECT
	}
	fd, err := sys.Reopen(pfd, flags)
	if err == syscall.EINVAL && direct {
		direct = false // no O_DIRECT on this file system
		fd, err = sys.Reopen(pfd, flags&^unix.O_DIRECT)
	}
	sys.CloseFd(pfd)
	if err != nil {
		return nil, openStatus(err)
	}
	// The file's reads complete to this port under the file key; the
	// packet's AIOCB names the connection.
	if err := w.port.Associate(fd, makeKey(kindFile, 0, 0)); err != nil {
		sys.CloseFd(fd)
		return nil, http.StatusInternalServerError
	}
	ctype := mime.TypeByExtension(path.Ext(rel))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	lastMod := string(httpDate(nil, time.Unix(info.Mtime, 0)))
	return &openFile{rel: rel, fd: fd, info: info, direct: direct, ctype: ctype, lastMod: lastMod}, 0
}

// openStatus is the status of a failed open: a name that is not there,
// or that leads out of the root, is not found.
func openStatus(err error) int {
	switch err {
	case syscall.ENOENT, syscall.ENOTDIR, syscall.EXDEV, syscall.ELOOP, syscall.ENAMETOOLONG, syscall.ENXIO:
		return http.StatusNotFound
	case syscall.EACCES, syscall.EPERM:
		return http.StatusForbidden
	case syscall.EAGAIN:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
