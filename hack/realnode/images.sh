#!/usr/bin/env bash
# Builds the real node's container images without a registry or a Docker
# engine: PostgreSQL, Redis and nginx from Debian's packages (apt-get download
# into a cache, dpkg -x into a root filesystem: no maintainer script runs), a
# toolbox with the clients a learner uses (psql, redis-cli, curl, jq, nc), and the
# sample app, CoreDNS and pause from their static binaries. Each is packed by
# hack/tools/ociimage into a docker-archive tarball that `ctr images import`
# reads.
#
#   hack/realnode/images.sh BIN_DIR OUT_DIR
#
# BIN_DIR holds the static binaries (sample-app, coredns, pause, ociimage). An
# image whose inputs (this script, the binary) have not changed is not built
# again. The images follow the contract of the default images that the
# operator renders for (users, ports, environment, entrypoints; see
# internal/stack/components.go), but are named for what they are: Debian 12
# ships PostgreSQL 15, not the default image's 17.
set -euo pipefail

BIN_DIR=$(cd "${1:?usage: $0 BIN_DIR OUT_DIR}" && pwd)
OUT_DIR=$(mkdir -p "${2:?usage: $0 BIN_DIR OUT_DIR}" && cd "$2" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEBS=$OUT_DIR/debs
WORK=$OUT_DIR/rootfs
OCIIMAGE=$BIN_DIR/ociimage
mkdir -p "$DEBS" "$WORK"

# The images' names.
# shellcheck source=images.env
. "$HERE/images.env"

say() { printf '==> %s\n' "$*" >&2; }

# Packages that a rootfs never needs: package management, perl, locales and
# what only maintainer scripts use.
EXCLUDE='^(usrmerge|usr-is-merged|cdebconf|debconf|debconf-i18n|libdebian-installer4|libnewt0.52|libslang2|libtextwrap1|perl|perl-base|perl-modules-5.36|libperl5.36|locales|locales-all|libc-l10n|libllvm14|libz3-4|adduser|passwd|init-system-helpers|sysvinit-utils|lsb-base|install-info|ssl-cert|ucf|postgresql-common|postgresql-client-common|libfile-find-rule-perl|libnumber-compare-perl|libtext-glob-perl|libjson-perl|iproute2|libbpf1|libelf1|libcap2-bin|libmnl0|libxtables12|libtirpc3|libtirpc-common|dpkg|tar|libsemanage.*|libsepol2|libgdbm.*|sensible-utils|libelogind0|netbase|libxslt1.1|openssl|readline-common|systemd|systemd-sysv|logrotate|cron|mailcap|media-types)$'

closure() {
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances "$@" | grep '^[a-z0-9]' | sort -u | grep -Ev "$EXCLUDE"
}

# stamp NAME INPUT...: prints the digest of what image NAME is made from.
stamp() {
  local name=$1; shift
  { echo "$name"; sha256sum "${BASH_SOURCE[0]}" "$HERE/images.env" "$@"; } | sha256sum | cut -d' ' -f1
}

# current NAME STAMP: true if the image NAME was built from STAMP.
current() {
  [ -f "$OUT_DIR/$1.tar" ] && [ "$(cat "$OUT_DIR/$1.stamp" 2>/dev/null)" = "$2" ]
}

# rootfs NAME PACKAGE...: a fresh root filesystem with PACKAGE and what it
# depends on, a shell, and the users of the default images.
rootfs() {
  local name=$1; shift
  local root=$WORK/$name pkgs
  rm -rf "$root"; mkdir -p "$root"
  [ -n "$(ls /var/lib/apt/lists/ 2>/dev/null | grep -v lock)" ] || apt-get update -qq
  pkgs=$(closure "$@" dash coreutils)
  # shellcheck disable=SC2086 # one word a package
  (cd "$DEBS" && apt-get download -qq $pkgs)
  local p
  for p in $pkgs; do
    dpkg -x "$(ls "$DEBS/${p}"_*.deb | sort -V | tail -n 1)" "$root"
  done
  users "$root"
  ln -sf dash "$root/bin/sh"
}

# users ROOT: /etc/passwd and /etc/group with the users the default images
# run as (internal/stack/components.go): postgres 70 (alpine), redis 999:1000,
# nginx 101, nonroot 65532 (distroless).
users() {
  local root=$1
  mkdir -p "$root/etc" "$root/tmp" "$root/run" "$root/var"
  chmod 1777 "$root/tmp"
  ln -sfn ../run "$root/var/run"
  cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
postgres:x:70:70:postgres:/var/lib/postgresql:/bin/sh
redis:x:999:1000:redis:/data:/bin/sh
nginx:x:101:101:nginx:/nonexistent:/bin/false
nonroot:x:65532:65532:nonroot:/home/nonroot:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
  cat >"$root/etc/group" <<'GROUP'
root:x:0:
postgres:x:70:
redis:x:1000:
nginx:x:101:
nonroot:x:65532:
nogroup:x:65534:
GROUP
}

# pack NAME TAG ARGS...: packs $WORK/NAME as TAG into OUT_DIR/NAME.tar.
pack() {
  local name=$1 tag=$2; shift 2
  "$OCIIMAGE" -rootfs "$WORK/$name" -tag "$tag" -o "$OUT_DIR/$name.tar" "$@"
  rm -rf "${WORK:?}/$name"
}

# build NAME STAMP FUNCTION: runs FUNCTION unless NAME is current.
build() {
  local name=$1 sum=$2 fn=$3
  if current "$name" "$sum"; then
    return 0
  fi
  say "Building the image $name"
  local start=$SECONDS
  "$fn"
  echo "$sum" >"$OUT_DIR/$name.stamp"
  say "Built $name ($(du -h "$OUT_DIR/$name.tar" | cut -f1)) in $((SECONDS - start))s"
}

postgres_image() {
  rootfs postgres postgresql-15
  local root=$WORK/postgres
  mkdir -p "$root/var/lib/postgresql/data" "$root/run/postgresql" "$root/usr/local/bin"
  chown -R 70:70 "$root/var/lib/postgresql" "$root/run/postgresql"
  # The contract of the official image's docker-entrypoint.sh that the
  # operator relies on: POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB and
  # PGDATA; password authentication over TCP from anywhere; listening on all
  # addresses. It writes nothing outside PGDATA and /tmp.
  cat >"$root/usr/local/bin/docker-entrypoint.sh" <<'ENTRYPOINT'
#!/bin/sh
set -eu
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
export PGDATA=${PGDATA:-/var/lib/postgresql/data}
if [ "${1:-postgres}" != postgres ]; then
  exec "$@"
fi
[ $# -gt 0 ] && shift
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA"
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C --no-sync >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  if [ "$db" != postgres ]; then
    echo "CREATE DATABASE \"$db\" OWNER \"$user\";" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "PostgreSQL init process complete; ready for start up."
fi
exec postgres -c listen_addresses='*' "$@"
ENTRYPOINT
  chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"
  pack postgres "$POSTGRES_IMAGE" -user 70:70 \
    -entrypoint /usr/local/bin/docker-entrypoint.sh -cmd postgres \
    -env PATH=/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/bin:/bin \
    -env PGDATA=/var/lib/postgresql/data -env LANG=C.UTF-8
}

redis_image() {
  rootfs redis redis-server
  local root=$WORK/redis
  mkdir -p "$root/data" "$root/usr/local/bin"
  chown 999:1000 "$root/data"
  # As the official image's entrypoint: arguments that are options are
  # options of redis-server.
  cat >"$root/usr/local/bin/docker-entrypoint.sh" <<'ENTRYPOINT'
#!/bin/sh
set -e
case "${1:-}" in
-*|*.conf) set -- redis-server "$@" ;;
esac
exec "$@"
ENTRYPOINT
  chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"
  pack redis "$REDIS_IMAGE" -user 999:1000 -workdir /data \
    -entrypoint /usr/local/bin/docker-entrypoint.sh -cmd redis-server \
    -env PATH=/usr/local/bin:/usr/bin:/bin
}

nginx_image() {
  rootfs nginx nginx-light
  local root=$WORK/nginx
  # The log paths compiled into Debian's nginx, opened before the
  # configuration is read: to the container's output, as the official image.
  mkdir -p "$root/var/log/nginx" "$root/var/lib/nginx" "$root/usr/share/nginx/html"
  ln -sf /dev/stdout "$root/var/log/nginx/access.log"
  ln -sf /dev/stderr "$root/var/log/nginx/error.log"
  pack nginx "$NGINX_IMAGE" -user 101:101 \
    -entrypoint /usr/sbin/nginx -cmd -g -cmd 'daemon off;' \
    -env PATH=/usr/sbin:/usr/bin:/bin
}

toolbox_image() {
  rootfs toolbox bash postgresql-client-15 redis-tools curl jq netcat-openbsd grep sed coreutils ca-certificates libc-bin
  local root=$WORK/toolbox
  ln -sf ../lib/postgresql/15/bin/psql "$root/usr/bin/psql"
  # update-alternatives, a maintainer script, would make this link.
  ln -sf nc.openbsd "$root/bin/nc"
  pack toolbox "$TOOLBOX_IMAGE" -user 65532:65532 -workdir /tmp \
    -entrypoint /bin/sleep -cmd infinity \
    -env PATH=/usr/lib/postgresql/15/bin:/usr/bin:/bin -env HOME=/tmp
}

# static NAME BINARY USER: an image of one static binary, CA certificates
# and the users, as distroless/static is.
static() {
  local name=$1 binary=$2 user=$3 root=$WORK/$1
  rm -rf "$root"; mkdir -p "$root/etc/ssl/certs"
  users "$root"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  cp "$binary" "$root/$(basename "$binary")"
  shift 3
  pack "$name" "$@" -user "$user" -entrypoint "/$(basename "$binary")"
}

sample_app_image() { static sample-app "$BIN_DIR/sample-app" 65532:65532 "$APP_IMAGE"; }
coredns_image() { static coredns "$BIN_DIR/coredns" 65532:65532 "$COREDNS_IMAGE"; }
pause_image() { static pause "$BIN_DIR/pause" 65535:65535 registry.k8s.io/pause:3.10; }

build postgres "$(stamp postgres)" postgres_image
build redis "$(stamp redis)" redis_image
build nginx "$(stamp nginx)" nginx_image
build toolbox "$(stamp toolbox)" toolbox_image
build sample-app "$(stamp sample-app "$BIN_DIR/sample-app")" sample_app_image
build coredns "$(stamp coredns "$BIN_DIR/coredns")" coredns_image
build pause "$(stamp pause "$BIN_DIR/pause")" pause_image
rm -rf "$WORK"
say "Images ready in $OUT_DIR"
