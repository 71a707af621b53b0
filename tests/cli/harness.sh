# Shared by the CLI test scripts (sourced): a scratch directory, pass/fail counting, exit-code checks.
# The script sets `bin` first and ends with `finish`.
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails=0; passes=0
# check NAME STATUS. Pass the status saved before the name is expanded ("cmd; st=$?; check \"... $(x)\" $st"):
# a command substitution in NAME sets $? to its own status first, so "cmd; check \"$(x)\" $?" always passes.
check() { if [ "$2" -eq 0 ]; then passes=$((passes+1)); else echo "FAIL: $1"; fails=$((fails+1)); fi; }
expect_code() { # name, expected exit code, command...
  local name=$1 want=$2; shift 2
  "$@" > "$work/out" 2> "$work/err"; local got=$?
  [ "$got" -eq "$want" ]; local ok=$?
  [ $ok -ne 0 ] && { echo "  expected exit $want, got $got: $*"; tail -5 "$work/err"; }
  check "$name" $ok
}
finish() { echo "$passes passed, $fails failed"; [ "$fails" -eq 0 ]; }
