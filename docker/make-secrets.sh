#!/bin/sh
# Writes the secrets docker/compose.yaml reads (docker/secrets/, never committed, never in the
# image). Run once; keep a copy of vkhod_secret_key in your secret store: without it the signing
# keys, authenticator seeds and letter codes in the database cannot be used.
set -eu
dir="$(dirname "$0")/secrets"
mkdir -p "$dir"
cd "$dir"
umask 077
[ -s vkhod_secret_key ] || openssl rand -base64 32 > vkhod_secret_key
[ -s mongo_keyfile ] || openssl rand -base64 756 > mongo_keyfile
[ -s mongo_root_password ] || openssl rand -hex 24 > mongo_root_password
if [ ! -s vkhod_mongo_password ]; then
  openssl rand -hex 24 > vkhod_mongo_password
  rm -f mongodb_uri
fi
[ -s mongodb_uri ] ||
  echo "mongodb://vkhod:$(cat vkhod_mongo_password)@mongo1:27017,mongo2:27017,mongo3:27017/vkhod?replicaSet=rs0&authSource=admin" > mongodb_uri
# Compose mounts secret files as they are: vkhod runs as uid 1000 (node) and must read its two.
chmod 600 ./*
if ! chown 1000 vkhod_secret_key mongodb_uri 2>/dev/null; then
  chmod 644 vkhod_secret_key mongodb_uri
  echo "note: vkhod_secret_key and mongodb_uri made readable by all (run as root to give them to uid 1000 only)" >&2
fi
echo "secrets in $PWD"
