//go:build linux

package bench

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// testDirs returns the directories the engine tests run on: the test's
// temp dir (disk) and /dev/shm when it exists.
func testDirs(t *testing.T) map[string]string {
	dirs := map[string]string{"disk": t.TempDir()}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		dirs["tmpfs"] = "/dev/shm"
	}
	return dirs
}

func TestEngines(t *testing.T) {
	engines, notes, err := ParseEngines("all")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range notes {
		t.Log(n)
	}
	for fs, dir := range testDirs(t) {
		path, err := CreateFile(dir, 4<<20)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(path) })
		for _, direct := range []bool{true, false} {
			if direct && ProbeDirect(path) != nil {
				continue
			}
			tg := Target{FS: fs, Path: path, Size: 4 << 20, Direct: direct}
			for _, wl := range AllWorkloads {
				for _, e := range engines {
					if _, isFio := e.(Fio); isFio && (wl != RandRead4K || fs != "tmpfs") {
						continue // fio starts slowly: one workload is enough to check the wiring
					}
					t.Run(fs+"/"+tg.Label()+"/"+wl.Name+"/"+e.Name(), func(t *testing.T) {
						job := Job{Workload: wl, Target: tg, G: 3, QD: 2, Duration: 20 * time.Millisecond}
						s, err := e.Run(context.Background(), job)
						if err != nil {
							t.Fatal(err)
						}
						if s.Requests == 0 || s.IOPS <= 0 || s.MBps <= 0 || s.P50 <= 0 || s.P999 < s.P50 {
							t.Fatalf("implausible sample %+v", s)
						}
						if s.Bytes != s.Requests*int64(wl.Size) {
							t.Fatalf("bytes %d for %d requests of %d", s.Bytes, s.Requests, wl.Size)
						}
					})
				}
			}
		}
	}
}

func TestParseEngines(t *testing.T) {
	es, _, err := ParseEngines("ports,global,readat,ports")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	want := []string{EnginePorts, EngineGlobalEBUSY, EngineGlobalCollector, EngineReadAt}
	if len(names) != len(want) {
		t.Fatalf("got %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("got %v, want %v", names, want)
		}
	}
	if _, _, err := ParseEngines("nope"); err == nil {
		t.Fatal("unknown engine accepted")
	}
	_, notes, _ := ParseEngines("fio")
	if _, err := exec.LookPath("fio"); err != nil && len(notes) == 0 {
		t.Fatal("no install hint without fio")
	}
}

func TestGlobalTooDeep(t *testing.T) {
	_, err := Global{}.Run(context.Background(), Job{G: 64, QD: 32})
	if err == nil {
		t.Fatal("G×qd beyond the default context accepted")
	}
}
