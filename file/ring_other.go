//go:build !linux

package file

// ringReader is Linux's (ring.go); elsewhere there is none.
type ringReader struct{}

// newRingReader returns nil: no io_uring here.
func newRingReader() *ringReader { return nil }

func (rr *ringReader) read(fd int, b []byte, off int64) (int64, bool) { return 0, false }

func (rr *ringReader) close() {}

func (rr *ringReader) busy() bool { return false }
