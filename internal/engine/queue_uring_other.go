//go:build !linux

package engine

import (
	"fmt"
	"syscall"
)

// newURingQueue fails: io_uring is Linux's.
func newURingQueue(depth, efd int) (kernelQueue, error) {
	return nil, fmt.Errorf("setup io_uring: %w", syscall.ENOSYS)
}
