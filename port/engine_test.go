//go:build linux

package port_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/goiocp/goiocp/port"
)

// TestEngines: native AIO is listed and makes ports; io_uring, which this
// build does not have, is not listed and fails with ENOSYS saying why; an
// engine that does not exist is EINVAL.
func TestEngines(t *testing.T) {
	es := port.Engines()
	if len(es) == 0 || es[0] != port.EngineAIO {
		t.Fatalf("Engines() = %v, want aio first", es)
	}
	for _, e := range es {
		if e == port.EngineIOURing {
			t.Fatalf("Engines() lists io_uring, which this build does not have")
		}
	}
	p, err := port.New(port.WithEngine(port.EngineAIO))
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	_, err = port.New(port.WithEngine(port.EngineIOURing))
	if !errors.Is(err, syscall.ENOSYS) || !strings.Contains(err.Error(), "io_uring") {
		t.Errorf("WithEngine(io_uring): %v, want ENOSYS naming io_uring", err)
	}
	if _, err := port.New(port.WithEngine(port.Engine(7))); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("WithEngine(7): %v, want EINVAL", err)
	}
	if port.EngineIOURing.String() != "io_uring" || port.EngineAIO.String() != "aio" {
		t.Errorf("names %q %q", port.EngineAIO, port.EngineIOURing)
	}
}

// TestEngineEnv runs this test binary again with GOIOCP_ENGINE set: aio
// makes ports, io_uring fails with ENOSYS, anything else is an error at the
// first port naming the variable.
func TestEngineEnv(t *testing.T) {
	if _, ok := os.LookupEnv("GOIOCP_ENGINE_CHILD"); ok {
		_, err := port.New()
		if err != nil {
			os.Stdout.WriteString("error: " + err.Error())
		} else {
			os.Stdout.WriteString("ok")
		}
		os.Exit(0)
	}
	for env, want := range map[string]string{
		"aio":      "ok",
		"io_uring": "no io_uring engine yet",
		"bogus":    `GOIOCP_ENGINE="bogus": want aio or io_uring`,
	} {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestEngineEnv$")
		cmd.Env = append(os.Environ(), "GOIOCP_ENGINE_CHILD=1", "GOIOCP_ENGINE="+env)
		out, _ := cmd.Output()
		if !strings.Contains(string(out), want) && !(env == "io_uring" && strings.Contains(string(out), "io_uring")) {
			t.Errorf("GOIOCP_ENGINE=%s: %q, want %q", env, out, want)
		}
	}
}
