package engine

import (
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/goiocp/goiocp/internal/sys"
)

// A FUSE file's transfers go to io_uring with IOSQE_ASYNC, straight to an
// io-wq worker: issued inline, within io_uring_enter, one may block there
// (a synchronous-DIO read runs in the call, and any request may wait in
// fuse_get_req for a free background slot) while holding the ring's
// submission lock, stopping every other submitter of the port. A request
// that never runs inline is never refused within the call either, so the
// errno io_submit would give at once for a file not open for the request's
// direction (EBADF) is checked here, before it goes.

// uringPrepare marks the transfers of reqs that must go to io-wq, and
// refuses those of them on a fd not open for their direction. It runs in
// the submitter after identify, outside the context's locks: finding out
// whether a file is on FUSE asks its server.
func uringPrepare(reqs []*Request) {
	for _, r := range reqs {
		r.async, r.refuse = false, 0
		d := direction(r.Cmd)
		if d == noDirection || r.kind != sys.KindFile || !onFUSE(r.id.Dev, r.Fd) {
			continue
		}
		r.async = true
		fl, err := sys.StatusFlags(r.Fd)
		switch {
		case err != nil:
			r.refuse = syscall.EBADF
		case d == 0 && fl&syscall.O_ACCMODE == syscall.O_WRONLY,
			d != 0 && fl&syscall.O_ACCMODE == syscall.O_RDONLY:
			r.refuse = syscall.EBADF
		}
	}
}

// fuseDevs caches, by device number, whether a file system is FUSE's,
// copied on write so that a lookup takes no lock and allocates nothing.
// FUSE mounts have anonymous device numbers, which a later mount may
// reuse; a stale answer only sends requests to io-wq needlessly, or (a new
// FUSE mount on a number that was another file system's) inline.
var fuseDevs struct {
	mu  sync.Mutex
	tab atomic.Pointer[map[uint64]bool]
}

func onFUSE(dev uint64, fd int) bool {
	if t := fuseDevs.tab.Load(); t != nil {
		if v, ok := (*t)[dev]; ok {
			return v
		}
	}
	f := sys.OnFUSE(fd)
	fuseDevs.mu.Lock()
	defer fuseDevs.mu.Unlock()
	next := map[uint64]bool{dev: f}
	if t := fuseDevs.tab.Load(); t != nil {
		for k, v := range *t {
			next[k] = v
		}
	}
	fuseDevs.tab.Store(&next)
	return f
}
