#!/usr/bin/env bash
# pooledge: prepare a Debian 12 (bookworm) machine for building, testing and
# benchmarking, and fetch the embedded GeoIP database.
#
# Idempotent.  Run as root (root is only needed when a package is missing).
# A second run on a set-up machine touches no network and takes well under a
# second: packages are checked with dpkg-query, and `apt-get update` runs only
# when something is missing.
#
# Environment:
#   POOLEDGE_GEOIP_VERSION  npm version of the GeoIP package to fetch
#                           (default: latest).  Only used when the DB is absent.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_ROOT

# Debian 12 package names (all verified with apt-cache policy on bookworm).
readonly PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config
  clang llvm libclang-rt-14-dev clang-format clang-tidy
  # libraries (see DESIGN.md, "Dependencies")
  libdpdk-dev dpdk
  libmaxminddb-dev mmdb-bin
  liburcu-dev libyaml-cpp-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libssl-dev libcurl4-openssl-dev nlohmann-json3-dev
  # test traffic, tools, benchmark peers
  python3 python3-scapy python3-dnspython
  knot-dnsutils dnsutils dnsperf iproute2 tcpdump ethtool iputils-ping nftables
  strace                  # the no-syscall-per-packet check of the live test
  ntpsec-ntpdig           # the NTP live test's client (no conflict with chrony)
  prometheus              # for promtool
  libmaxmind-db-writer-perl  # building test .mmdb files
  knot nsd knot-module-geoip gdnsd  # perf/peers.sh's peers
  libbpf-dev              # perf/xdp_reflector.c, the path's ceiling in perf/peers.sh
  # `npm pack` for the GeoIP database
  nodejs npm
)

readonly GEOIP_PKG="@ip-location-db/geo-whois-asn-country-mmdb"
readonly GEOIP_FILE="geo-whois-asn-country.mmdb"  # IPv4+IPv6 file in the tarball
readonly GEOIP_DIR="${REPO_ROOT}/.cache/geoip"
readonly GEOIP_DB="${GEOIP_DIR}/${GEOIP_FILE}"

log() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- packages --

# A package counts as present when it is installed, or when an installed
# package Provides it (e.g. NodeSource's nodejs provides and conflicts with
# Debian's npm; installing npm there would replace nodejs).
provided_pkgs() {
  dpkg-query -W -f='${db:Status-Abbrev}\t${Provides}\n' 2>/dev/null |
    awk -F'\t' '$1 ~ /^ii/ && $2 != "" {
      n = split($2, p, ",")
      for (i = 1; i <= n; i++) { sub(/^ +/, "", p[i]); sub(/[ (].*/, "", p[i]); print p[i] }
    }' | sort -u
}

missing_pkgs() {
  local installed provided pkg
  installed="$(dpkg-query -W -f='${db:Status-Abbrev}\t${Package}\n' 2>/dev/null |
    awk -F'\t' '$1 ~ /^ii/ { print $2 }' | sort -u)"
  provided="$(provided_pkgs)"
  for pkg in "${PACKAGES[@]}"; do
    grep -qxF -- "$pkg" <<<"$installed" && continue
    grep -qxF -- "$pkg" <<<"$provided" && continue
    printf '%s\n' "$pkg"
  done
}

readonly POLICY_RC_D=/usr/sbin/policy-rc.d
policy_backup=""
policy_installed=0
fetch_tmp=""

cleanup() {
  restore_policy_rc_d
  [[ -z "$fetch_tmp" ]] || rm -rf -- "$fetch_tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

restore_policy_rc_d() {
  [[ "$policy_installed" == 1 ]] || return 0
  if [[ -n "$policy_backup" ]]; then
    mv -f -- "$policy_backup" "$POLICY_RC_D"
  else
    rm -f -- "$POLICY_RC_D"
  fi
  policy_installed=0
}

# Deny service starts (knot, nsd, prometheus, ...) while apt runs, so that
# installing on a CI machine starts no daemons; restore the previous state.
deny_service_starts() {
  if [[ -e "$POLICY_RC_D" || -L "$POLICY_RC_D" ]]; then
    policy_backup="$(mktemp "${POLICY_RC_D}.pooledge-backup.XXXXXX")"
    cp -a -- "$POLICY_RC_D" "$policy_backup"
  fi
  policy_installed=1
  rm -f -- "$POLICY_RC_D"   # never write through a symlink
  printf '#!/bin/sh\n# temporary, installed by pooledge scripts/setup.sh\nexit 101\n' >"$POLICY_RC_D"
  chmod 0755 "$POLICY_RC_D"
}

install_packages() {
  local missing
  mapfile -t missing < <(missing_pkgs)
  if ((${#missing[@]} == 0)); then
    log "all packages present"
    return 0
  fi
  log "installing ${#missing[@]} package(s): ${missing[*]}"
  [[ "$(id -u)" == 0 ]] || die "must run as root to install packages"

  export DEBIAN_FRONTEND=noninteractive
  local -a apt_opts=(-q -o DPkg::Lock::Timeout=600)
  deny_service_starts
  apt-get "${apt_opts[@]}" update >/dev/null
  apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null
  restore_policy_rc_d

  mapfile -t missing < <(missing_pkgs)
  ((${#missing[@]} == 0)) || die "still missing after install: ${missing[*]}"
  log "packages installed"
}

# ------------------------------------------------------------------ GeoIP --

# Checks that the DB opens and answers 8.8.8.8 with a country_code; prints
# the top-level field names of that answer.
geoip_fields() {
  local db="$1" out
  out="$(mmdblookup --file "$db" --ip 8.8.8.8 2>&1)" || return 1
  # top-level keys are indented by exactly four spaces in mmdblookup output
  sed -n 's/^    "\([^"]*\)":.*/\1/p' <<<"$out" | paste -sd, -
}

verify_geoip() {
  local fields
  fields="$(geoip_fields "$1")" || return 1
  [[ ",${fields}," == *,country_code,* ]] || return 1
}

fetch_geoip() {
  command -v npm >/dev/null || die "npm not found"
  command -v mmdblookup >/dev/null || die "mmdblookup (mmdb-bin) not found"
  mkdir -p "$GEOIP_DIR"

  local spec="$GEOIP_PKG" tmp tgz version fields meta
  [[ -n "${POOLEDGE_GEOIP_VERSION:-}" ]] && spec="${GEOIP_PKG}@${POOLEDGE_GEOIP_VERSION}"
  tmp="$(mktemp -d "${GEOIP_DIR}/.fetch.XXXXXX")"
  fetch_tmp="$tmp"

  log "fetching ${spec} with npm pack"
  # run inside $tmp so that no project package.json/.npmrc gets involved
  (cd "$tmp" && npm pack "$spec" --pack-destination "$tmp" --loglevel=error >/dev/null) ||
    die "npm pack ${spec} failed"
  tgz="$(find "$tmp" -maxdepth 1 -name '*.tgz' -print -quit)"
  [[ -n "$tgz" ]] || die "npm pack produced no tarball"

  # -m: give files the fetch time, not npm's fixed 1985 mtime (build deps)
  tar -m -xzf "$tgz" -C "$tmp" package/package.json "package/${GEOIP_FILE}" ||
    die "${GEOIP_FILE} not found in $(basename "$tgz")"
  version="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
    "$tmp/package/package.json")"
  verify_geoip "$tmp/package/${GEOIP_FILE}" ||
    die "fetched ${GEOIP_FILE} failed verification (no country_code for 8.8.8.8)"

  # keep the tarball as the cache's record of what was fetched; drop older ones
  find "$GEOIP_DIR" -maxdepth 1 -name '*.tgz' -delete
  mv -f -- "$tgz" "$GEOIP_DIR/"
  printf '%s\n' "$version" >"$GEOIP_DIR/VERSION"
  mv -f -- "$tmp/package/${GEOIP_FILE}" "$GEOIP_DB"   # last: marks the cache complete
  rm -rf -- "$tmp"
  fetch_tmp=""

  fields="$(geoip_fields "$GEOIP_DB")"
  meta="$(mmdblookup --verbose --file "$GEOIP_DB" --ip 8.8.8.8 2>/dev/null |
    awk -F': *' '/IP version:|Node count:|Record size:|Type:/ { gsub(/^ +/, "", $1); printf "%s%s=%s", sep, $1, $2; sep=", " }')"
  log "geoip db fetched: ${GEOIP_DB} (${GEOIP_PKG}@${version}, $(stat -c %s "$GEOIP_DB") bytes)"
  log "geoip layout: fields {${fields}} (8.8.8.8 -> $(mmdblookup --file "$GEOIP_DB" \
    --ip 8.8.8.8 country_code | sed -n 's/^ *"\(.*\)" <utf8_string>$/\1/p')); ${meta}"
}

setup_geoip() {
  if [[ -s "$GEOIP_DB" ]]; then
    if verify_geoip "$GEOIP_DB"; then
      log "geoip db present: ${GEOIP_DB} (version $(cat "$GEOIP_DIR/VERSION" 2>/dev/null || echo unknown))"
      return 0
    fi
    log "geoip db at ${GEOIP_DB} failed verification; fetching again"
    rm -f -- "$GEOIP_DB"
  fi
  fetch_geoip
}

install_packages
setup_geoip
