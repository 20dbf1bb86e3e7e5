#!/usr/bin/env bash
# ./test.sh — install what is missing, build (normal and ASan/UBSan), run every test.
# Prints "N passed, N failed" at the end; exits non-zero if anything failed.
set -u
cd "$(dirname "$0")"
. .ci/packages.sh

gs_install_missing "${GS_BUILD_PACKAGES[@]}" "${GS_RUN_PACKAGES[@]}" "${GS_GUI_PACKAGES[@]}" \
                   "${GS_TEST_PACKAGES[@]}" || { echo "gradscope: package installation failed" >&2; exit 1; }

gs_build build || exit 1
gs_build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug || exit 1

passed=0
failed=0
run_suite() {
    local dir="$1"
    shift
    echo "== meson test -C $dir $*"
    meson test -C "$dir" --print-errorlogs "$@"
    local log="$dir/meson-logs/testlog.json"
    if [ -f "$log" ]; then
        local ok bad
        ok=$(grep -c '"result": "OK"' "$log" || true)
        bad=$(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)
        passed=$((passed + ok))
        failed=$((failed + bad))
    else
        failed=$((failed + 1))
    fi
}

run_suite build
# Everything again under AddressSanitizer (with leak checks) and UBSan, except the
# suites marked 'heavy' (long real-data runs that exercise no extra code paths).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export LSAN_OPTIONS="suppressions=$PWD/.ci/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite build-asan --no-suite heavy

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
