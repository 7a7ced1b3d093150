#!/usr/bin/env bash
# The GitHub Action's logic (action.yml): install scopeaudit in its own virtual environment,
# run the audit once (a JSON report), render the SARIF report and the gate's Markdown report
# (appended to the job summary) from it, and hand the exit code to the action's last step, so
# the SARIF upload runs in between.
# Inputs arrive as INPUT_* environment variables. SCOPEAUDIT_BIN (tests) skips the install.
set -uo pipefail

if [ -n "${SCOPEAUDIT_BIN:-}" ]; then
  scopeaudit="$SCOPEAUDIT_BIN"
else
  venv="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/scopeaudit-venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${INPUT_PACKAGE:-$ACTION_PATH}"
  scopeaudit="$venv/bin/scopeaudit"
fi

command=lint
args=()
[ -n "${INPUT_KEYS:-}" ] && args+=(--keys "$INPUT_KEYS")
if [ -n "${INPUT_LOGS:-}" ]; then
  command=audit
  while IFS= read -r pattern; do
    [ -n "$pattern" ] && args+=(--logs "$pattern")
  done <<< "$INPUT_LOGS"
fi
[ -n "${INPUT_BASELINE:-}" ] && args+=(--baseline "$INPUT_BASELINE")
[ -n "${INPUT_CONFIG:-}" ] && args+=(--config "$INPUT_CONFIG")
[ -n "${INPUT_FAIL_ON:-}" ] && args+=(--fail-on "$INPUT_FAIL_ON")
# No new access (lint --against): by default, on a pull request, against its base branch
against="${INPUT_AGAINST:-}"
if [ -z "$against" ] && [ -n "${GITHUB_BASE_REF:-}" ]; then
  against="origin/$GITHUB_BASE_REF"
fi
if [ "$command" = lint ] && [ -n "$against" ] && [ "$against" != false ]; then
  args+=(--against "$against")
fi
sarif="${INPUT_SARIF_FILE:-scopeaudit.sarif}"

# One run: the audit (or lint) writes its JSON report, and every other output is rendered
# from it (`scopeaudit render`), so SARIF, the job summary and the gate agree and the logs are
# read once. Only an error (exit 2) stops here; the gate is decided by rendering the summary.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
report="$work/audit.json"
"$scopeaudit" "$command" "${args[@]}" --format json -o "$report" --exit-zero
code=$?
if [ "$code" -eq 0 ]; then
  "$scopeaudit" render "$report" --format sarif -o "$sarif" --exit-zero
  code=$?
fi
if [ "$code" -eq 0 ]; then
  gate=()
  [ -n "${INPUT_FAIL_ON:-}" ] && gate+=(--fail-on "$INPUT_FAIL_ON")
  [ -n "${INPUT_CONFIG:-}" ] && gate+=(--config "$INPUT_CONFIG")
  "$scopeaudit" render "$report" --format markdown -o "$work/summary.md" "${gate[@]}"
  code=$?
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -s "$work/summary.md" ]; then
    cat "$work/summary.md" >> "$GITHUB_STEP_SUMMARY"
  fi
fi
echo "exit-code=$code" >> "${GITHUB_OUTPUT:-/dev/null}"
exit 0
