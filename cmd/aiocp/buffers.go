//go:build linux

package main

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// buffers is the memory of the blocks: one anonymous mapping, page aligned
// as O_DIRECT requires (without package unsafe), outside the Go heap.
type buffers struct {
	mem []byte
	bs  int
}

// newBuffers maps n blocks of bs bytes.
func newBuffers(n, bs int) (*buffers, error) {
	mem, err := unix.Mmap(-1, 0, n*bs, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("map %d buffers of %d bytes: %w", n, bs, err)
	}
	return &buffers{mem: mem, bs: bs}, nil
}

// block returns block i; with bs a multiple of 4096 it is 4096-aligned.
func (b *buffers) block(i int) []byte {
	return b.mem[i*b.bs : (i+1)*b.bs : (i+1)*b.bs]
}

// free unmaps the blocks. The kernel must no longer touch them: call it
// after the queue's Release.
func (b *buffers) free() error {
	if err := unix.Munmap(b.mem); err != nil {
		return fmt.Errorf("unmap buffers: %w", err)
	}
	return nil
}
