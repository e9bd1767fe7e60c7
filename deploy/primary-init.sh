#!/bin/sh
# Runs once, when the primary's data volume is created (the postgres image runs the scripts
# in /docker-entrypoint-initdb.d on an empty volume): a role the streaming replica connects
# as, and a pg_hba.conf line that lets it. The image's own line ("host all all all") does not
# match replication connections, which PostgreSQL checks against the "replication" database.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
create role replicator with replication login password '${REPLICATION_PASSWORD}';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
