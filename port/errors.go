package port

import (
	"errors"
	"os"
	"time"
)

// Infinite makes a wait block until a packet arrives or the port closes.
const Infinite time.Duration = -1

// Errors of the waits.
var (
	// ErrTimeout is returned when a wait timed out (WAIT_TIMEOUT).
	// errors.Is(ErrTimeout, os.ErrDeadlineExceeded) is true.
	ErrTimeout error = timeoutError{}

	// ErrClosed is returned when the port was closed before or during the
	// call (ERROR_ABANDONED_WAIT_0), and by a second Close.
	ErrClosed = errors.New("port: closed")
)

type timeoutError struct{}

func (timeoutError) Error() string        { return "port: wait timed out" }
func (timeoutError) Timeout() bool        { return true }
func (timeoutError) Is(target error) bool { return target == os.ErrDeadlineExceeded }
