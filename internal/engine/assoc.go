package engine

import (
	"sync/atomic"

	"github.com/goiocp/goiocp/internal/sys"
)

// Assoc is a file's association with a context's port: its completion
// key, and what the file was when it was associated.
type Assoc struct {
	Key  uintptr
	id   sys.FileID
	kind int
}

// Socket reports whether the file was a socket when associated.
func (a Assoc) Socket() bool { return a.kind == sys.KindSocket }

// assocTable holds the associations indexed by fd: the kernel hands out
// the lowest free numbers, so a slice is dense, and a lookup is two loads.
type assocTable struct{ slots []atomic.Pointer[Assoc] }

// Associate records that file fd is associated with the context's port
// under key, with the file's kind; a later Associate of the same fd
// replaces both (the kernel reuses fd numbers, so the association belongs
// to the number). A fd that is not open is EBADF. It costs one fstat and
// no copy of the other associations, so a server may associate a file per
// request.
func (c *Context) Associate(fd int, key uintptr) error {
	id, kind, err := sys.Classify(fd)
	if err != nil {
		return err
	}
	a := &Assoc{Key: key, id: id, kind: kind}
	c.assocMu.Lock()
	defer c.assocMu.Unlock()
	t := c.assoc.Load()
	if t == nil || fd >= len(t.slots) {
		n := 64
		if t != nil {
			n = 2 * len(t.slots)
		}
		for n <= fd {
			n *= 2
		}
		grown := &assocTable{slots: make([]atomic.Pointer[Assoc], n)}
		if t != nil {
			for i := range t.slots {
				grown.slots[i].Store(t.slots[i].Load())
			}
		}
		c.assoc.Store(grown)
		t = grown
	}
	t.slots[fd].Store(a)
	return nil
}

// KeyOf returns the completion key of fd's association, and whether there
// is one. It takes no lock.
func (c *Context) KeyOf(fd int) (uintptr, bool) {
	a, ok := c.Lookup(fd)
	return a.Key, ok
}

// Lookup returns fd's association, and whether there is one. It takes no
// lock.
func (c *Context) Lookup(fd int) (Assoc, bool) {
	t := c.assoc.Load()
	if t == nil || fd < 0 || fd >= len(t.slots) {
		return Assoc{}, false
	}
	a := t.slots[fd].Load()
	if a == nil {
		return Assoc{}, false
	}
	return *a, true
}

// UseAssoc gives r the key of its file's association and lets Submit skip
// looking at the file again where that is safe: a regular file's requests
// that no worker can take (identify still looks at the others, whose
// identity a worker checks), and, with trust, a stream (AIX's ReadFile and
// WriteFile, which name a socket by its association). Call it after Claim.
func (r *Request) UseAssoc(a Assoc, trust bool) {
	r.Key = a.Key
	switch {
	case trust || a.kind != sys.KindFile:
		// A stream is looked at again unless trusted: were its number
		// reused for a regular file, a stream's read would ignore Offset.
		r.pre = trust
	default:
		r.pre = true
	}
	r.preID, r.preKind = a.id, a.kind
}
