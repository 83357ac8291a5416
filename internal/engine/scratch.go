package engine

import (
	"sync"

	"github.com/goiocp/goiocp/internal/abi"
)

// scratch holds the per-call slices of one Submit, pooled so that batches
// do not allocate in steady state.
type scratch struct {
	iocbs  []*abi.IOCB
	reqs   []*Request
	heads  []*Request // stream requests at the head of their FIFOs
	inline []*Request // io_uring: transfers done in the submitter
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

func putScratch(s *scratch) {
	clear(s.iocbs)
	clear(s.reqs)
	clear(s.heads)
	clear(s.inline)
	s.iocbs, s.reqs, s.heads, s.inline = s.iocbs[:0], s.reqs[:0], s.heads[:0], s.inline[:0]
	scratchPool.Put(s)
}
