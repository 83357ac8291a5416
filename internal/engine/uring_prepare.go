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

// A file in memory (tmpfs, ramfs) is different again: io_uring has no
// inline path for it at all (shmem does not take IOCB_NOWAIT, so every read
// and write goes to an io-wq worker and back, a thread handoff each way),
// while the copy itself takes less time than the handoff. Native AIO's
// io_submit does such a transfer within the call; the io_uring queue does
// the same, in the submitter, and finishes the request as a reap would,
// unless URingRingOnly is set.

// URingRingOnly sends in-memory files' transfers through the ring (and its
// io-wq workers) too, for benchmarks that show the difference. Set it
// before any I/O.
var URingRingOnly = false

// prepare marks the transfers of reqs that must go to io-wq, and
// refuses those of them on a fd not open for their direction; those on a
// file in memory it marks inline; those whose io_uring_enter cannot block
// it marks raw; those an io-wq worker starts without an inline try (FUSE,
// fsync) get their file in the ring's file table. It runs in the submitter after identify,
// outside the context's locks: finding out whether a file is on FUSE asks
// its server.
func (q *uringQueue) prepare(reqs []*Request) {
	big := 0 // large in-memory transfers so far
	for _, r := range reqs {
		r.async, r.inline, r.fixed, r.refuse = false, false, false, 0
		if r.kind != sys.KindFile {
			continue
		}
		d := direction(r.Cmd)
		switch {
		case r.isFsync():
			// io_uring always hands an fsync to io-wq (REQ_F_FORCE_ASYNC),
			// never inline, so it cannot block the call; its worker looks
			// the fd up when it starts: the file table holds the file.
			r.raw = true
			q.fixOrRefuse(r)
			continue
		case d == noDirection:
			// A POLL: vfs_poll runs inline, and a FUSE file's asks its
			// server, so its io_uring_enter is never raw.
			continue
		}
		switch fileClass(r.id.Dev, r.Fd) {
		case classMemory:
			if URingRingOnly {
				r.raw = true
				continue
			}
			// Of several large copies, every other one goes to the ring,
			// whose io-wq workers copy on other CPUs meanwhile.
			if r.size() >= bigCopy {
				big++
				if big%2 == 0 {
					r.raw = true
					continue
				}
			}
			r.inline = true
		case classPlain:
			// io_uring issues it inline without blocking (what the file
			// cannot do at once goes to io-wq with the file already
			// looked up), so io_uring_enter may be a raw call.
			r.raw = true
		default: // classFUSE
			r.async = true
			fl, err := sys.StatusFlags(r.Fd)
			switch {
			case err != nil:
				r.refuse = syscall.EBADF
			case d == 0 && fl&syscall.O_ACCMODE == syscall.O_WRONLY,
				d != 0 && fl&syscall.O_ACCMODE == syscall.O_RDONLY:
				r.refuse = syscall.EBADF
			default:
				// An io-wq worker looks the fd up when it starts the
				// request, which may be after the program closed it, or
				// reused the number for another file; io_submit takes the
				// file at the call. The ring's file table, at the
				// request's slot, holds this file for the request until
				// its slot is freed. (A dup would too, but closing a dup
				// of a FUSE file waits for its server's FLUSH.)
				q.fixOrRefuse(r)
			}
		}
	}
}

// bigCopy is the size from which a batch's in-memory transfers are shared
// between the submitter and the ring's workers.
const bigCopy = 64 << 10

// What the io_uring queue needs to know of a file system.
const (
	classPlain  = iota + 1 // io_uring issues inline where it can, else io-wq
	classFUSE              // straight to io-wq
	classMemory            // copied in the submitter
)

// devClasses caches, by device number, the class of a file system, copied
// on write so that a lookup takes no lock and allocates nothing. FUSE and
// tmpfs mounts have anonymous device numbers, which a later mount may
// reuse; a stale answer only makes a request slower, or (a new FUSE mount
// on a number that was another file system's) issued inline.
var devClasses struct {
	mu  sync.Mutex
	tab atomic.Pointer[map[uint64]uint8]
}

func fileClass(dev uint64, fd int) uint8 {
	if t := devClasses.tab.Load(); t != nil {
		if v, ok := (*t)[dev]; ok {
			return v
		}
	}
	class := uint8(classPlain)
	switch {
	case sys.OnFUSE(fd):
		class = classFUSE
	case sys.InMemory(fd):
		class = classMemory
	}
	devClasses.mu.Lock()
	defer devClasses.mu.Unlock()
	next := map[uint64]uint8{dev: class}
	if t := devClasses.tab.Load(); t != nil {
		for k, v := range *t {
			next[k] = v
		}
	}
	devClasses.tab.Store(&next)
	return class
}
