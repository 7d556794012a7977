# Shared by the test and bench scripts that start twind, twin-sim and helper programs: in a
# sanitizer build those children are instrumented, and what a sanitizer finds goes to their
# stderr, which an exit status does not show (a daemon ended by SIGTERM exits 0 before LeakSanitizer
# speaks, or LeakSanitizer's exit code is taken for the daemon's). Source it; it starts nothing.
# The markers are those of tests/support/process.cpp, which scans the children of C++ tests.
SANITIZER_REPORT='ERROR: (Address|Leak|UndefinedBehavior|Thread)Sanitizer|WARNING: ThreadSanitizer|runtime error:'

# sanitizer_check NAME FILE: 0 when FILE (NAME's stderr; - for stdin) holds no sanitizer report;
# otherwise prints "FAIL: ..." naming NAME and the report (from its first line to its SUMMARY line,
# at most 60 lines) and returns 1.
sanitizer_check() {
  awk -v name="$1" -v file="$2" -v re="$SANITIZER_REPORT" '
    !found && $0 ~ re { found = 1; print "FAIL: a sanitizer report in the stderr of " name " (" file "):" }
    found && n < 60 && !done { print; n++; if ($0 ~ /SUMMARY: /) done = 1 }
    END { exit found }' "$2"
}

# scanned NAME ERR_FILE COMMAND...: runs COMMAND with its stderr in ERR_FILE, then sanitizer_check;
# returns 1 on a report, else COMMAND's exit status.
scanned() {
  local name=$1 err=$2 rc=0
  shift 2
  "$@" 2>"$err" || rc=$?
  sanitizer_check "$name" "$err" || return 1
  return "$rc"
}

# stop_checked NAME PID ERR_FILE: stops PID with stop_pid (scripts/lib/broker.sh: SIGTERM, SIGKILL
# after 10 s), so that a sanitizer build's leak check runs at its exit; prints "FAIL: ..." and
# returns 1 when it did not exit 0 by itself or ERR_FILE (its stderr) holds a sanitizer report.
stop_checked() {
  local rc=0 failed=0
  stop_pid "$2" || rc=$?
  if ((rc != 0)); then
    echo "FAIL: $1 (pid $2) ended with status $rc after SIGTERM (137: SIGKILLed 10 s later); see $3"
    failed=1
  fi
  sanitizer_check "$1" "$3" || failed=1
  return "$failed"
}
