#!/bin/bash
# One-shot (compose service mongo-init): initiates the replica set rs0 if it is not yet, waits
# until a primary exists, and creates vkhod's own database user (readWrite + dbAdmin on the
# vkhod database only). Safe to run on every `up`: each step is skipped when already done.
# vkhod starts only after this exits 0 (depends_on: service_completed_successfully).
set -euo pipefail
ROOT_PASSWORD="$(cat /run/secrets/mongo_root_password)"
VKHOD_PASSWORD="$(cat /run/secrets/vkhod_mongo_password)"
export ROOT_PASSWORD VKHOD_PASSWORD

mongo1=(mongosh --quiet "mongodb://mongo1:27017/admin?directConnection=true" -u root -p "$ROOT_PASSWORD" --authenticationDatabase admin)
for i in $(seq 1 60); do
  if "${mongo1[@]}" --eval 'db.adminCommand({ ping: 1 }).ok' >/dev/null 2>&1; then break; fi
  [ "$i" = 60 ] && { echo "mongo-init: mongo1 does not accept the root user" >&2; exit 1; }
  sleep 2
done

"${mongo1[@]}" --eval '
  try {
    rs.status();
    print("mongo-init: replica set already initiated");
  } catch (e) {
    if (e.codeName !== "NotYetInitialized") throw e;
    rs.initiate({ _id: "rs0", members: [
      { _id: 0, host: "mongo1:27017", priority: 2 },
      { _id: 1, host: "mongo2:27017" },
      { _id: 2, host: "mongo3:27017" },
    ] });
    print("mongo-init: replica set rs0 initiated");
  }
  let primary;
  for (let i = 0; i < 120 && !primary; i += 1) {
    primary = rs.status().members.find((m) => m.stateStr === "PRIMARY");
    if (!primary) sleep(1000);
  }
  if (!primary) { print("mongo-init: no primary after 120 s"); quit(1); }
  print("mongo-init: primary " + primary.name);
'

# Users are written on the primary: connect to the set, not to one member.
mongosh --quiet "mongodb://mongo1:27017,mongo2:27017,mongo3:27017/admin?replicaSet=rs0" -u root -p "$ROOT_PASSWORD" \
  --authenticationDatabase admin --eval '
  const admin = db.getSiblingDB("admin");
  const roles = [{ role: "readWrite", db: "vkhod" }, { role: "dbAdmin", db: "vkhod" }];
  if (admin.getUser("vkhod")) {
    admin.updateUser("vkhod", { pwd: process.env.VKHOD_PASSWORD, roles });
    print("mongo-init: user vkhod updated");
  } else {
    admin.createUser({ user: "vkhod", pwd: process.env.VKHOD_PASSWORD, roles });
    print("mongo-init: user vkhod created");
  }
  const hello = db.hello();
  if (!hello.isWritablePrimary && !hello.primary) { print("mongo-init: no primary"); quit(1); }
'
echo "mongo-init: done"
