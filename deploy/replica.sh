#!/bin/sh
# A streaming replica of the primary: on first start, copy the primary with pg_basebackup
# (-R writes primary_conninfo and standby.signal, so the server starts as a hot standby
# following the primary); afterwards, start on the copy. Runs as the postgres user.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_basebackup --host="$PRIMARY_HOST" --username=replicator --pgdata="$PGDATA" \
      --write-recovery-conf --wal-method=stream --checkpoint=fast; do
    echo "replica: primary not reachable yet, retrying" >&2
    rm -rf "$PGDATA"
    sleep 2
  done
fi
exec postgres -c hot_standby=on
