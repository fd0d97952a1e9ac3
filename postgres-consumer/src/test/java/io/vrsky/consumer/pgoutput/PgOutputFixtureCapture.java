package io.vrsky.consumer.pgoutput;

import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HexFormat;

/**
 * Not a test: captures the pgoutput byte fixtures under src/test/resources/pgoutput from a real
 * server (pg_logical_slot_peek_binary_changes, proto_version 1). Run it on purpose with
 * {@code mvn -pl postgres-consumer verify -Dit.test=PgOutputFixtureCapture -Dvrsky.capture.fixtures=true}
 * and commit the files it writes. Each line is {@code <lsn> <hex bytes of one message>}.
 */
@ExtendWith(RealServices.class)
@EnabledIfSystemProperty(named = "vrsky.capture.fixtures", matches = "true")
@Timeout(120)
class PgOutputFixtureCapture {

    private static final Path DIR = Path.of("src", "test", "resources", "pgoutput");

    @Test
    void capture(PostgresServer pg) throws Exception {
        String db = pg.createDatabase("fixtures");
        try (Connection c = pg.connect(db); Statement s = c.createStatement()) {
            s.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')");
            s.execute("CREATE DOMAIN positive_int AS int4 CHECK (VALUE > 0)");
            s.execute("CREATE TABLE orders (id int8 PRIMARY KEY, note text, amount numeric(12,2), paid bool)");
            s.execute("CREATE TABLE audit (id int4 PRIMARY KEY, payload text, n int4)");
            s.execute("ALTER TABLE audit REPLICA IDENTITY FULL");
            s.execute("CREATE TABLE docs (id int4 PRIMARY KEY, body text, version int4)");
            s.execute("ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL");
            s.execute("CREATE TABLE typed (id int4 PRIMARY KEY, m mood, p positive_int, tags text[], nums int4[], "
                    + "grid int4[][], ts timestamptz, b bytea, j jsonb, u uuid)");
            s.execute("CREATE TABLE other (id int4 PRIMARY KEY)");
            s.execute("CREATE PUBLICATION fx_pub FOR ALL TABLES");

            s.execute("SELECT pg_create_logical_replication_slot('fx_crud', 'pgoutput')");
            s.execute("INSERT INTO orders VALUES (1, 'first', 12.50, false)");
            s.execute("UPDATE orders SET note = 'changed', paid = true WHERE id = 1");
            s.execute("UPDATE orders SET id = 2 WHERE id = 1");
            s.execute("UPDATE orders SET note = NULL WHERE id = 2");
            s.execute("DELETE FROM orders WHERE id = 2");
            capture(s, "fx_crud", "crud");

            s.execute("SELECT pg_create_logical_replication_slot('fx_full', 'pgoutput')");
            s.execute("INSERT INTO audit VALUES (1, 'a', 1)");
            s.execute("UPDATE audit SET n = 2 WHERE id = 1");
            s.execute("DELETE FROM audit WHERE id = 1");
            capture(s, "fx_full", "replica_full");

            s.execute("SELECT pg_create_logical_replication_slot('fx_toast', 'pgoutput')");
            s.execute("INSERT INTO docs SELECT 1, string_agg(md5(g::text), '') FROM generate_series(1, 400) g");
            s.execute("UPDATE docs SET version = 2 WHERE id = 1");
            capture(s, "fx_toast", "toast");

            s.execute("SELECT pg_create_logical_replication_slot('fx_truncate', 'pgoutput')");
            s.execute("INSERT INTO other VALUES (1)");
            s.execute("TRUNCATE other, audit RESTART IDENTITY");
            capture(s, "fx_truncate", "truncate");

            s.execute("SELECT pg_create_logical_replication_slot('fx_types', 'pgoutput')");
            s.execute("INSERT INTO typed VALUES (1, 'happy', 7, ARRAY['a b', 'c\"d', NULL], '{1,2,3}', '{{1,2},{3,4}}',"
                    + " '2026-02-17 10:00:00.123456+00', '\\x00ff10', '{\"k\": [1, true]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')");
            capture(s, "fx_types", "types");

            s.execute("SELECT pg_create_logical_replication_slot('fx_message', 'pgoutput')");
            s.execute("SELECT pg_replication_origin_create('fx_origin')");
            s.execute("BEGIN");
            s.execute("SELECT pg_replication_origin_session_setup('fx_origin')");
            s.execute("SELECT pg_replication_origin_xact_setup('0/1234', now())");
            s.execute("INSERT INTO other VALUES (2)");
            s.execute("SELECT pg_logical_emit_message(true, 'vrsky', 'in a transaction')");
            s.execute("COMMIT");
            s.execute("SELECT pg_replication_origin_session_reset()");
            s.execute("SELECT pg_logical_emit_message(false, 'vrsky', 'on its own')");
            capture(s, "fx_message", "message_origin");
        }
    }

    private static void capture(Statement s, String slot, String name) throws Exception {
        StringBuilder out = new StringBuilder();
        try (ResultSet rs = s.executeQuery("SELECT lsn::text, data FROM pg_logical_slot_peek_binary_changes('" + slot
                + "', NULL, NULL, 'proto_version', '1', 'publication_names', 'fx_pub', 'messages', 'true')")) {
            while (rs.next()) {
                out.append(rs.getString(1)).append(' ').append(HexFormat.of().formatHex(rs.getBytes(2))).append('\n');
            }
        }
        Files.createDirectories(DIR);
        Files.writeString(DIR.resolve(name + ".hex"), out.toString());
        s.execute("SELECT pg_drop_replication_slot('" + slot + "')");
    }
}
