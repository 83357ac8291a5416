#!/usr/bin/env bash
# Target 1 of the performance issue: one goroutine, one port, QD 32, 4 KiB
# O_DIRECT random reads on tmpfs, GOMAXPROCS=1, against fio's libaio engine
# with user-space reaping, alternating, ROUNDS rounds; prints each figure
# and the median ratio. goiocp refills what each harvest returned with one
# ListIO (GOIOCP_QD32_BATCH=32).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-5}
FILE=${FILE:-/dev/shm/goiocp-qd32}
command -v fio >/dev/null || { echo "fio is not installed (apt-get install -y fio)"; exit 1; }
[ -f "$FILE" ] || head -c $((256 << 20)) /dev/zero >"$FILE"
go test -c -o /tmp/goiocp-bench.test ./bench
ratios=()
for r in $(seq "$ROUNDS"); do
	g=$(GOIOCP_QD32_BATCH=32 GOIOCP_QD32_FILE=$FILE GOMAXPROCS=1 /tmp/goiocp-bench.test -test.run '^$' -test.bench '^BenchmarkQD32$' -test.benchtime=2s |
		awk '/IOPS/ { for (i = 1; i < NF; i++) if ($(i+1) == "IOPS") print $i }')
	f=$(fio --name=t1 --filename="$FILE" --rw=randread --bs=4k --direct=1 --ioengine=libaio --iodepth=32 \
		--iodepth_batch_submit=16 --iodepth_batch_complete_max=32 --userspace_reap --gtod_reduce=1 \
		--runtime=2 --time_based --size=256m --thread --output-format=json |
		python3 -c 'import json,sys; print(round(json.load(sys.stdin)["jobs"][0]["read"]["iops"]))')
	ratio=$(python3 -c "print(f'{$g/$f:.2f}')")
	ratios+=("$ratio")
	echo "round $r: goiocp $g IOPS, fio libaio $f IOPS, ratio $ratio"
done
python3 -c "import statistics,sys; r=[float(x) for x in sys.argv[1:]]; print(f'median ratio {statistics.median(r):.2f} [{min(r):.2f}-{max(r):.2f}]')" "${ratios[@]}"
