#!/usr/bin/env bash
# Turns "--name value" (and "--name=value") arguments into shell variables that
# the calling script already defines, Kaldi-style; "--help" prints its header
# and its options with their defaults.
while [ $# -gt 0 ]; do
  case "$1" in
    --help|-h)
      # the recipes cd to their own folder first, so $0 may no longer resolve
      script=$0; [ -f "$script" ] || script=$(basename "$0")
      sed -n '2,/^set /p' "$script" | sed '$d'
      echo "# Options (--name value), with their defaults:"
      sed -n '/^set -/,/parse_options.sh/p' "$script" | grep -E '^[a-z_]+=' | grep -v '^root=' | sed 's/^/#   --/'
      exit 0 ;;
    --*=*) name=${1%%=*}; value=${1#*=}; shift ;;
    --*) [ $# -ge 2 ] || { echo "$0: option $1 needs a value" >&2; exit 1; }
         name=$1; value=$2; shift 2 ;;
    *) echo "$0: unexpected argument '$1' (options are --name value)" >&2; exit 1 ;;
  esac
  name=${name#--}; name=${name//-/_}
  if ! declare -p "$name" >/dev/null 2>&1; then
    echo "$0: unknown option --$name" >&2; exit 1
  fi
  printf -v "$name" '%s' "$value"
done
