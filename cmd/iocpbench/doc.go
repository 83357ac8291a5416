// Command iocpbench runs goiocp's benchmark suite (package bench): the
// ports engine against the single global waiter, os.File.ReadAt and fio, on
// the same file, alternating engines round by round, and prints a table,
// writes JSON and an SVG plot of IOPS against G.
//
// Usage:
//
//	iocpbench [flags]
//
// The full suite (make bench):
//
//	iocpbench -engines all -workloads all -g 1,2,4,8,16,64 -qd 8 -rounds 3 -duration 1s
//
// The quick comparison (make demo; about 25 s on 2 cores): ports, both
// global shapes and readat, 4 KiB random O_DIRECT reads on a temp file, G
// 1, 4, 16, 64, three rounds of 300 ms:
//
//	iocpbench -quick
//
// Re-render a saved run as Markdown (for a README) or redraw its plot:
//
//	iocpbench -from bench/results/NAME.json -format markdown
//	iocpbench -from bench/results/NAME.json -svg out.svg
//
// A progress line is drawn on stderr when stderr is a terminal. fio engines
// need fio on PATH (apt-get install -y fio); without it they are skipped
// with a note.
package main
