#!/usr/bin/env bash
# Target 3 of the performance issue: a file on disk, O_DIRECT, 4 KiB random
# reads. goiocp (one goroutine, one port, QD 32, refilled in ListIO batches
# of 16 like fio's --iodepth_batch_submit=16: BenchmarkQD32) against fio's
# libaio engine at QD 32 (the issue's flags) and against os.File.ReadAt from
# 32 goroutines (iocpbench's readat engine), alternating, ROUNDS rounds;
# prints each figure and the median ratios. goiocp runs twice a round: with the default
# port (waiters park in the netpoller) and with port.WithKernelWait (they
# sleep in io_getevents).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-5}
FILE=${FILE:-/var/tmp/goiocp-target3}
SECS=${SECS:-3}
command -v fio >/dev/null || { echo "fio is not installed (apt-get install -y fio)"; exit 1; }
[ "$(stat -c %s "$FILE" 2>/dev/null)" = $((256 << 20)) ] ||
	head -c $((256 << 20)) /dev/urandom >"$FILE"
go test -c -o /tmp/goiocp-bench.test ./bench
go build -o /tmp/goiocp-iocpbench ./cmd/iocpbench
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
bench() {
	GOIOCP_QD32_BATCH=16 GOIOCP_QD32_FILE=$FILE /tmp/goiocp-bench.test -test.run '^$' -test.bench "^$1\$" -test.benchtime=${SECS}s |
		awk '/IOPS/ { for (i = 1; i < NF; i++) if ($(i+1) == "IOPS") print $i }'
}
readat() {
	/tmp/goiocp-iocpbench -engines readat -workloads randread-4k -file "$FILE" -direct on -g 32 \
		-rounds 1 -duration "${SECS}s" -out "$out" -name readat >/dev/null
	python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["cells"][0]["engines"][0]["iops"][0]))' "$out/readat.json"
}
fiorun() {
	fio --name=t3 --filename="$FILE" --rw=randread --bs=4k --direct=1 --ioengine=libaio --iodepth=32 \
		--iodepth_batch_submit=16 --iodepth_batch_complete_max=32 --userspace_reap --gtod_reduce=1 \
		--runtime="$SECS" --time_based --size=256m --thread --output-format=json |
		python3 -c 'import json,sys; print(round(json.load(sys.stdin)["jobs"][0]["read"]["iops"]))'
}
rf=() rr=() kf=() kr=()
for r in $(seq "$ROUNDS"); do
	g=$(bench BenchmarkQD32)
	k=$(GOIOCP_QD32_KWAIT=1 bench BenchmarkQD32)
	f=$(fiorun)
	a=$(readat)
	rf+=("$(python3 -c "print(f'{$g/$f:.2f}')")")
	rr+=("$(python3 -c "print(f'{$g/$a:.2f}')")")
	kf+=("$(python3 -c "print(f'{$k/$f:.2f}')")")
	kr+=("$(python3 -c "print(f'{$k/$a:.2f}')")")
	echo "round $r: goiocp QD32 $g IOPS, kernel-wait $k IOPS, fio libaio QD32 $f IOPS, ReadAt x32 $a IOPS:" \
		"${rf[-1]}x / ${kf[-1]}x fio, ${rr[-1]}x / ${kr[-1]}x ReadAt"
done
python3 -c "
import statistics, sys
n = (len(sys.argv) - 1) // 4
names = ('goiocp / fio libaio', 'goiocp / ReadAt x32', 'kernel-wait / fio libaio', 'kernel-wait / ReadAt x32')
for i, name in enumerate(names):
    r = [float(x) for x in sys.argv[1 + i * n:1 + (i + 1) * n]]
    print(f'{name}: median {statistics.median(r):.2f} [{min(r):.2f}-{max(r):.2f}]')
" "${rf[@]}" "${rr[@]}" "${kf[@]}" "${kr[@]}"
