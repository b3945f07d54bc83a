#!/bin/sh
# Run once by the postgres image when it initialises its data directory
# (docker-compose.yml mounts this folder on /docker-entrypoint-initdb.d).
# POSTGRES_USER (orderly_owner) owns the database and runs the migrations; the
# role created here, the one the API, workers and relay use, may only read and
# write rows: the same split scripts/services.sh makes for the local stack.
set -eu
psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -v pw="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE orderly LOGIN PASSWORD :'pw' NOSUPERUSER NOCREATEDB NOCREATEROLE;
ALTER ROLE orderly SET statement_timeout = '15s';
ALTER ROLE orderly SET lock_timeout = '5s';
ALTER ROLE orderly SET idle_in_transaction_session_timeout = '60s';
REVOKE ALL ON DATABASE orderly FROM PUBLIC;
GRANT CONNECT ON DATABASE orderly TO orderly;
GRANT USAGE ON SCHEMA public TO orderly;
ALTER DEFAULT PRIVILEGES FOR ROLE orderly_owner GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO orderly;
ALTER DEFAULT PRIVILEGES FOR ROLE orderly_owner GRANT USAGE, SELECT ON SEQUENCES TO orderly;
SQL
