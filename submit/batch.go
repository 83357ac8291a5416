package submit

import (
	"sync"
	"time"

	"github.com/goiocp/goiocp/internal/engine"
)

var noDeadline time.Time

// batch is the scratch of one ListIO call, pooled so that a steady stream
// of batches does not allocate.
type batch struct {
	reqs []*engine.Request
	ctxs []*engine.Context
	part []*engine.Request
}

var batchPool = sync.Pool{New: func() any { return new(batch) }}

func getBatch() *batch { return batchPool.Get().(*batch) }

func putBatch(b *batch) {
	clear(b.reqs)
	clear(b.ctxs)
	b.reqs, b.ctxs = b.reqs[:0], b.ctxs[:0]
	batchPool.Put(b)
}
