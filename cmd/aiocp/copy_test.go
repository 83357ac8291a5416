//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCopySizes(t *testing.T) {
	sizes := []struct {
		name string
		size int
	}{
		{"0", 0},
		{"1", 1},
		{"64KiB-1", 64<<10 - 1},
		{"64KiB+1", 64<<10 + 1},
		{"100MiB", 100 << 20},
	}
	for i, sz := range sizes {
		if testing.Short() && sz.size > 1<<20 {
			continue
		}
		dir := t.TempDir()
		src, data := randomFile(t, dir, "src", sz.size, uint64(i))
		for _, direct := range []bool{false, true} {
			name := sz.name
			args := []string{"-q"}
			if direct {
				name += "/direct"
				args = append(args, "-direct")
			} else {
				name += "/buffered"
			}
			t.Run(name, func(t *testing.T) {
				out := t.TempDir()
				dst := filepath.Join(out, "dst")
				r := aiocp(t, append(args, src, dst)...)
				if r.code != 0 || r.stderr != "" {
					t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
				}
				sameContent(t, dst, data)
				noLeftovers(t, out)
			})
		}
	}
}

// TestCopyBlockSizes runs the state machine with blocks that do not divide
// the file and a queue of depth 1 (no read-ahead at all).
func TestCopyBlockSizes(t *testing.T) {
	dir := t.TempDir()
	src, data := randomFile(t, dir, "src", 1<<20+12345, 7)
	for _, args := range [][]string{
		{"-block-size", "4k", "-depth", "1"},
		{"-block-size", "1000", "-depth", "3"},
		{"-block-size", "1m", "-depth", "64"},
		{"-block-size", "8k", "-depth", "2", "-direct"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "dst")
			if r := aiocp(t, append(append([]string{"-q"}, args...), src, dst)...); r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			sameContent(t, dst, data)
		})
	}
}

func TestCopyKeepsMode(t *testing.T) {
	dir := t.TempDir()
	for _, mode := range []os.FileMode{0o751, 0o600, 0o444, os.ModeSetgid | 0o755} {
		src, data := randomFile(t, dir, "src"+mode.String(), 5000, 1)
		if err := os.Chmod(src, mode); err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, "dst"+mode.String())
		if r := aiocp(t, "-q", src, dst); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		st, err := os.Stat(dst)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode() & (os.ModePerm | os.ModeSetgid); got != mode {
			t.Errorf("copy of a %v file has mode %v", mode, got)
		}
		sameContent(t, dst, data)
	}
}

func TestCopyIntoDirectory(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	a, da := randomFile(t, dir, "a", 100000, 1)
	b, db := randomFile(t, dir, "b", 3, 2)
	r := aiocp(t, a, b, out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	sameContent(t, filepath.Join(out, "a"), da)
	sameContent(t, filepath.Join(out, "b"), db)
	if !strings.Contains(r.stdout, "2 files, 100003 bytes") || !strings.Contains(r.stdout, "MB/s") {
		t.Errorf("summary %q", r.stdout)
	}
	noLeftovers(t, out)
	// One source into a directory.
	out2 := t.TempDir()
	if r := aiocp(t, "-q", a, out2); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	sameContent(t, filepath.Join(out2, "a"), da)
}

func TestCopyReplacesAndFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	src, data := randomFile(t, dir, "src", 70000, 3)
	old, _ := randomFile(t, dir, "old", 1<<20, 4) // longer than the copy
	if r := aiocp(t, "-q", src, old); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	sameContent(t, old, data)
	target, _ := randomFile(t, dir, "target", 10, 5)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if r := aiocp(t, "-q", "-direct", src, link); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the symlink was replaced: %v", err)
	}
	sameContent(t, target, data)
	noLeftovers(t, dir)
}

func TestVerify(t *testing.T) {
	dir := t.TempDir()
	src, data := randomFile(t, dir, "src", 200001, 6)
	for _, extra := range [][]string{nil, {"-direct"}, {"-fsync"}} {
		dst := filepath.Join(t.TempDir(), "dst")
		r := aiocp(t, append(append([]string{"-verify"}, extra...), src, dst)...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", extra, r.code, r.stderr)
		}
		sameContent(t, dst, data)
	}
	if err := verify(src, src); err != nil {
		t.Fatalf("verify of a file against itself: %v", err)
	}
	other, _ := randomFile(t, dir, "other", 200001, 7)
	if err := verify(src, other); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("verify of different files = %v", err)
	}
}

func TestDevNull(t *testing.T) {
	src, _ := randomFile(t, t.TempDir(), "src", 300000, 8)
	for _, args := range [][]string{{src, os.DevNull}, {"-direct", src, os.DevNull}} {
		r := aiocp(t, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "300000 bytes") {
			t.Fatalf("%v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	if r := aiocp(t, "-verify", src, os.DevNull); r.code != 1 || !strings.Contains(r.stderr, "not a regular file") {
		t.Fatalf("-verify to /dev/null: exit %d, %q", r.code, r.stderr)
	}
}

func TestUsage(t *testing.T) {
	dir := t.TempDir()
	src, _ := randomFile(t, dir, "src", 10, 9)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{src}, "usage: aiocp"},
		{[]string{"-block-size", "0", src, dir}, "bad size"},
		{[]string{"-block-size", "12q", src, dir}, "bad size"},
		{[]string{"-direct", "-block-size", "1000", src, dir}, "multiple of 4096"},
		{[]string{"-depth", "0", src, dir}, "depth 0"},
		{[]string{"-nosuchflag", src, dir}, "not defined"},
		{[]string{src, src, filepath.Join(dir, "nodir")}, "not a directory"},
	} {
		r := aiocp(t, c.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, r.code, r.stderr, c.want)
		}
	}
	if r := aiocp(t, "-h"); r.code != exitOK {
		t.Errorf("-h: exit %d", r.code)
	}
}

func TestSizeFlag(t *testing.T) {
	for in, want := range map[string]int64{"4096": 4096, "64k": 64 << 10, "64K": 64 << 10, "1m": 1 << 20, "2MiB": 2 << 20, "1g": 1 << 30} {
		var s sizeFlag
		if err := s.Set(in); err != nil || int64(s) != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, s, err, want)
		}
	}
	for _, in := range []string{"", "k", "-1", "x", "1t", "99999999999999g"} {
		var s sizeFlag
		if err := s.Set(in); err == nil {
			t.Errorf("Set(%q) = %d, want an error", in, s)
		}
	}
}

func TestSummary(t *testing.T) {
	for _, c := range []struct {
		s    stats
		want string
	}{
		{stats{files: 1, bytes: 1 << 30, elapsed: 2e9}, "aiocp: 1 file, 1073741824 bytes (1.0 GiB) copied in 2.000 s, 536.9 MB/s"},
		{stats{files: 2, bytes: 0}, "aiocp: 2 files, 0 bytes (0 B) copied in 0.000 s, 0.0 MB/s"},
	} {
		if got := c.s.summary(); got != c.want {
			t.Errorf("summary = %q, want %q", got, c.want)
		}
	}
}
