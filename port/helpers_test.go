//go:build linux

package port_test

import (
	"fmt"
	"strings"
)

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

func fmtSscan(s string, v *int) (int, error) { return fmt.Sscan(strings.TrimSpace(s), v) }

func containsStr(s, sub string) bool { return strings.Contains(s, sub) }
