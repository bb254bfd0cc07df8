#!/usr/bin/env bash
# Installs the Debian packages the test suite uses, when they are missing: nft and ip (the data path
# runs kube-proxy in a network namespace) and dot (`nsmigrate graph -o png`). As root it installs them;
# otherwise it says in one line what to install and fails if a required one is missing.
set -euo pipefail

required=(nft:nftables ip:iproute2)
optional=(dot:graphviz)  # without it, the tests check graph's clear error instead

missing() {  # command:package... -> the packages whose command is not on PATH
  for pair in "$@"; do command -v "${pair%%:*}" >/dev/null || printf '%s ' "${pair#*:}"; done
}

needed="$(missing "${required[@]}")"
wanted="$needed$(missing "${optional[@]}")"
[ -n "$wanted" ] || exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "packages: installing $wanted" >&2
  apt-get update -qq >/dev/null
  # shellcheck disable=SC2086 # one word per package
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $wanted >/dev/null
  exit 0
fi
if [ -n "$needed" ]; then
  echo "packages: make test needs $needed(Debian packages); as root: apt-get install -y $wanted" >&2
  exit 1
fi
echo "packages: optional $wanted missing (as root: apt-get install -y $wanted); its tests check the clear error" >&2
