package port

// DefaultDepth is the depth of a port made without WithDepth.
const DefaultDepth = 64

// config is what the options set.
type config struct {
	depth int
}

// Option configures New.
type Option func(*config)

// WithDepth sets how many requests the port holds in flight: the nr_events
// of its io_setup, charged against /proc/sys/fs/aio-max-nr. A submit beyond
// it fails with EAGAIN and performs no I/O. n must be positive.
func WithDepth(n int) Option {
	return func(c *config) { c.depth = n }
}
