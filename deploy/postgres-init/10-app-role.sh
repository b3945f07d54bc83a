#!/bin/sh
# Run once by the postgres image when it initialises its data directory
# (docker-compose.yml mounts this folder on /docker-entrypoint-initdb.d).
# The image's POSTGRES_USER is the superuser `postgres`, used by nothing else.
# Created here, as scripts/services.sh does for the local stack:
# - orderly_owner: owns the database and runs the migrations; not a superuser;
# - orderly: the role of the API, workers and relay; may only read and write rows.
# psql reads the passwords from its environment (\getenv, PostgreSQL 15), not
# from its command line, which any local user can read.
set -eu
psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d postgres <<'SQL'
\getenv owner_pw OWNER_DB_PASSWORD
\getenv pw APP_DB_PASSWORD
CREATE ROLE orderly_owner LOGIN PASSWORD :'owner_pw' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE ROLE orderly LOGIN PASSWORD :'pw' NOSUPERUSER NOCREATEDB NOCREATEROLE;
ALTER ROLE orderly SET statement_timeout = '15s';
ALTER ROLE orderly SET lock_timeout = '5s';
ALTER ROLE orderly SET idle_in_transaction_session_timeout = '60s';
CREATE DATABASE orderly OWNER orderly_owner;
\connect orderly
REVOKE ALL ON DATABASE orderly FROM PUBLIC;
GRANT CONNECT ON DATABASE orderly TO orderly;
ALTER SCHEMA public OWNER TO orderly_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO orderly;
ALTER DEFAULT PRIVILEGES FOR ROLE orderly_owner GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO orderly;
ALTER DEFAULT PRIVILEGES FOR ROLE orderly_owner GRANT USAGE, SELECT ON SEQUENCES TO orderly;
SQL
