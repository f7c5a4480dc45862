#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs a real VS Code (code-server from npm) for the end-to-end tests into .e2e/ (gitignored, outside the
# project's node_modules), without any download other than the npm registry and Debian apt:
#   - code-server 4.100.x runs on Node 20; its native modules (argon2, spdlog, node-pty, kerberos, …) are
#     compiled locally with node-gyp against the headers in `nodedir` (see ~/.npmrc), so it needs
#     build-essential and libkrb5-dev;
#   - @vscode/ripgrep's postinstall downloads rg from GitHub unless its cache already holds the archive, so the
#     cache is pre-seeded with Debian's /usr/bin/rg.
# Idempotent: a finished install is detected and reused. Usage: bash scripts/e2e-setup.sh
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
E2E_DIR="${QUANTLENS_E2E_DIR:-$repo/.e2e}"
CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.100.3}"
entry="$E2E_DIR/node_modules/code-server/out/node/entry.js"
marker="$E2E_DIR/installed-$CODE_SERVER_VERSION"

if [[ -f "$marker" && -f "$entry" ]]; then
  echo "e2e-setup: code-server $CODE_SERVER_VERSION already installed in $E2E_DIR"
  exit 0
fi

# System packages the install needs; tolerate a machine without apt (then they must already be there).
need=()
command -v rg >/dev/null || need+=(ripgrep)
command -v g++ >/dev/null && command -v make >/dev/null || need+=(build-essential)
[[ -f /usr/include/krb5.h || -f /usr/include/gssapi/gssapi.h ]] || need+=(libkrb5-dev)
[[ -x /usr/bin/chromium ]] || need+=(chromium)
if ((${#need[@]})) && command -v apt-get >/dev/null; then
  echo "e2e-setup: apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; }
fi
command -v rg >/dev/null || { echo "e2e-setup: ripgrep (rg) is required to seed @vscode/ripgrep's cache" >&2; exit 1; }

mkdir -p "$E2E_DIR/tmp"
cd "$E2E_DIR"
# Fetch the tarball first so the ripgrep versions it pins can be read from its shrinkwraps.
tarball="code-server-$CODE_SERVER_VERSION.tgz"
[[ -f "$tarball" ]] || npm pack --silent "code-server@$CODE_SERVER_VERSION" >/dev/null
rg_versions=$(tar xzOf "$tarball" package/lib/vscode/npm-shrinkwrap.json \
  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const p=JSON.parse(s).packages;
      console.log(Object.entries(p).filter(([k])=>k.endsWith("node_modules/@vscode/ripgrep")).map(([,v])=>v.version).join(" "))})')

# @vscode/ripgrep looks for <tmpdir>/vscode-ripgrep-cache-<pkg version>/ripgrep-<rg release>-<target>.tar.gz.
export TMPDIR="$E2E_DIR/tmp"
case "$(uname -m)" in
  x86_64) rg_target=x86_64-unknown-linux-musl ;;
  aarch64) rg_target=aarch64-unknown-linux-musl ;;
  *) echo "e2e-setup: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
stage="$(mktemp -d)"
cp "$(command -v rg)" "$stage/rg"
for v in $rg_versions; do
  rg_release=$(tar xzOf "$stage/$(npm pack --silent "@vscode/ripgrep@$v" --pack-destination "$stage")" package/lib/postinstall.js \
    | sed -n "s/^const VERSION = '\(.*\)';/\1/p")
  mkdir -p "$TMPDIR/vscode-ripgrep-cache-$v"
  tar czf "$TMPDIR/vscode-ripgrep-cache-$v/ripgrep-$rg_release-$rg_target.tar.gz" -C "$stage" rg
  echo "e2e-setup: seeded @vscode/ripgrep $v cache with $(command -v rg) as $rg_release"
done
rm -rf "$stage"

[[ -f package.json ]] || echo '{ "name": "quantlens-e2e", "private": true }' > package.json
echo "e2e-setup: npm install code-server@$CODE_SERVER_VERSION (compiles native modules; several minutes)"
start=$(date +%s)
# node-pty's post-install runs `npx node-gyp …`; npx must not stop to ask (the user .npmrc may say yes=false).
npm_config_yes=true npm_config_unsafe_perm=true npm install --no-audit --no-fund --no-save --loglevel=error "./$tarball"
[[ -f "$entry" ]] || { echo "e2e-setup: install finished but $entry is missing" >&2; exit 1; }
# Its own config dir, so the check does not write ~/.config/code-server/config.yaml.
XDG_CONFIG_HOME="$E2E_DIR/config" XDG_DATA_HOME="$E2E_DIR/data" node "$entry" --version
touch "$marker"
echo "e2e-setup: done in $(( $(date +%s) - start )) s"
