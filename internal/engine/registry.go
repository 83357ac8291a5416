package engine

import (
	"sync"
	"sync/atomic"
)

// live lists every context not yet destroyed, for the scans of fsync
// barriers and Cancel(fd, nil). It is not on the path of a request.
var live struct {
	sync.Mutex
	list []*Context
}

func registerContext(c *Context) {
	live.Lock()
	live.list = append(live.list, c)
	live.Unlock()
}

func unregisterContext(c *Context) {
	live.Lock()
	for i, o := range live.list {
		if o == c {
			live.list = append(live.list[:i], live.list[i+1:]...)
			break
		}
	}
	live.Unlock()
}

// contexts returns a snapshot of the live contexts.
func contexts() []*Context {
	live.Lock()
	defer live.Unlock()
	return append([]*Context(nil), live.list...)
}

// ports maps a port's fd (its eventfd) to its context. Lookups are two
// atomic loads and touch no shared cache line that a write would dirty, so
// goroutines submitting to their own ports do not contend here.
var ports struct {
	mu    sync.Mutex // serialises writers
	table atomic.Pointer[[]atomic.Pointer[Context]]
}

// RegisterPort makes c reachable by LookupPort(c.Fd()).
func RegisterPort(c *Context) {
	ports.mu.Lock()
	defer ports.mu.Unlock()
	fd := c.efd
	t := ports.table.Load()
	if t == nil || fd >= len(*t) {
		n := 64
		if t != nil {
			n = len(*t)
		}
		for n <= fd {
			n *= 2
		}
		nt := make([]atomic.Pointer[Context], n)
		if t != nil {
			for i := range *t {
				nt[i].Store((*t)[i].Load())
			}
		}
		ports.table.Store(&nt)
		t = &nt
	}
	(*t)[fd].Store(c)
}

// UnregisterPort removes c from the port table, if it is still there.
func UnregisterPort(c *Context) {
	ports.mu.Lock()
	defer ports.mu.Unlock()
	if t := ports.table.Load(); t != nil && c.efd < len(*t) {
		(*t)[c.efd].CompareAndSwap(c, nil)
	}
}

// LookupPort returns the context of the open port whose fd is fd, or nil.
func LookupPort(fd int) *Context {
	t := ports.table.Load()
	if t == nil || fd < 0 || fd >= len(*t) {
		return nil
	}
	return (*t)[fd].Load()
}
