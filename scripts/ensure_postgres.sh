#!/usr/bin/env bash
# Starts the local PostgreSQL cluster if it is not accepting connections (CI machines start with
# services as the last session left them).
set -uo pipefail
host=127.0.0.1; port=5432
if pg_isready -q -h "$host" -p "$port" 2>/dev/null; then exit 0; fi
if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  echo "== starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h "$host" -p "$port" && exit 0; sleep 1; done
fi
echo "!! PostgreSQL is not reachable on $host:$port; the PostgreSQL tests will fail" >&2
exit 0
