package engine

// Associate records that file fd is associated with the context's port
// under key; a later Associate of the same fd replaces the key (the kernel
// reuses fd numbers, so the association belongs to the number).
func (c *Context) Associate(fd int, key uintptr) {
	c.assocMu.Lock()
	defer c.assocMu.Unlock()
	old := c.assoc.Load()
	m := make(map[int]uintptr, 1)
	if old != nil {
		for k, v := range *old {
			m[k] = v
		}
	}
	m[fd] = key
	c.assoc.Store(&m)
}

// KeyOf returns the completion key of fd's association, and whether there
// is one. It takes no lock.
func (c *Context) KeyOf(fd int) (uintptr, bool) {
	m := c.assoc.Load()
	if m == nil {
		return 0, false
	}
	k, ok := (*m)[fd]
	return k, ok
}
