package port

import (
	"fmt"
	"sync"
	"syscall"

	"github.com/goiocp/goiocp/internal/engine"
)

// Engine is the kernel interface a port runs on.
type Engine int

// The engines.
const (
	EngineAIO     Engine = iota // Linux native AIO: io_setup/io_submit, the seed's model (default)
	EngineIOURing               // io_uring: one ring per port, its eventfd registered
)

// String returns the engine's name, as GOIOCP_ENGINE spells it.
func (e Engine) String() string {
	switch e {
	case EngineAIO:
		return "aio"
	case EngineIOURing:
		return "io_uring"
	}
	return fmt.Sprintf("Engine(%d)", int(e))
}

// EngineEnv is the environment variable that picks the engine of ports
// made without WithEngine (and of package file's ports): "aio" or
// "io_uring". It is read once, at the first port made.
const EngineEnv = engine.EngineEnv

// WithEngine makes the port run on e. A port on an engine this process
// cannot use fails to be made, with an error wrapping ENOSYS that says why.
//
// EngineIOURing fails, with ENOSYS, where the kernel has no io_uring, where
// kernel.io_uring_disabled forbids it, or where a seccomp filter refuses
// io_uring_setup; the error says which and how to fix it.
func WithEngine(e Engine) Option {
	return func(c *config) { c.engine, c.engineSet = e, true }
}

// Engines returns the engines this kernel, sandbox and build allow,
// probed once: EngineAIO where native AIO works, EngineIOURing where
// io_uring does.
func Engines() []Engine { return engines() }

var engines = sync.OnceValue(func() []Engine {
	var es []Engine
	for _, e := range []Engine{EngineAIO, EngineIOURing} {
		if engineUsable(e) == nil {
			es = append(es, e)
		}
	}
	return es
})

// defaultEngine is the engine GOIOCP_ENGINE names, parsed once.
func defaultEngine() (Engine, error) {
	k, err := engine.DefaultKind()
	return Engine(k), err
}

// engineUsable returns nil when a port may be made on e.
func engineUsable(e Engine) error {
	if e != EngineAIO && e != EngineIOURing {
		return fmt.Errorf("engine %d: %w", int(e), syscall.EINVAL)
	}
	return engine.Usable(engine.Kind(e))
}
