//go:build linux

package port_test

import (
	"errors"
	"fmt"
	"strings"
)

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

func fmtSscan(s string, v *int) (int, error) { return fmt.Sscan(strings.TrimSpace(s), v) }

func containsStr(s, sub string) bool { return strings.Contains(s, sub) }

func errorsIs(err, target error) bool { return errors.Is(err, target) }
