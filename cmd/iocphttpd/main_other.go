//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "iocphttpd: Linux only (it runs on Linux native AIO)")
	os.Exit(1)
}
