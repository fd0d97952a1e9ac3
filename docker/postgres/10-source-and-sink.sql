-- Runs once, when the postgres container initialises an empty data directory
-- (/docker-entrypoint-initdb.d), as POSTGRES_USER in database POSTGRES_DB (the source).
-- Creates the sink database and the demo tables in both.

CREATE DATABASE sink;

\ir demo-schema.psql

\connect sink
\ir demo-schema.psql
