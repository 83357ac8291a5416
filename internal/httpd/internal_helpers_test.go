//go:build linux

package httpd

import (
	"bufio"
	"strings"
)

func bufioOf(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }
