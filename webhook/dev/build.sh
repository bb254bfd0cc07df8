#!/usr/bin/env bash
# Builds the local control plane's binaries from the Go module proxy into a cache outside the repo
# and prints one "name=path" line per binary asked for. No release download is needed (or possible).
#
#   webhook/dev/build.sh                 etcd and kube-apiserver
#   webhook/dev/build.sh demo            what `make demo` runs: also kube-controller-manager,
#                                               kube-scheduler, kwok, coredns and helm
#   webhook/dev/build.sh all             also what only the tests use: kube-proxy, kubectl, promtool
#   webhook/dev/build.sh kwok helm ...   just those
#
# A cold build prints one progress line per binary (name, done/total, elapsed); the go tool's own
# output goes to $CACHE_ROOT/logs/<step>.log and is shown only when a step fails. The Kubernetes
# binaries build in the background while etcd and the tools build in the foreground: both cores work.
#   webhook/dev/build.sh kyverno         the benchmark's peer (not in "all"): Kyverno's admission and
#                                               background controllers, and its CRDs
#   KUBEBUILDER_ASSETS=/dir .../build.sh        etcd and kube-apiserver (and kube-controller-manager, kubectl)
#                                               are taken from there when present, not built
#
# Recipe for Kubernetes: a throw-away wrapper module requires k8s.io/kubernetes and replaces every
# staging module that upstream go.mod lists (`k8s.io/x => ./staging/src/k8s.io/x`) with its published
# v0.Y.Z; the same trick builds etcd's server module at the version Kubernetes pins in
# build/dependencies.yaml, and Kyverno with the `go` line and the `replace`s of its own go.mod.
# kwok, CoreDNS, Helm and promtool have no such replaces: `go install` builds them.
set -euo pipefail

K8S_VERSION="${NSMIGRATE_K8S_VERSION:-v1.37.2}"
KWOK_VERSION="${NSMIGRATE_KWOK_VERSION:-v0.8.0}"
COREDNS_VERSION="${NSMIGRATE_COREDNS_VERSION:-v1.15.0}"
HELM_VERSION="${NSMIGRATE_HELM_VERSION:-v3.22.0}"
KYVERNO_VERSION="${NSMIGRATE_KYVERNO_VERSION:-v1.19.1}"
PROMETHEUS_VERSION="${NSMIGRATE_PROMETHEUS_VERSION:-v0.316.0}"  # the Go module of Prometheus 3.x: promtool
CACHE_ROOT="${NSMIGRATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nsmigrate}"
OUT="$CACHE_ROOT/bin/k8s-$K8S_VERSION"
TOOLS="$CACHE_ROOT/bin/tools"
export GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:--buildvcs=false}" CGO_ENABLED=0

DEMO=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok coredns helm)
ALL=("${DEMO[@]}" kube-proxy kubectl promtool)
wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=(etcd kube-apiserver)
[ "${wanted[*]}" != demo ] || wanted=("${DEMO[@]}")
[ "${wanted[*]}" != all ] || wanted=("${ALL[@]}")

log() { printf 'build-control-plane: %s\n' "$*" >&2; }

where() {  # binary -> the path it has or will have
  case "$1" in
    etcd | kube-apiserver | kube-controller-manager | kube-scheduler | kube-proxy | kubectl)
      if [ -n "${KUBEBUILDER_ASSETS:-}" ] && [ -x "$KUBEBUILDER_ASSETS/$1" ]; then
        echo "$KUBEBUILDER_ASSETS/$1"
      else
        echo "$OUT/$1"
      fi
      ;;
    kwok) echo "$TOOLS/kwok-$KWOK_VERSION/kwok" ;;
    coredns) echo "$TOOLS/coredns-$COREDNS_VERSION/coredns" ;;
    helm) echo "$TOOLS/helm-$HELM_VERSION/helm" ;;
    promtool) echo "$TOOLS/promtool-$PROMETHEUS_VERSION/promtool" ;;
    kyverno) echo "$TOOLS/kyverno-$KYVERNO_VERSION/kyverno" ;;
    *) log "unknown binary $1 (known: ${ALL[*]} kyverno)"; exit 2 ;;
  esac
}

module_json() {  # module@version field -> that field of `go mod download -json`
  go mod download -json "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"
}

# Prints "replace MOD => MOD VERSION" for every local-path replace in the given go.mod.
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

wrapper_build() {  # name module version replaces-file package...: build packages into $OUT
  local name="$1" module="$2" version="$3" replaces="$4"
  shift 4
  local dir="$CACHE_ROOT/work/$name"
  rm -rf "$dir" && mkdir -p "$dir"
  {
    printf 'module nsmigrate.local/%s-build\n\ngo %s\n\n' "$name" "$(go env GOVERSION | sed 's/^go//; s/\.[0-9]*$//')"
    cat "$replaces"
  } >"$dir/go.mod"
  (
    cd "$dir"
    for package in "$@"; do go get -tool "$package@$version" >&2; done
    go build -trimpath -ldflags "-s -w" -o "$dir/bin/" "$@" >&2
  )
  mv "$dir"/bin/* "$OUT/"
}

build_kubernetes() {  # binaries of k8s.io/kubernetes/cmd/...
  local gomod packages=()
  gomod=$(module_json "k8s.io/kubernetes@$K8S_VERSION" GoMod)
  local_replaces "$gomod" "v0.${K8S_VERSION#v1.}" >"$CACHE_ROOT/k8s-replaces.txt"
  log "kubernetes $K8S_VERSION ($*): $(wc -l <"$CACHE_ROOT/k8s-replaces.txt") staging modules replaced"
  for binary in "$@"; do packages+=("k8s.io/kubernetes/cmd/$binary"); done
  wrapper_build kubernetes k8s.io/kubernetes "$K8S_VERSION" "$CACHE_ROOT/k8s-replaces.txt" "${packages[@]}"
}

build_etcd() {  # the etcd release Kubernetes is tested with
  local k8s_dir version gomod
  k8s_dir=$(module_json "k8s.io/kubernetes@$K8S_VERSION" Dir)
  version="v$(awk '/name: "etcd"/ { getline; print $2; exit }' "$k8s_dir/build/dependencies.yaml")"
  gomod=$(module_json "go.etcd.io/etcd/server/v3@$version" GoMod)
  local_replaces "$gomod" "$version" >"$CACHE_ROOT/etcd-replaces.txt"
  log "etcd $version: $(wc -l <"$CACHE_ROOT/etcd-replaces.txt") sibling modules replaced"
  wrapper_build etcd go.etcd.io/etcd/server/v3 "$version" "$CACHE_ROOT/etcd-replaces.txt" go.etcd.io/etcd/server/v3
  mv "$OUT/server" "$OUT/etcd"  # go names a .../server/v3 binary "server"
}

# Prints the `replace` directives of a go.mod (one-line and block forms) as one-line directives.
all_replaces() {
  awk '
    /^replace *\(/ { inblock = 1; next }
    inblock && /^\)/ { inblock = 0; next }
    inblock && NF { print "replace " $0 }
    /^replace [^(]/ { print }' "$1"
}

build_kyverno() {  # admission and background controllers, and the CRDs they need, into one folder
  local module=github.com/kyverno/kyverno gomod source target dir
  gomod=$(module_json "$module@$KYVERNO_VERSION" GoMod)
  source=$(module_json "$module@$KYVERNO_VERSION" Dir)
  target=$(dirname "$(where kyverno)")
  dir="$CACHE_ROOT/work/kyverno"
  rm -rf "$dir" && mkdir -p "$dir" "$target/crds"
  {
    printf 'module nsmigrate.local/kyverno-build\n\n'
    grep -m1 '^go ' "$gomod"
    all_replaces "$gomod"
  } >"$dir/go.mod"
  log "kyverno $KYVERNO_VERSION: $(grep -c '^replace' "$dir/go.mod") replace(s) taken from its go.mod"
  (
    cd "$dir"
    go get "$module/cmd/kyverno@$KYVERNO_VERSION" "$module/cmd/background-controller@$KYVERNO_VERSION" >&2
    go build -trimpath -ldflags "-s -w" -o "$dir/bin/" "$module/cmd/kyverno" "$module/cmd/background-controller" >&2
  )
  for group in kyverno policyreport reports policies.kyverno.io; do
    cp "$source/config/crds/$group"/*.yaml "$target/crds/"
  done
  mv "$dir/bin/background-controller" "$target/kyverno-background-controller"
  mv "$dir/bin/kyverno" "$target/kyverno"  # last: its presence says the folder is complete
}

install_tool() {  # binary package version
  local target
  target=$(dirname "$(where "$1")")
  log "building $1 $3"
  mkdir -p "$target"
  GOBIN="$target" go install -trimpath -ldflags "-s -w" "$2@$3" >&2
}

missing=()
for binary in "${wanted[@]}"; do
  [ -x "$(where "$binary")" ] || missing+=("$binary")
done

started=$SECONDS
done_count=0
progress() {  # names...: one line per binary now built
  for name in "$@"; do
    done_count=$((done_count + 1))
    log "[$done_count/${#missing[@]}] $name built ($((SECONDS - started)) s since the build began)"
  done
}

step() {  # log-name command...: run quietly; on failure show the tail of its log and stop
  local name="$1"
  shift
  mkdir -p "$CACHE_ROOT/logs"
  # A job of its own keeps `set -e` in force inside the step (a condition would switch it off).
  "$@" >"$CACHE_ROOT/logs/$name.log" 2>&1 &
  if ! wait $!; then
    log "building $name failed; the end of $CACHE_ROOT/logs/$name.log:"
    tail -n 25 "$CACHE_ROOT/logs/$name.log" >&2
    return 1
  fi
}

build_tool() {  # binary
  case "$1" in
    etcd) step etcd build_etcd ;;
    kwok)
      step kwok install_tool kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION"
      # kwok ships its stages (what fake nodes and pods go through) as YAML in its module.
      stages=$(module_json "sigs.k8s.io/kwok@$KWOK_VERSION" Dir)/kustomize/stage
      for stage in "$stages"/node/fast/node-initialize.yaml "$stages"/pod/fast/pod-*.yaml; do
        cat "$stage"; printf '\n---\n'
      done >"$(dirname "$(where kwok)")/stages.yaml"
      ;;
    coredns) step coredns install_tool coredns github.com/coredns/coredns "$COREDNS_VERSION" ;;
    helm) step helm install_tool helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION" ;;
    promtool) step promtool install_tool promtool github.com/prometheus/prometheus/cmd/promtool "$PROMETHEUS_VERSION" ;;
    kyverno) step kyverno build_kyverno ;;
  esac
  progress "$1"
}

if [ ${#missing[@]} -gt 0 ]; then
  command -v go >/dev/null || { log "Go is required to build ${missing[*]} (none on PATH)"; exit 1; }
  mkdir -p "$OUT"
  log "building ${missing[*]} from the Go module proxy (a first build takes minutes; logs in $CACHE_ROOT/logs)"
  kubernetes=() others=()
  for binary in "${missing[@]}"; do
    case "$binary" in
      kube-apiserver | kube-controller-manager | kube-scheduler | kube-proxy | kubectl) kubernetes+=("$binary") ;;
      *) others+=("$binary") ;;
    esac
  done
  k8s_pid=""
  if [ ${#kubernetes[@]} -gt 0 ]; then  # one go build for all of them, beside the others
    # In a process group of its own (set -m), so that a failed or interrupted foreground step stops
    # it too: left running, it would keep both cores busy and race the next run in the same work dir.
    set -m
    step kubernetes build_kubernetes "${kubernetes[@]}" &
    k8s_pid=$!
    set +m
    trap '[ -z "$k8s_pid" ] || kill -- -"$k8s_pid" 2>/dev/null || true' EXIT
    trap 'exit 130' INT TERM
  fi
  for binary in "${others[@]}"; do build_tool "$binary"; done
  if [ -n "$k8s_pid" ]; then
    wait "$k8s_pid"
    k8s_pid=""
    progress "${kubernetes[@]}"
  fi
  log "built ${missing[*]} in $((SECONDS - started)) s"
fi

for binary in "${wanted[@]}"; do
  echo "$binary=$(where "$binary")"
done
