//go:build linux

package bench

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
)

func TestParseFio(t *testing.T) {
	data, err := os.ReadFile("testdata/fio-randread-libaio.json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseFio(append([]byte("note: a line fio prints first\n"), data...), OpRead)
	if err != nil {
		t.Fatal(err)
	}
	// Values from the recorded run: 2 jobs, iodepth 4, 300 ms.
	if s.Requests != 161063 || s.Elapsed != 300*time.Millisecond || s.P50 != 13504 || s.P99 != 54016 || s.P999 != 76288 {
		t.Fatalf("sample %+v", s)
	}
	if s.IOPS < 536876 || s.IOPS > 536877 || s.AllocsPerReq != -1 {
		t.Fatalf("sample %+v", s)
	}
	// (41.666667+57.666667)% of 600 ms job runtime over 161063 requests.
	if want := (41.666667 + 57.666667) / 100 * 600e6 / 161063; s.CPUPerReq < want*0.999 || s.CPUPerReq > want*1.001 {
		t.Fatalf("cpu per request %v, want %v", s.CPUPerReq, want)
	}
	if _, err := ParseFio(data, OpWrite); err == nil {
		t.Fatal("write figures from a read run")
	}
	if _, err := ParseFio([]byte("garbage"), OpRead); err == nil {
		t.Fatal("garbage parsed")
	}
}

func TestFioArgs(t *testing.T) {
	job := Job{Workload: SeqRead128K, Target: Target{Path: "/x/f", Size: 64 << 20, Direct: true}, G: 4, QD: 16, Duration: 1500 * time.Millisecond}
	args := Fio{IOEngine: "io_uring"}.Args(job)
	for _, want := range []string{"--filename=/x/f", "--rw=read", "--bs=131072", "--direct=1", "--ioengine=io_uring",
		"--iodepth=16", "--numjobs=4", "--runtime=1500ms", "--output-format=json", "--lat_percentiles=1", "--thread"} {
		if !slices.Contains(args, want) {
			t.Errorf("args %v lack %s", args, want)
		}
	}
	if RandWrite4K.FioRW() != "randwrite" || RandRead4K.FioRW() != "randread" {
		t.Fatal("fio rw")
	}
}

// TestFioRuns runs the fio engine for real once (libaio, 200 ms of 4 KiB
// random reads on a small file) and reads its report: the command line the
// suite builds is one this fio accepts, and its JSON parses to a sample.
func TestFioRuns(t *testing.T) {
	p, err := exec.LookPath("fio")
	if err != nil {
		t.Skip("fio is not installed (apt-get install -y fio; .ci/run installs it)")
	}
	dir := "/dev/shm"
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		dir = t.TempDir()
	}
	path, err := CreateFile(dir, 8<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(path)
	job := Job{Workload: RandRead4K, Target: Target{Path: path, Size: 8 << 20}, G: 1, QD: 4, Duration: 200 * time.Millisecond}
	s, err := Fio{IOEngine: "libaio", Path: p}.Run(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if s.Requests <= 0 || s.IOPS <= 0 || s.P99 <= 0 {
		t.Fatalf("fio sample %+v", s)
	}
}
