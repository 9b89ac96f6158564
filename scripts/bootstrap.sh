#!/usr/bin/env bash
# Installs what `make up` / `make test` need on a fresh Debian machine: uv, the locked Python dependencies,
# a JDK >= 17 and Maven (for Kafka's jars), Debian's Chromium and a Thai font (for the browser tests).
# PostgreSQL is installed by the devstack if absent.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[bootstrap] %s\n' "$*"; }
apt_install() {
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
    say "need root (or sudo) to install: $*"; exit 1
  fi
  local SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  if [ ! -f /tmp/.hotline-apt-updated ]; then $SUDO apt-get update -qq && touch /tmp/.hotline-apt-updated; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@"
}

if ! command -v uv >/dev/null 2>&1; then
  say "installing uv from PyPI"
  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv \
    || python3 -m pip install --quiet --break-system-packages uv
  export PATH="$HOME/.local/bin:$PATH"
fi

java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1; }
if ! command -v java >/dev/null 2>&1 || [ "$(java_major)" -lt 17 ]; then
  say "installing a JDK (Kafka 4 brokers need Java 17+)"
  apt_install openjdk-17-jre-headless
fi
if ! command -v mvn >/dev/null 2>&1; then
  say "installing Maven (resolves Kafka's official jars from Maven Central)"
  apt_install maven
fi
# The browser tests (tests/browser) drive Debian's Chromium through Playwright; Playwright's own browser download
# is not used. Without a Thai font its screenshots show boxes instead of Thai text.
if ! command -v chromium >/dev/null 2>&1; then
  say "installing Chromium (the browser tests drive it headless)"
  apt_install chromium
fi
if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=th family)" ]; then
  say "installing Thai fonts (the responder page is in Thai)"
  apt_install fontconfig fonts-thai-tlwg
fi
# tests/unit/test_k8s_manifests.py renders deploy/k8s with kustomize v5: kubectl's built-in one if it has v5, else a
# standalone kustomize built from its Go module into .cache/bin (Debian's kubectl is too old for it).
if ! { command -v kubectl >/dev/null 2>&1 && kubectl version --client 2>/dev/null | grep -q "Kustomize Version: v5"; } \
    && [ ! -x .cache/bin/kustomize ] && ! command -v kustomize >/dev/null 2>&1; then
  if ! command -v go >/dev/null 2>&1; then
    say "installing Go (to build kustomize)"
    apt_install golang-go ca-certificates
  fi
  say "building kustomize v5 into .cache/bin (renders the Kubernetes manifests)"
  mkdir -p .cache/bin
  GOBIN="$PWD/.cache/bin" go install sigs.k8s.io/kustomize/kustomize/v5@v5.5.0
fi

uv sync --frozen --quiet
# Kafka's jars and PostgreSQL (cached under .cache/, reused by later runs).
uv run --frozen --quiet hotline-dev fetch
