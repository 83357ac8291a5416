package port

import (
	"fmt"
	"os"
	"sync"
	"syscall"

	"github.com/goiocp/goiocp/internal/sys"
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
const EngineEnv = "GOIOCP_ENGINE"

// WithEngine makes the port run on e. A port on an engine this process
// cannot use fails to be made, with an error wrapping ENOSYS that says why.
//
// This build of goiocp has one engine, EngineAIO: the io_uring engine is
// not written yet, so WithEngine(EngineIOURing) fails with ENOSYS on every
// kernel, and its error says whether the kernel would allow io_uring.
func WithEngine(e Engine) Option {
	return func(c *config) { c.engine, c.engineSet = e, true }
}

// Engines returns the engines this kernel, sandbox and build allow,
// probed once: EngineAIO where native AIO works.
func Engines() []Engine {
	probeOnce.Do(probe)
	return engines
}

var (
	probeOnce sync.Once
	engines   []Engine
	aioErr    error
	uringErr  error
)

func probe() {
	if !sys.Supported {
		aioErr = fmt.Errorf("native AIO is Linux's: %w", syscall.ENOSYS)
	} else {
		engines = append(engines, EngineAIO)
	}
	if err := sys.ProbeIOURing(); err != nil {
		uringErr = fmt.Errorf("io_uring: %w", err)
	} else {
		uringErr = fmt.Errorf("the kernel allows io_uring, but this build of goiocp has no io_uring engine yet: %w", syscall.ENOSYS)
	}
}

// defaultEngine is the engine GOIOCP_ENGINE names, parsed once.
var defaultEngine = sync.OnceValues(func() (Engine, error) {
	return parseEngine(os.Getenv(EngineEnv))
})

func parseEngine(v string) (Engine, error) {
	switch v {
	case "", "aio":
		return EngineAIO, nil
	case "io_uring", "iouring", "uring":
		return EngineIOURing, nil
	}
	return EngineAIO, fmt.Errorf("%s=%q: want aio or io_uring: %w", EngineEnv, v, syscall.EINVAL)
}

// engineUsable returns nil when a port may be made on e.
func engineUsable(e Engine) error {
	probeOnce.Do(probe)
	switch e {
	case EngineAIO:
		return aioErr
	case EngineIOURing:
		return uringErr
	}
	return fmt.Errorf("engine %d: %w", int(e), syscall.EINVAL)
}
