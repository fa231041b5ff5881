#!/usr/bin/env bash
# Makes sure the servers that tests start for themselves are installed:
# redis-server and the PostgreSQL server binaries (initdb, postgres) for the
# sample app's integration tests and benchmark, and nginx for the check of the
# nginx.conf the operator renders (nginx -t). Idempotent: it installs only what is missing,
# with Debian's packages, and prints where it found each binary.
#
#   bash hack/test-services.sh
#
# The tests look for initdb and postgres in $SAMPLEAPP_PG_BINDIR, then on PATH,
# then in /usr/lib/postgresql/*/bin (where Debian installs them off PATH), and
# for redis-server on PATH. When run as root, the tests start PostgreSQL as the
# user postgres (or nobody), since initdb and postgres refuse to run as root.
set -euo pipefail

postgres_bindir() {
	if [[ -n "${SAMPLEAPP_PG_BINDIR:-}" ]]; then
		[[ -x "$SAMPLEAPP_PG_BINDIR/initdb" && -x "$SAMPLEAPP_PG_BINDIR/postgres" ]] && echo "$SAMPLEAPP_PG_BINDIR"
		return
	fi
	local initdb
	if initdb=$(command -v initdb) && command -v postgres >/dev/null; then
		dirname "$initdb"
		return
	fi
	local dir
	for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
		if [[ -x "$dir/initdb" && -x "$dir/postgres" ]]; then
			echo "$dir"
			return
		fi
	done
}

if [[ -n "${SAMPLEAPP_PG_BINDIR:-}" && -z "$(postgres_bindir)" ]]; then
	echo "test-services: SAMPLEAPP_PG_BINDIR=$SAMPLEAPP_PG_BINDIR holds no executable initdb and postgres" >&2
	exit 1
fi

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
[[ -n "$(postgres_bindir)" ]] || missing+=(postgresql)
# The Python reference solution of the project stages (test/projects) runs on Debian's python3 with
# its psycopg2 and redis, as in the workspace-python image.
/usr/bin/python3 -c 'import psycopg2, redis' 2>/dev/null || missing+=(python3-psycopg2 python3-redis)

if ((${#missing[@]} > 0)); then
	sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null || {
			echo "test-services: need root or sudo to install: ${missing[*]}" >&2
			exit 1
		}
		sudo=(sudo)
	fi
	echo "test-services: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

pg_dir=$(postgres_bindir)
if [[ -z "$pg_dir" ]]; then
	echo "test-services: PostgreSQL server binaries still not found after installing" >&2
	exit 1
fi
redis=$(command -v redis-server) || {
	echo "test-services: redis-server still not found after installing" >&2
	exit 1
}
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x "$nginx" ]] || {
	echo "test-services: nginx still not found after installing" >&2
	exit 1
}
echo "test-services: nginx at $nginx"
echo "test-services: postgres in $pg_dir ($("$pg_dir/postgres" --version)); redis-server at $redis" \
	"($("$redis" --version | awk '{print $3}'))"
