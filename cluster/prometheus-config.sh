#!/usr/bin/env bash
# Prints cluster/prometheus.yml with the coordinator's address, the job's token file and the scrape interval
# substituted: the one way cluster/up.sh and the monitoring tests make a Prometheus configuration, so the
# shipped file is the file that is tested.
#
#   prometheus-config.sh --target HOST:PORT --token-file PATH [--interval DURATION] [--template FILE]
set -euo pipefail

die() { echo "prometheus-config.sh: ERROR: $*" >&2; exit 2; }

template="$(dirname "${BASH_SOURCE[0]}")/prometheus.yml"
target="" token_file="" interval=""
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target="${2:-}"; shift 2 ;;
    --token-file) token_file="${2:-}"; shift 2 ;;
    --interval) interval="${2:-}"; shift 2 ;;
    --template) template="${2:-}"; shift 2 ;;
    -h|--help) sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1'" ;;
  esac
done
[[ "$target" =~ ^[A-Za-z0-9.:_-]+:[0-9]+$ ]] || die "--target HOST:PORT is required (got '$target')"
[ -n "$token_file" ] || die "--token-file PATH is required"
[[ "$token_file" == /* ]] || die "--token-file must be an absolute path (Prometheus reads relative ones from the config's directory): '$token_file'"
[[ "$token_file" != *[\'\|\\]* ]] || die "--token-file must not contain quotes, '|' or backslashes: '$token_file'"
[ -z "$interval" ] || [[ "$interval" =~ ^[0-9]+(ms|s|m)$ ]] || die "--interval must be a Prometheus duration such as 1s or 500ms (got '$interval')"
[ -r "$template" ] || die "cannot read the template $template"

# Each substitution must hit exactly one line, or the template changed under us.
expect_one() {
  local count
  count="$(grep -cE "$1" "$template" || true)"
  [ "$count" = 1 ] || die "$template: expected one line matching '$1', found $count"
}
expect_one '^\s*credentials_file:'
expect_one "^\s*- targets:"
script=(-e "s|^\(\s*credentials_file:\).*|\1 '$token_file'|" -e "s|^\(\s*- targets:\).*|\1 ['$target']|")
if [ -n "$interval" ]; then
  expect_one '^\s*scrape_interval:'
  expect_one '^\s*scrape_timeout:'
  # The timeout may not exceed the interval.
  script+=(-e "s|^\(\s*scrape_interval:\).*|\1 $interval|" -e "s|^\(\s*scrape_timeout:\).*|\1 $interval|")
fi
sed "${script[@]}" "$template"
