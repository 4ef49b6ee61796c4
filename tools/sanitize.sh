#!/usr/bin/env bash
# Runs the suites that exercise concurrency and shared memory under ThreadSanitizer, in a build of
# its own (.build-tsan: the normal build is untouched). Usage: bash tools/sanitize.sh [FILTER]
# (default: the core, SDK and collector suites). A first build takes about 7 minutes on 2 cores.
# AddressSanitizer runs with the fuzzers (tools/fuzz.sh), over the code that reads untrusted bytes.
# Known false positives: ThreadSanitizer does not see Synchronization.Mutex on Linux (it waits with
# raw futex calls TSan does not intercept), so every Mutex-guarded state is reported as a "Swift
# access race" (the collector's Mailbox and CollectorStatistics). Evidence: a two-thread program that
# appends to a Mutex<[Int]> 20 000 times each ends with all 40 000 items and still gets 6 reports.
set -euo pipefail
cd "$(dirname "$0")/.."
filter="${1:-CoreTests|SDKTests|CollectorTests}"
swift build --build-tests --scratch-path .build-tsan -Xswiftc -sanitize=thread
log="$(mktemp)"
status=0
swift test --skip-build --scratch-path .build-tsan --filter "$filter" 2>&1 | tee "$log" || status=$?
races=$(grep -c "WARNING: ThreadSanitizer" "$log" || true)
echo "== ThreadSanitizer: $races report(s), tests exit $status"
[ "$status" = 0 ] && [ "$races" = 0 ]
