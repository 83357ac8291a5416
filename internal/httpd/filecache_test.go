//go:build linux

package httpd_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/goiocp/goiocp/internal/httpd"
)

// TestFileCache: a served file stays open for FileCache. Writes to it show
// at once (the descriptor names the inode); a file renamed over it, or its
// removal, shows once FileCache has passed; with the cache off, at once.
func TestFileCache(t *testing.T) {
	const valid = 300 * time.Millisecond
	for _, cache := range []time.Duration{valid, -1} {
		s := newSite(t, t.TempDir())
		name := filepath.Join(s.root, "c.txt")
		os.WriteFile(name, []byte("one"), 0o644)
		_, base := server(t, s.root, httpd.Config{FileCache: cache})
		c := client(t)
		body := func() string {
			resp, b := get(t, c, "GET", base+"/c.txt")
			if resp.StatusCode != 200 {
				return resp.Status
			}
			return string(b)
		}
		if got := body(); got != "one" {
			t.Fatalf("first: %q", got)
		}
		f, _ := os.OpenFile(name, os.O_WRONLY, 0)
		f.WriteAt([]byte("ONE"), 0)
		f.Close()
		if got := body(); got != "ONE" {
			t.Errorf("cache %v: after a write: %q, want ONE", cache, got)
		}
		os.WriteFile(name+".new", []byte("two"), 0o644)
		os.Rename(name+".new", name)
		got := body()
		if cache < 0 && got != "two" {
			t.Errorf("no cache: after a rename: %q, want two", got)
		}
		if cache > 0 && got != "ONE" && got != "two" {
			t.Errorf("cache: after a rename: %q", got)
		}
		time.Sleep(valid + 100*time.Millisecond)
		if got := body(); got != "two" {
			t.Errorf("cache %v: after its time: %q, want two", cache, got)
		}
		os.Remove(name)
		time.Sleep(valid + 100*time.Millisecond)
		if got := body(); got != "404 Not Found" {
			t.Errorf("cache %v: removed: %q, want 404", cache, got)
		}
	}
}
