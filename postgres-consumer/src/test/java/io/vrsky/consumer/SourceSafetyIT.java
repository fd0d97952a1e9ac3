package io.vrsky.consumer;

import io.vrsky.consumer.ItSupport.StreamReader;
import io.vrsky.consumer.replication.ReplicationLoop;
import io.vrsky.consumer.replication.ReplicationLoop.Termination;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.Operation;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** What the consumer refuses at start so that it never breaks the source or silently starts from now. */
@ExtendWith(RealServices.class)
@SuppressWarnings("try") // the service runs while the block runs, though the block never names it
class SourceSafetyIT {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private static String noPrimaryKeyLine(String table) {
        return "table " + table + " has no primary key and REPLICA IDENTITY DEFAULT: its UPDATE and DELETE cannot be published,"
                + " and adding it to the publication would make them fail at the source. Fix: ALTER TABLE " + table
                + " REPLICA IDENTITY FULL (or add a primary key), or set POSTGRES_INPUT_OPERATIONS=INSERT";
    }

    /** Runs the service until it ends by itself; fails when it is still running after {@code WAIT}. */
    private static Termination runUntilItEnds(Map<String, String> env) throws Exception {
        try (ConsumerService svc = ItSupport.start(env)) {
            Termination t = svc.awaitTermination(WAIT);
            assertThat(t).as("the service ended by itself (state %s)", svc.state()).isNotNull();
            return t;
        }
    }

    @Test
    @Timeout(120)
    void shouldRefuseTablesThatCannotPublishUpdatesAndDeletesAndLeaveTheSourceWorking(PostgresServer pg, NatsServer nats)
            throws Exception {
        String name = ItSupport.unique("identity");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE events (id int, v text)", "CREATE TABLE quiet (id int PRIMARY KEY, v text)",
                "ALTER TABLE quiet REPLICA IDENTITY NOTHING", "CREATE TABLE fine (id int PRIMARY KEY, v text)",
                "CREATE TABLE indexed (id int NOT NULL, v text)", "CREATE UNIQUE INDEX indexed_id ON indexed (id)",
                "ALTER TABLE indexed REPLICA IDENTITY USING INDEX indexed_id", "CREATE TABLE whole (id int, v text)",
                "ALTER TABLE whole REPLICA IDENTITY FULL",
                "INSERT INTO events VALUES (1, 'a')", "INSERT INTO quiet VALUES (1, 'a')");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        env.put("POSTGRES_INPUT_TABLES", "events,quiet,fine,indexed,whole");

        Termination t = runUntilItEnds(env);

        assertThat(t.exitCode()).isEqualTo(3);
        assertThat(t.reason().lines()).containsExactly(
                noPrimaryKeyLine("public.events"),
                "table public.quiet has REPLICA IDENTITY NOTHING: its UPDATE and DELETE cannot be published, and adding it to the"
                        + " publication would make them fail at the source. Fix: ALTER TABLE public.quiet REPLICA IDENTITY DEFAULT"
                        + " (it has a primary key) or FULL, or set POSTGRES_INPUT_OPERATIONS=INSERT");
        assertThat(ItSupport.queryString(pg, db, "SELECT count(*) FROM pg_publication")).isEqualTo("0");
        assertThat(ItSupport.queryString(pg, db, "SELECT count(*) FROM pg_replication_slots WHERE database = '" + db + "'"))
                .isEqualTo("0");
        // the source application's own writes still work: nothing was added to a publication
        ItSupport.sql(pg, db, "UPDATE events SET v = 'b'", "DELETE FROM events", "UPDATE quiet SET v = 'b'", "DELETE FROM quiet");
    }

    @Test
    @Timeout(120)
    void shouldRefuseATableWithoutPrimaryKeyWhenEveryTableIsMonitored(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("identityall");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE fine (id int PRIMARY KEY)", "CREATE SCHEMA app", "CREATE TABLE app.log (line text)");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);

        Termination t = runUntilItEnds(env);

        assertThat(t.exitCode()).isEqualTo(3);
        assertThat(t.reason().lines()).containsExactly(noPrimaryKeyLine("app.log"));
        assertThat(ItSupport.queryString(pg, db, "SELECT count(*) FROM pg_publication")).isEqualTo("0");
        ItSupport.sql(pg, db, "INSERT INTO app.log VALUES ('x')", "UPDATE app.log SET line = 'y'", "DELETE FROM app.log");
    }

    @Test
    @Timeout(120)
    void shouldAcceptTablesWithoutReplicaIdentityWhenOnlyInsertsArePublished(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("insertonly");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE events (id int, v text)", "CREATE TABLE quiet (id int PRIMARY KEY, v text)",
                "ALTER TABLE quiet REPLICA IDENTITY NOTHING");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        env.put("POSTGRES_INPUT_TABLES", "events,quiet");
        env.put("POSTGRES_INPUT_OPERATIONS", "INSERT,TRUNCATE");

        try (ConsumerService svc = ItSupport.start(env); StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"))) {
            await("streaming").atMost(WAIT).until(() -> svc.state() == ReplicationLoop.State.STREAMING);
            ItSupport.sql(pg, db, "INSERT INTO events VALUES (1, 'a')", "UPDATE events SET v = 'b'", "DELETE FROM events",
                    "INSERT INTO quiet VALUES (1, 'a')", "UPDATE quiet SET v = 'b'", "DELETE FROM quiet");

            await().atMost(WAIT).until(() -> reader.changes().size() >= 2);
            List<Change> changes = reader.changes();
            assertThat(changes).extracting(Change::op).containsExactly(Operation.INSERT, Operation.INSERT);
            assertThat(changes).extracting(Change::table).containsExactly("events", "quiet");
        }
    }

    @Test
    @Timeout(120)
    void shouldRefuseToStartFromNowWhenTheSlotWasDroppedAfterPublishing(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("lostslot");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE t (id int PRIMARY KEY)");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        String slot = env.get("POSTGRES_INPUT_REPLICATION_SLOT");
        try (ConsumerService svc = ItSupport.start(env); StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"))) {
            await("streaming").atMost(WAIT).until(() -> svc.state() == ReplicationLoop.State.STREAMING);
            ItSupport.sql(pg, db, "INSERT INTO t VALUES (1)");
            await().atMost(WAIT).until(() -> reader.changes().size() >= 1);
        }
        ItSupport.sql(pg, db, "SELECT pg_drop_replication_slot('" + slot + "')", "INSERT INTO t VALUES (2)");

        for (int attempt = 1; attempt <= 2; attempt++) {
            Termination t = runUntilItEnds(env);

            assertThat(t.exitCode()).as("attempt %d", attempt).isEqualTo(3);
            assertThat(t.reason()).as("attempt %d", attempt).doesNotContain("\n")
                    .contains("replication slot " + slot + " is missing")
                    .contains("stream " + env.get("NATS_STREAM") + " holds messages published through it")
                    .contains("changes were lost")
                    .contains("nats stream purge " + env.get("NATS_STREAM") + " --subject=" + env.get("NATS_SUBJECT"))
                    .contains("re-copy the tables into the sink");
            assertThat(ItSupport.queryString(pg, db, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot + "'"))
                    .as("no new slot that would start from now").isEqualTo("0");
        }
    }
}
