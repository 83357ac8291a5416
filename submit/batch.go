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
	ctxs []*engine.Context // each entry's context
	part []*engine.Request
	used []*engine.Context // the contexts submitted to, once each
}

var batchPool = sync.Pool{New: func() any { return new(batch) }}

func getBatch() *batch { return batchPool.Get().(*batch) }

func putBatch(b *batch) {
	clear(b.reqs)
	clear(b.ctxs)
	clear(b.used)
	b.reqs, b.ctxs, b.used = b.reqs[:0], b.ctxs[:0], b.used[:0]
	batchPool.Put(b)
}
