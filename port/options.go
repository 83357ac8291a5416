package port

// DefaultDepth is the depth of a port made without WithDepth.
const DefaultDepth = 64

// config is what the options set.
type config struct {
	depth      int
	kernelWait bool
	engine     Engine
	engineSet  bool // WithEngine was given; else GOIOCP_ENGINE decides
}

// Option configures New.
type Option func(*config)

// WithDepth sets how many requests the port holds in flight: the nr_events
// of its io_setup, charged against /proc/sys/fs/aio-max-nr. A submit beyond
// it fails with EAGAIN and performs no I/O. n must be positive.
func WithDepth(n int) Option {
	return func(c *config) { c.depth = n }
}

// WithKernelWait makes the port's waiters always sleep inside io_getevents,
// as a libaio or fio loop does, never in the Go netpoller on the port's
// eventfd, and its requests never signal the eventfd. A default port does
// the same on its own while its waits are short, and turns to the netpoller
// after a wait of a millisecond or more (see the package doc); this option
// keeps it in the kernel for good. The price is one OS thread per port while
// a waiter sleeps (the Go runtime lends the goroutine's P to others
// meanwhile), so it suits a few ports that wait on a device, not thousands
// of mostly idle ones. Everything else (PostQueuedCompletionStatus, Close,
// timeouts, Wait's context) behaves the same: a kernel POLL request on the
// eventfd wakes the sleeper.
//
// On the development VM's virtio disk, one goroutine at QD 32 ran at 0.99x
// fio libaio with it, and at 0.91-1.01x with a default port (medians of
// three runs, bench/scripts/target3.sh, bench/README.md).
func WithKernelWait() Option {
	return func(c *config) { c.kernelWait = true }
}
