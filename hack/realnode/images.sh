#!/usr/bin/env bash
# Builds the real node's container images without a registry or a Docker
# engine: PostgreSQL, Redis and nginx from Debian's packages (apt-get download
# into a cache, dpkg -x into a root filesystem: no maintainer script runs), a
# toolbox with the clients a learner uses (psql, redis-cli, curl, jq, nc), the
# sample app, CoreDNS and pause from their static binaries, and one workspace
# image per language (Go, Node.js, Python, Java) for the Workspace component:
# the learner's own shell, editor, git and database clients, the language's
# toolchain, and its PostgreSQL and Redis libraries, all usable offline as uid
# 1000 on a read-only root filesystem. Each is packed by hack/tools/ociimage
# into a docker-archive tarball that `ctr images import` reads.
#
#   hack/realnode/images.sh BIN_DIR OUT_DIR
#
# BIN_DIR holds the static binaries (sample-app, coredns, pause, ociimage). An
# image whose inputs (this script, images.env, the binary or toolchain it
# copies) have not changed is not built again: neither in OUT_DIR, nor in any
# clone of the project on this machine, for every image built is kept in
# $LSO_IMAGE_CACHE (default ~/.cache/learning-sandbox-operator/images) under
# its name and the digest of its inputs. Debian's packages are taken at the
# version apt has now. The images follow the contract of the default images
# that the operator renders for (users, ports, environment, entrypoints; see
# internal/stack/components.go), but are named for what they are: Debian 12
# ships PostgreSQL 15, not the default image's 17.
set -euo pipefail

BIN_DIR=$(cd "${1:?usage: $0 BIN_DIR OUT_DIR}" && pwd)
OUT_DIR=$(mkdir -p "${2:?usage: $0 BIN_DIR OUT_DIR}" && cd "$2" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEBS=$OUT_DIR/debs
WORK=$OUT_DIR/rootfs
OCIIMAGE=$BIN_DIR/ociimage
# Images kept across clones and runs, by name and stamp (see build).
CACHE=${LSO_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/learning-sandbox-operator/images}
mkdir -p "$DEBS" "$WORK"

# The images' names.
# shellcheck source=images.env
. "$HERE/images.env"

say() { printf '==> %s\n' "$*" >&2; }

# Packages that a rootfs never needs: package management, perl, locales and
# what only maintainer scripts use.
EXCLUDE='^(usrmerge|usr-is-merged|cdebconf|debconf|debconf-i18n|libdebian-installer4|libnewt0.52|libslang2|libtextwrap1|perl|perl-base|perl-modules-5.36|libperl5.36|locales|locales-all|libc-l10n|libllvm14|libz3-4|adduser|passwd|init-system-helpers|sysvinit-utils|lsb-base|install-info|ssl-cert|ucf|postgresql-common|postgresql-client-common|libfile-find-rule-perl|libnumber-compare-perl|libtext-glob-perl|libjson-perl|iproute2|libbpf1|libelf1|libcap2-bin|libmnl0|libxtables12|libtirpc3|libtirpc-common|dpkg|tar|libsemanage.*|libsepol2|libgdbm.*|sensible-utils|libelogind0|netbase|libxslt1.1|openssl|readline-common|systemd|systemd-sysv|logrotate|cron|mailcap|media-types)$'

# closure PACKAGE...: PACKAGE and all it depends on (every alternative, every
# provider of a virtual package), but what EXCLUDE names. The dependencies of
# a package that the regex PRUNE (default: none) names are not followed: the
# workspaces leave out Debian's Node.js 18 that node-pg asks for, and the
# fonts of the JDK.
closure() {
  local seen next
  seen=$(printf '%s\n' "$@" | sort -u)
  next=$seen
  while [ -n "$next" ]; do
    # shellcheck disable=SC2086 # one word a package
    next=$(apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
      --no-enhances $next | sed -n -E 's/^ [ |](Pre)?Depends: ([^<].*)$/\2/p; s/^    ([a-z0-9].*)$/\1/p' |
      sort -u | { grep -Ev "${PRUNE:-^$}" || true; } | comm -23 - <(echo "$seen"))
    seen=$(printf '%s\n%s\n' "$seen" "$next" | sort -u)
  done
  echo "$seen" | grep . | grep -Ev "$EXCLUDE"
}

# stamp NAME INPUT...: prints the digest of what image NAME is made from: this
# script, images.env and each INPUT file, by content only, so that the stamp
# is the same in every clone.
stamp() {
  local name=$1 input; shift
  {
    echo "$name"
    for input in "${BASH_SOURCE[0]}" "$HERE/images.env" "$@"; do
      sha256sum <"$input" || return 1
    done
  } | sha256sum | cut -d' ' -f1
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

# place SRC DEST: DEST becomes SRC, a hard link where both are on one
# filesystem, else a copy; never half written. (Nothing writes into an
# image's file: pack and place replace it.)
place() {
  rm -f "$2.tmp"
  ln "$1" "$2.tmp" 2>/dev/null || cp "$1" "$2.tmp"
  mv -f "$2.tmp" "$2"
}

# keep NAME STAMP: puts OUT_DIR/NAME.tar into the cache as NAME-STAMP.tar, in
# place of the cache's other versions of NAME.
keep() {
  local name=$1 sum=$2 old
  mkdir -p "$CACHE" || return 1
  for old in "$CACHE/$name"-*.tar; do
    if [[ $old =~ /"$name"-[0-9a-f]{64}\.tar$ ]] && [ "$old" != "$CACHE/$name-$sum.tar" ]; then
      rm -f "$old"
    fi
  done
  place "$OUT_DIR/$name.tar" "$CACHE/$name-$sum.tar"
}

# build NAME FUNCTION INPUT...: makes OUT_DIR/NAME.tar with FUNCTION, unless
# it was made from the same inputs (stamp) already, here or, in the cache,
# by any clone.
build() {
  local name=$1 fn=$2 sum; shift 2
  sum=$(stamp "$name" "$@")
  local cached=$CACHE/$name-$sum.tar
  if current "$name" "$sum"; then
    [ -f "$cached" ] || keep "$name" "$sum" || say "Could not keep $name in $CACHE"
    return 0
  fi
  if [ -f "$cached" ]; then
    place "$cached" "$OUT_DIR/$name.tar"
    echo "$sum" >"$OUT_DIR/$name.stamp"
    say "Took the image $name from $CACHE"
    return 0
  fi
  say "Building the image $name"
  local start=$SECONDS
  "$fn"
  echo "$sum" >"$OUT_DIR/$name.stamp"
  keep "$name" "$sum" || say "Could not keep $name in $CACHE"
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

# The workspaces: one image per language, where a learner writes and runs a
# program of their own (the Workspace component). The contract the operator
# renders for: the user learner, uid and gid 1000, whose home /home/learner
# is the workspace's volume; a read-only root filesystem with /home/learner
# and /tmp writable, so every tool keeps its caches under $HOME or /tmp; a
# /bin/sh for the operator's command. Each has a shell, two editors (nano
# and vim.tiny), git, curl, jq, psql and redis-cli, and the language's
# libraries for PostgreSQL and Redis, usable without the internet.
WORKSPACE_TOOLS=(bash nano vim-tiny less git curl jq ca-certificates postgresql-client-15 redis-tools
  netcat-openbsd procps coreutils findutils grep sed diffutils libc-bin)
WORKSPACE_PATH=/usr/local/bin:/usr/bin:/bin:/usr/lib/postgresql/15/bin
# The Go modules whose proxy the Go workspace holds.
PGX_VERSION=v5.13.0
GO_REDIS_VERSION=v9.24.0

# workspace NAME PACKAGE...: the root filesystem of a workspace, with the
# learner, the tools and PACKAGE. PRUNE, if set, is passed to closure.
workspace() {
  local name=$1; shift
  # git's manual and the Perl module of its Perl commands.
  PRUNE="^(${PRUNE:+$PRUNE|}git-man|liberror-perl)$" rootfs "$name" "${WORKSPACE_TOOLS[@]}" "$@"
  local root=$WORK/$name
  # gid 1000 is the redis group of the default images: the learner's group
  # comes first, so that 1000 is named learner.
  echo 'learner:x:1000:1000:learner:/home/learner:/bin/bash' >>"$root/etc/passwd"
  sed -i 's/^redis:x:1000:$/learner:x:1000:\n&/' "$root/etc/group"
  grep -q '^learner:' "$root/etc/group" || echo 'learner:x:1000:' >>"$root/etc/group"
  mkdir -p "$root/home/learner" "$root/usr/local/bin" "$root/proc" "$root/sys" "$root/dev"
  chown 1000:1000 "$root/home/learner"
  # What maintainer scripts would have made: the links of
  # update-alternatives (git runs editor and pager), nsswitch.conf (files before
  # DNS, so that localhost is /etc/hosts'), and update-ca-certificates' links
  # and bundle (and OpenSSL's, of the openssl package).
  ln -sf ../lib/postgresql/15/bin/psql "$root/usr/bin/psql"
  ln -sf nc.openbsd "$root/bin/nc"
  local tool
  for tool in vi vim view ex; do ln -sf /usr/bin/vim.tiny "$root/usr/bin/$tool"; done
  ln -sf /bin/nano "$root/usr/bin/editor"
  ln -sf /usr/bin/less "$root/usr/bin/pager"
  ln -sf /usr/bin/gawk "$root/usr/bin/awk"
  # psql's editor is sensible-editor, of sensible-utils (left out): as it
  # does, the learner's VISUAL or EDITOR, else editor.
  cat >"$root/usr/bin/sensible-editor" <<'EDITOR'
#!/bin/sh
exec ${VISUAL:-${EDITOR:-editor}} "$@"
EDITOR
  chmod 755 "$root/usr/bin/sensible-editor"
  cp "$root/usr/share/libc-bin/nsswitch.conf" "$root/etc/nsswitch.conf"
  local crt
  mkdir -p "$root/etc/ssl/certs" "$root/usr/lib/ssl"
  for crt in "$root"/usr/share/ca-certificates/mozilla/*.crt; do
    ln -sf "/usr/share/ca-certificates/mozilla/${crt##*/}" "$root/etc/ssl/certs/$(basename "$crt" .crt).pem"
  done
  cat "$root"/usr/share/ca-certificates/mozilla/*.crt >"$root/etc/ssl/certs/ca-certificates.crt"
  ln -sfn /etc/ssl/certs "$root/usr/lib/ssl/certs"
  ln -sf /etc/ssl/certs/ca-certificates.crt "$root/usr/lib/ssl/cert.pem"
  rm -rf "$root"/usr/share/{doc,man,info,locale,lintian,bug}
}

# workspace_pack NAME TAG PATH ARGS...: packs the workspace NAME, to run as
# the learner in their home, with PATH and the environment ARGS.
workspace_pack() {
  local name=$1 tag=$2 path=$3; shift 3
  pack "$name" "$tag" -user 1000:1000 -workdir /home/learner -cmd /bin/bash \
    -env "PATH=$path" -env HOME=/home/learner -env USER=learner -env SHELL=/bin/bash -env LANG=C.UTF-8 "$@"
}

# Go: Debian's is 1.19, so this machine's own toolchain (its version is in
# the stamp) without its tests, and a module proxy in a directory with pgx
# and go-redis and all they need, for go get and go build offline. Module and
# build caches are the defaults, under $HOME.
workspace_go_image() {
  workspace workspace-go
  local root=$WORK/workspace-go goroot
  goroot=$(go env GOROOT)
  cp -a "$goroot" "$root/usr/local/go"
  rm -rf "$root/usr/local/go/test" "$root/usr/local/go/api"
  find "$root/usr/local/go" -type d -name testdata -prune -exec rm -rf {} +
  # Also on the PATH that a login shell's profile would set.
  ln -sf ../go/bin/go "$root/usr/local/bin/go"
  ln -sf ../go/bin/gofmt "$root/usr/local/bin/gofmt"
  go_proxy "$root/usr/local/share/go-proxy"
  workspace_pack workspace-go "$WORKSPACE_GO_IMAGE" "/home/learner/go/bin:/usr/local/go/bin:$WORKSPACE_PATH" \
    -env GOTOOLCHAIN=local -env CGO_ENABLED=0 -env GOSUMDB=off \
    -env GOPROXY=file:///usr/local/share/go-proxy,https://proxy.golang.org,direct
}

# go_proxy DIR: a module proxy (GOPROXY=file://DIR) with pgx and go-redis at
# the pinned versions, and the modules they need, as a module that imports
# them downloads them (checked against the checksum database).
go_proxy() {
  local dest=$1 tmp proxy
  # This machine's module cache first, where it has them.
  proxy="file://$(go env GOMODCACHE)/cache/download,$(go env GOPROXY)"
  tmp=$(mktemp -d)
  mkdir "$tmp/m"
  cat >"$tmp/m/main.go" <<'GO'
package main

import (
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

var _, _, _ = pgx.Connect, pgxpool.New, redis.NewClient

func main() {}
GO
  if ! (cd "$tmp/m" &&
    export GOMODCACHE="$tmp/cache" GOFLAGS=-modcacherw GOTOOLCHAIN=local GOWORK=off GOPROXY="$proxy" &&
    go mod init workspace &&
    go get "github.com/jackc/pgx/v5@$PGX_VERSION" "github.com/redis/go-redis/v9@$GO_REDIS_VERSION" &&
    go mod tidy && go mod download && go build -o /dev/null .) >"$tmp/log" 2>&1; then
    cat "$tmp/log" >&2
    rm -rf "$tmp"
    return 1
  fi
  mkdir -p "$dest"
  cp -a "$tmp/cache/cache/download/." "$dest/"
  rm -rf "$dest/sumdb" "$tmp"
  find "$dest" -name '*.lock' -delete
  # The versions a module's @latest is chosen from: those it has whole.
  local dir zip
  find "$dest" -type d -name '@v' -print0 | while IFS= read -r -d '' dir; do
    for zip in "$dir"/*.zip; do
      if [ -f "$zip" ]; then basename "$zip" .zip; fi
    done >"$dir/list"
    [ -s "$dir/list" ] || rm -f "$dir/list"
  done
}

# Node.js: Debian's is 18, so this machine's own Node.js 20 with npm (their
# files are in the stamp); Debian's node-pg and node-redis, without
# Debian's Node.js and pg-native's libpq binding. This Node.js looks for
# global modules in ../lib/node beside its binary: that is where Debian
# keeps them, so require('pg') works without NODE_PATH.
workspace_node_image() {
  local major
  major=$("$NODE" -p 'process.versions.node.split(".")[0]')
  if [ "$major" != 20 ]; then
    say "The Node.js workspace takes this machine's Node.js 20; $NODE is $major"
    return 1
  fi
  PRUNE='nodejs|libnode[0-9]*|node-libpq' workspace workspace-node node-pg node-redis
  local root=$WORK/workspace-node
  cp "$NODE" "$root/usr/bin/node"
  mkdir -p "$root/usr/lib/node_modules"
  cp -a "$NODE_PREFIX/lib/node_modules/npm" "$NODE_PREFIX/lib/node_modules/corepack" "$root/usr/lib/node_modules/"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"
  ln -sf ../lib/node_modules/corepack/dist/corepack.js "$root/usr/bin/corepack"
  ln -sfn ../share/nodejs "$root/usr/lib/node"
  workspace_pack workspace-node "$WORKSPACE_NODE_IMAGE" "/home/learner/.local/bin:$WORKSPACE_PATH" \
    -env NPM_CONFIG_UPDATE_NOTIFIER=false
}

# Python: Debian's 3.11 with psycopg2 and redis, compiled ahead as the
# maintainer scripts would (checked by hash, not by the times that packing
# resets), since the read-only root takes no __pycache__.
workspace_python_image() {
  workspace workspace-python python3 python3-psycopg2 python3-redis python-is-python3
  local root=$WORK/workspace-python
  chroot "$root" /usr/bin/python3 -m compileall -q --invalidation-mode unchecked-hash \
    /usr/lib/python3.11 /usr/lib/python3/dist-packages >/dev/null
  workspace_pack workspace-python "$WORKSPACE_PYTHON_IMAGE" "/home/learner/.local/bin:$WORKSPACE_PATH"
}

# Java: Debian's JDK 17 (without its fonts and the jmods only jlink reads),
# its PostgreSQL JDBC driver on the CLASSPATH (Debian has no Java Redis
# client), the tools' links and the CA keystore of the maintainer scripts.
workspace_java_image() {
  PRUNE='fonts-.*|ttf-bitstream-vera|xfonts-.*|x11-common' workspace workspace-java \
    openjdk-17-jdk-headless libpostgresql-jdbc-java
  local root=$WORK/workspace-java jdk=/usr/lib/jvm/java-17-openjdk-amd64 tool
  rm -rf "${root:?}$jdk/jmods"
  for tool in "$root$jdk"/bin/*; do
    ln -sf "$jdk/bin/${tool##*/}" "$root/usr/bin/${tool##*/}"
  done
  mkdir -p "$root/etc/.java/.systemPrefs" "$root/etc/ssl/certs/java"
  touch "$root/etc/.java/.systemPrefs/.system.lock" "$root/etc/.java/.systemPrefs/.systemRootModFile"
  # ca-certificates-java's postinst: every CA of /etc/ssl/certs into
  # /etc/ssl/certs/java/cacerts, which the JDK's lib/security/cacerts is.
  # (The chroot has no /proc, without which the loader cannot expand the
  # launcher's $ORIGIN: hence LD_LIBRARY_PATH.)
  (cd "$root" && find etc/ssl/certs -maxdepth 1 -name '*.pem' | sort | sed 's|^|+/|') |
    chroot "$root" /usr/bin/env LD_LIBRARY_PATH="$jdk/lib" "$jdk/bin/java" -Xmx64m \
      -jar /usr/share/ca-certificates-java/ca-certificates-java.jar -storepass changeit >/dev/null
  workspace_pack workspace-java "$WORKSPACE_JAVA_IMAGE" "$WORKSPACE_PATH" \
    -env "JAVA_HOME=$jdk" -env CLASSPATH=/usr/share/java/postgresql.jar:.
}

build postgres postgres_image
build redis redis_image
build nginx nginx_image
build toolbox toolbox_image
build sample-app sample_app_image "$BIN_DIR/sample-app"
build coredns coredns_image "$BIN_DIR/coredns"
build pause pause_image "$BIN_DIR/pause"
# What the workspaces copy from this machine.
GOROOT_VERSION=$(go env GOROOT)/VERSION
NODE=$(readlink -f "$(command -v node)") || { say "The Node.js workspace needs Node.js 20 on this machine"; exit 1; }
NODE_PREFIX=$(dirname "$(dirname "$NODE")")
build workspace-go workspace_go_image "$GOROOT_VERSION"
build workspace-node workspace_node_image "$NODE" "$NODE_PREFIX/lib/node_modules/npm/package.json" \
  "$NODE_PREFIX/lib/node_modules/corepack/package.json"
build workspace-python workspace_python_image
build workspace-java workspace_java_image
rm -rf "$WORK"
say "Images ready in $OUT_DIR"
