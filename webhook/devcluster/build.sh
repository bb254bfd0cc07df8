#!/usr/bin/env bash
# Builds etcd and kube-apiserver from the Go module proxy into a cache outside the repo and prints
# the directory that holds them. No release download is needed (or possible) here.
#
#   webhook/devcluster/build.sh             build if missing, print the directory
#   KUBEBUILDER_ASSETS=/dir .../build.sh    use existing binaries there, build nothing
#
# Recipe: a throw-away wrapper module requires k8s.io/kubernetes and replaces every staging module
# that upstream go.mod lists (`k8s.io/x => ./staging/src/k8s.io/x`) with its published v0.Y.Z; the
# same trick builds etcd's server module at the version Kubernetes pins in build/dependencies.yaml.
set -euo pipefail

K8S_VERSION="${NSMIGRATE_K8S_VERSION:-v1.37.2}"
CACHE_ROOT="${NSMIGRATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nsmigrate}"
OUT="$CACHE_ROOT/bin/k8s-$K8S_VERSION"
export GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:--buildvcs=false}" CGO_ENABLED=0

log() { printf 'build-control-plane: %s\n' "$*" >&2; }

if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
  if [ -x "$KUBEBUILDER_ASSETS/kube-apiserver" ] && [ -x "$KUBEBUILDER_ASSETS/etcd" ]; then
    log "using KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
    echo "$KUBEBUILDER_ASSETS"
    exit 0
  fi
  log "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS lacks etcd or kube-apiserver; building instead"
fi

if [ -x "$OUT/kube-apiserver" ] && [ -x "$OUT/etcd" ]; then
  log "cached in $OUT"
  echo "$OUT"
  exit 0
fi

command -v go >/dev/null || { log "Go is required to build the control plane (none on PATH)"; exit 1; }

module_file() {  # module@version -> path of the module's go.mod in the module cache
  go mod download -json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])'
}

module_dir() {  # module@version -> extracted source directory in the module cache
  go mod download -json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])'
}

# Prints "replace MOD => MOD VERSION" for every local-path replace in the given go.mod.
# Staging modules share the release's minor and patch with major 0 (v1.37.2 -> v0.37.2).
local_replaces() {
  local gomod="$1" version="$2"
  awk -v v="$version" '
    /^replace *\(/ { inblock = 1; next }
    inblock && /^\)/ { inblock = 0; next }
    { line = $0; sub(/^replace +/, "", line) }
    (inblock || /^replace /) && line ~ /=> *\.\.?\// {
      split(line, parts, /[ \t]*=>[ \t]*/); gsub(/[ \t]/, "", parts[1])
      printf "replace %s => %s %s\n", parts[1], parts[1], v
    }' "$gomod"
}

build_tool() {  # workdir module version package replaces-file output
  local dir="$1" module="$2" version="$3" pkg="$4" replaces="$5" out="$6"
  rm -rf "$dir" && mkdir -p "$dir"
  {
    echo "module nsmigrate.local/$(basename "$out" .tmp)-build"
    echo
    echo "go $(go env GOVERSION | sed 's/^go//; s/\.[0-9]*$//')"
    echo
    cat "$replaces"
  } >"$dir/go.mod"
  (cd "$dir" && go get -tool "$pkg@$version" >&2 && go build -trimpath -ldflags "-s -w" -o "$out" "$pkg" >&2)
}

mkdir -p "$OUT"
work="$CACHE_ROOT/work"
start=$SECONDS

k8s_gomod=$(module_file "k8s.io/kubernetes@$K8S_VERSION")
local_replaces "$k8s_gomod" "v0.${K8S_VERSION#v1.}" >"$CACHE_ROOT/k8s-replaces.txt"
log "kubernetes $K8S_VERSION: $(wc -l <"$CACHE_ROOT/k8s-replaces.txt") staging modules replaced"

# The etcd release Kubernetes is tested with.
k8s_dir=$(module_dir "k8s.io/kubernetes@$K8S_VERSION")
ETCD_VERSION="v$(awk '/name: "etcd"/ { getline; print $2; exit }' "$k8s_dir/build/dependencies.yaml")"
etcd_gomod=$(module_file "go.etcd.io/etcd/server/v3@$ETCD_VERSION")
local_replaces "$etcd_gomod" "$ETCD_VERSION" >"$CACHE_ROOT/etcd-replaces.txt"
log "etcd $ETCD_VERSION: $(wc -l <"$CACHE_ROOT/etcd-replaces.txt") sibling modules replaced"

if [ ! -x "$OUT/etcd" ]; then
  log "building etcd $ETCD_VERSION"
  build_tool "$work/etcd" go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3 \
    "$CACHE_ROOT/etcd-replaces.txt" "$OUT/etcd.tmp"
  mv "$OUT/etcd.tmp" "$OUT/etcd"
fi
if [ ! -x "$OUT/kube-apiserver" ]; then
  log "building kube-apiserver $K8S_VERSION"
  build_tool "$work/kube-apiserver" k8s.io/kubernetes "$K8S_VERSION" k8s.io/kubernetes/cmd/kube-apiserver \
    "$CACHE_ROOT/k8s-replaces.txt" "$OUT/kube-apiserver.tmp"
  mv "$OUT/kube-apiserver.tmp" "$OUT/kube-apiserver"
fi
printf 'kubernetes=%s\netcd=%s\n' "$K8S_VERSION" "$ETCD_VERSION" >"$OUT/VERSIONS"
log "built in $((SECONDS - start)) s into $OUT"
echo "$OUT"
