#!/bin/sh
# run.sh - runs every built libFuzzer target (build/fuzz/fuzz_*) for a while
# on a working copy of its seed corpus (fuzz/corpus/NAME), so new inputs
# never land in the repository.  Exits non-zero if any target crashes.
#   sh fuzz/run.sh [SECONDS]        default 20
set -u
t=${1:-20}
dir=${FUZZ_DIR:-build/fuzz}
status=0
found=0
for bin in "$dir"/fuzz_*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	found=1
	name=${bin##*/fuzz_}
	work="$dir/corpus/$name"
	mkdir -p "$work"
	[ -d "fuzz/corpus/$name" ] && cp -f fuzz/corpus/"$name"/* "$work"/ 2>/dev/null
	echo "fuzz: $name for ${t}s" >&2
	if ! "$bin" -max_total_time="$t" -print_final_stats=1 \
		-artifact_prefix="$dir/crash-$name-" "$work" >"$dir/$name.log" 2>&1; then
		echo "fuzz: $name FAILED, see $dir/$name.log and $dir/crash-$name-*" >&2
		tail -40 "$dir/$name.log" >&2
		status=1
	else
		grep -E '^stat::number_of_executed_units|^stat::new_units_added' \
			"$dir/$name.log" | sed "s/^/fuzz: $name /" >&2
	fi
done
if [ "$found" = 0 ]; then
	echo "fuzz: no targets in $dir (run make fuzz)" >&2
	exit 1
fi
exit $status
