#!/bin/sh
# Runs as root in the build of every workspace image (Dockerfile beside it):
# the tools a learner uses in a terminal, and the user the operator runs the
# workspace as (1000:1000, home /home/learner). Extra Debian or Ubuntu
# packages are its arguments.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends bash ca-certificates curl git jq less nano procps \
  postgresql-client redis-tools vim-tiny "$@"
rm -rf /var/lib/apt/lists/*
ln -sf vim.tiny /usr/bin/vim
# The official images' own user 1000 (node, ubuntu) gives way to learner.
old=$(getent passwd 1000 | cut -d: -f1 || true)
[ -z "$old" ] || userdel "$old"
old=$(getent group 1000 | cut -d: -f1 || true)
[ -z "$old" ] || groupdel "$old"
groupadd --gid 1000 learner
useradd --uid 1000 --gid 1000 --home-dir /home/learner --create-home --shell /bin/bash learner
