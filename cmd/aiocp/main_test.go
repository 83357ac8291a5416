//go:build linux

package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/goiocp/goiocp/internal/testutil"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

// TestMain removes the binary that binary builds, and runs the tests on
// each engine (the built aiocp inherits GOIOCP_ENGINE).
func TestMain(m *testing.M) {
	code := testutil.OnEachEngine(m.Run)
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds aiocp once, into a directory anybody may read and run
// from (the unreadable-file test runs it as another user).
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "aiocp-bin"); buildErr != nil {
			return
		}
		if buildErr = os.Chmod(binDir, 0o755); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "aiocp")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("go build: %s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build aiocp: %v", buildErr)
	}
	return binPath
}

// result is what one aiocp run did.
type result struct {
	code           int
	stdout, stderr string
}

// aiocp runs aiocp in the test's process with args.
func aiocp(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb, nil)
	return result{code, out.String(), errb.String()}
}

// randomFile writes size random bytes to dir/name and returns its path and
// content.
func randomFile(t *testing.T, dir, name string, size int, seed uint64) (string, []byte) {
	t.Helper()
	data := make([]byte, size)
	rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 1}).Read(data)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, data
}

// sameContent fails the test unless file p holds want.
func sameContent(t *testing.T, p string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < min(len(got), len(want)) && got[i] == want[i] {
			i++
		}
		t.Fatalf("%s: %d bytes, want %d; first difference at %d", p, len(got), len(want), i)
	}
}

// noLeftovers fails the test if dir holds a temporary file of aiocp.
func noLeftovers(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), ".aiocp-") {
			t.Errorf("temporary file %s left in %s", e.Name(), dir)
		}
	}
}

// isRoot reports whether the test runs as root, which file permissions do
// not stop.
func isRoot() bool { return os.Geteuid() == 0 }
