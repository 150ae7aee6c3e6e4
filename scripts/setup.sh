#!/usr/bin/env bash
# Installs everything shardsafe needs on Debian 12: build tools and libraries from Debian's
# packages, and the Node.js test peers from the npm registry. Idempotent: packages already
# present are not reinstalled and `apt-get update` runs only when something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(
  build-essential cmake pkg-config git ca-certificates
  libmongoc-dev libbson-dev libcurl4-openssl-dev libssl-dev libzstd-dev zlib1g-dev
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libcpp-httplib-dev libyaml-cpp-dev
  libsqlite3-dev googletest libgtest-dev libgmock-dev libbenchmark-dev
  curl procps time openssl
  systemd    # systemd-analyze verifies deploy/systemd's units
  chromium   # the dashboard's browser test (tests/node/dashboard.test.mjs, puppeteer-core)
  clang libclang-rt-14-dev  # scripts/fuzz.sh: libFuzzer and the sanitizer runtimes
)
# Node.js and npm run the test peers. Machines that already have them (e.g. from NodeSource,
# whose nodejs bundles npm) keep theirs; a bare Debian gets Debian's packages.
command -v node >/dev/null 2>&1 || debian_packages+=(nodejs)
command -v npm >/dev/null 2>&1 || debian_packages+=(npm)

missing=()
for package in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_prefix=()
  [ "$(id -u)" -eq 0 ] || sudo_prefix=(sudo)
  "${sudo_prefix[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_prefix[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Node.js test peers: the official MongoDB driver, s3rver, the AWS SDK for JavaScript, puppeteer-core.
if [ ! -d tests/node/node_modules ] || [ tests/node/package-lock.json -nt tests/node/node_modules ]; then
  (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
fi
