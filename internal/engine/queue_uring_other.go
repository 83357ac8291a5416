//go:build !linux

package engine

import (
	"fmt"
	"syscall"
)

// uringQueue is never made off Linux; it exists so that the common code
// naming it builds.
type uringQueue struct {
	kernelQueue
	c *Context
}

func (q *uringQueue) fixOrRefuse(r *Request) { r.refuse = syscall.ENOSYS }
func (q *uringQueue) unfix(int32)            {}

// newURingQueue fails: io_uring is Linux's.
func newURingQueue(c *Context) (*uringQueue, error) {
	return nil, fmt.Errorf("setup io_uring: %w", syscall.ENOSYS)
}
