package engine

import "github.com/goiocp/goiocp/internal/sys"

// Assoc is a file's association with a context's port: its completion
// key, and what the file was when it was associated.
type Assoc struct {
	Key  uintptr
	id   sys.FileID
	kind int
}

// Socket reports whether the file was a socket when associated.
func (a Assoc) Socket() bool { return a.kind == sys.KindSocket }

// Associate records that file fd is associated with the context's port
// under key, with the file's kind; a later Associate of the same fd
// replaces both (the kernel reuses fd numbers, so the association belongs
// to the number). A fd that is not open is EBADF.
func (c *Context) Associate(fd int, key uintptr) error {
	id, kind, err := sys.Classify(fd)
	if err != nil {
		return err
	}
	c.assocMu.Lock()
	defer c.assocMu.Unlock()
	old := c.assoc.Load()
	m := make(map[int]Assoc, 1)
	if old != nil {
		for k, v := range *old {
			m[k] = v
		}
	}
	m[fd] = Assoc{Key: key, id: id, kind: kind}
	c.assoc.Store(&m)
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
	m := c.assoc.Load()
	if m == nil {
		return Assoc{}, false
	}
	a, ok := (*m)[fd]
	return a, ok
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
