package io.vrsky.consumer;

import io.vrsky.consumer.replication.ReplicationLoop;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.Operation;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Copies while streaming: tables added later, signal rows, an interrupted initial snapshot, never mode. */
@ExtendWith(RealServices.class)
class SnapshotBackfillIT {

    private static final Duration WAIT = Duration.ofSeconds(90);

    /** id -> v as the stream says, applying every change in order (READ and INSERT as upserts). */
    static Map<Integer, Integer> replay(List<Change> changes, String table) {
        Map<Integer, Integer> rows = new TreeMap<>();
        for (Change c : changes) {
            if (!c.table().equals(table)) {
                continue;
            }
            switch (c.op()) {
                case READ, INSERT, UPDATE -> {
                    if (c.op() == Operation.UPDATE && c.before() != null) {
                        rows.remove(c.before().get("id").asInt());
                    }
                    rows.put(c.after().get("id").asInt(), c.after().get("v").isNull() ? null : c.after().get("v").asInt());
                }
                case DELETE -> rows.remove(c.before().get("id").asInt());
                case TRUNCATE -> rows.clear();
                default -> { }
            }
        }
        return rows;
    }

    static Map<Integer, Integer> source(PostgresServer pg, String db, String table) throws Exception {
        Map<Integer, Integer> rows = new TreeMap<>();
        try (java.sql.Connection c = pg.connect(db); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT id, v FROM " + table)) {
            while (rs.next()) {
                rows.put(rs.getInt(1), (Integer) rs.getObject(2));
            }
        }
        return rows;
    }

    static long reads(List<Change> changes, String table) {
        return changes.stream().filter(c -> c.op() == Operation.READ && c.table().equals(table)).count();
    }

    @Test
    @Timeout(180)
    void shouldCopyATableAddedToTheMonitoredSetOnRestartAndNoOther(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("snapadd");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE a (id int PRIMARY KEY, v int)", "CREATE TABLE b (id int PRIMARY KEY, v int)",
                "INSERT INTO a SELECT g, g FROM generate_series(1, 300) g", "INSERT INTO b SELECT g, g FROM generate_series(1, 2000) g");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        env.put("POSTGRES_INPUT_TABLES", "a");
        env.put("POSTGRES_INPUT_SNAPSHOT_CHUNK_ROWS", "150");
        try (ItSupport.StreamReader reader = new ItSupport.StreamReader(nats, env.get("NATS_STREAM"))) {
            try (ConsumerService svc = ItSupport.start(env)) {
                await().atMost(WAIT).until(() -> reads(reader.changes(), "a") == 300);
            }
            env.put("POSTGRES_INPUT_TABLES", "a,b");
            AtomicBoolean writing = new AtomicBoolean(true);
            Thread writer = new Thread(() -> {
                int i = 0;
                while (writing.get()) {
                    i++;
                    try {
                        ItSupport.sql(pg, db, "UPDATE b SET v = v + 1 WHERE id = " + (1 + i * 7 % 2000),
                                "DELETE FROM b WHERE id = " + (1 + i * 13 % 2000), "INSERT INTO b VALUES (" + (5000 + i) + ", 0)");
                    } catch (Exception e) {
                        return;
                    }
                }
            });
            try (ConsumerService svc = ItSupport.start(env)) {
                writer.start();
                await().atMost(WAIT).until(() -> SnapshotIT.progress(nats, env.get("POSTGRES_INPUT_REPLICATION_SLOT"))
                        .contains("\"kind\":\"added\"") && !SnapshotIT.progress(nats, env.get("POSTGRES_INPUT_REPLICATION_SLOT"))
                        .contains("\"state\":\"copying\"") && !SnapshotIT.progress(nats, env.get("POSTGRES_INPUT_REPLICATION_SLOT"))
                        .contains("\"state\":\"pending\""));
                writing.set(false);
                writer.join();
                ItSupport.sql(pg, db, "INSERT INTO a VALUES (100000, 1)", "INSERT INTO b VALUES (100000, 1)");
                await().atMost(WAIT).until(() -> replay(reader.changes(), "b").containsKey(100000)
                        && replay(reader.changes(), "a").containsKey(100000));
                assertThat(replay(reader.changes(), "b")).isEqualTo(source(pg, db, "b"));
                assertThat(replay(reader.changes(), "a")).isEqualTo(source(pg, db, "a"));
                assertThat(reads(reader.changes(), "a")).isEqualTo(300); // a was not copied again
                assertThat(reads(reader.changes(), "b")).isBetween(1L, 3999L); // 2,000 rows plus what the writer inserted meanwhile, never two copies
                assertThat(ItSupport.queryString(pg, db, "SELECT count(*) FROM pg_publication_tables WHERE pubname = '"
                        + env.get("POSTGRES_INPUT_PUBLICATION") + "' AND tablename = 'b'")).isEqualTo("1");
            } finally {
                writing.set(false);
            }
        }
    }

    @Test
    @Timeout(180)
    void shouldBackfillTheTablesASignalRowNamesAndWarnAboutTheRest(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("snapsig");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE a (id int PRIMARY KEY, v int)", "CREATE TABLE k (id int, v int)",
                "ALTER TABLE k REPLICA IDENTITY FULL", "CREATE TABLE other (id int PRIMARY KEY, v int)");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        env.put("POSTGRES_INPUT_TABLES", "a,k");
        env.put("POSTGRES_INPUT_SIGNAL_TABLE", "public.vrsky_signal");
        env.put("POSTGRES_INPUT_SNAPSHOT_CHUNK_ROWS", "200");
        try (ItSupport.StreamReader reader = new ItSupport.StreamReader(nats, env.get("NATS_STREAM"));
             ConsumerService svc = ItSupport.start(env)) {
            await().atMost(WAIT).until(() -> svc.state() == ReplicationLoop.State.STREAMING);
            ItSupport.sql(pg, db, "INSERT INTO a SELECT g, g FROM generate_series(1, 1000) g", "INSERT INTO k SELECT g, g FROM generate_series(1, 50) g");
            await().atMost(WAIT).until(() -> replay(reader.changes(), "a").size() == 1000 && replay(reader.changes(), "k").size() == 50);
            ItSupport.sql(pg, db, "INSERT INTO vrsky_signal (kind, tables) VALUES ('backfill', 'public.a, k, public.other, nope.x')",
                    "INSERT INTO vrsky_signal (kind, tables) VALUES ('explode', 'a')");
            AtomicBoolean writing = new AtomicBoolean(true);
            Thread writer = new Thread(() -> {
                int i = 0;
                while (writing.get()) {
                    i++;
                    try {
                        ItSupport.sql(pg, db, "UPDATE a SET v = v + 1000 WHERE id = " + (1 + i * 7 % 1000),
                                "DELETE FROM a WHERE id = " + (1 + i * 11 % 1000), "INSERT INTO a VALUES (" + (2000 + i) + ", 5)",
                                "INSERT INTO k VALUES (" + (2000 + i) + ", 5)");
                    } catch (Exception e) {
                        return;
                    }
                }
            });
            writer.start();
            try {
                await().atMost(WAIT).until(() -> reads(reader.changes(), "k") >= 50 && SnapshotIT.progress(nats,
                        env.get("POSTGRES_INPUT_REPLICATION_SLOT")).contains("\"kind\":\"backfill\"") && !SnapshotIT.progress(nats,
                        env.get("POSTGRES_INPUT_REPLICATION_SLOT")).matches("(?s).*\"state\":\"(copying|pending)\".*"));
            } finally {
                writing.set(false);
                writer.join();
            }
            ItSupport.sql(pg, db, "INSERT INTO a VALUES (100000, 1)");
            await().atMost(WAIT).until(() -> replay(reader.changes(), "a").containsKey(100000));
            assertThat(replay(reader.changes(), "a")).isEqualTo(source(pg, db, "a"));
            assertThat(reads(reader.changes(), "a")).isBetween(1L, 1200L);
            // the keyless table is copied whole after a TRUNCATE, at a consistent point
            assertThat(reads(reader.changes(), "k")).isGreaterThanOrEqualTo(50);
            List<Change> all = reader.changes();
            assertThat(all.stream().anyMatch(c -> c.table().equals("k") && c.op() == Operation.TRUNCATE)).isTrue();
            Map<Integer, Integer> k = replay(all, "k");
            assertThat(k).isEqualTo(source(pg, db, "k"));
            assertThat(all).noneMatch(c -> c.table().equals("vrsky_signal") || c.table().equals("other"));
            assertThat(svc.state()).isEqualTo(ReplicationLoop.State.STREAMING);
        }
    }

    @Test
    @Timeout(120)
    void shouldCopyNothingInNeverModeAndStreamNewChanges(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("snapnever");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE a (id int PRIMARY KEY, v int)", "INSERT INTO a SELECT g, g FROM generate_series(1, 100) g");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        env.put("POSTGRES_INPUT_SNAPSHOT_MODE", "never");
        try (ItSupport.StreamReader reader = new ItSupport.StreamReader(nats, env.get("NATS_STREAM"));
             ConsumerService svc = ItSupport.start(env)) {
            await().atMost(WAIT).until(() -> svc.state() == ReplicationLoop.State.STREAMING);
            ItSupport.sql(pg, db, "INSERT INTO a VALUES (101, 1)");
            await().atMost(WAIT).until(() -> !reader.changes().isEmpty());
            assertThat(reader.changes()).extracting(Change::op).containsExactly(Operation.INSERT);
        }
    }

    @Test
    @Timeout(240)
    void shouldResumeAnInterruptedInitialSnapshotWithoutStartingOver(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("snapresume");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE a (id int PRIMARY KEY, v int)", "INSERT INTO a SELECT g, g FROM generate_series(1, 200000) g");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        env.put("POSTGRES_INPUT_BATCH_SIZE", "50");
        env.put("POSTGRES_INPUT_SNAPSHOT_CHUNK_ROWS", "5000");
        String slot = env.get("POSTGRES_INPUT_REPLICATION_SLOT");
        try (ItSupport.StreamReader reader = new ItSupport.StreamReader(nats, env.get("NATS_STREAM"))) {
            try (ConsumerService svc = ItSupport.start(env)) {
                await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).until(() -> reader.count() >= 500);
            } // stopped in the middle of the copy: the exported snapshot is gone with its connection
            String record = SnapshotIT.progress(nats, slot);
            assertThat(record).contains("\"state\":\"copying\"");
            long before = reads(reader.changes(), "a");
            assertThat(before).isLessThan(200000);
            ItSupport.sql(pg, db, "UPDATE a SET v = -v WHERE id % 1000 = 0", "DELETE FROM a WHERE id % 777 = 0",
                    "INSERT INTO a SELECT g, g FROM generate_series(300001, 300100) g");
            try (ConsumerService svc = ItSupport.start(env)) {
                await().atMost(WAIT).until(() -> SnapshotIT.progress(nats, slot).contains("\"state\":\"done\""));
                ItSupport.sql(pg, db, "INSERT INTO a VALUES (999999, 1)");
                await().atMost(WAIT).until(() -> replay(reader.changes(), "a").containsKey(999999));
            }
            List<Change> changes = reader.changes();
            assertThat(replay(changes, "a")).isEqualTo(source(pg, db, "a"));
            assertThat(reads(changes, "a")).isLessThan(200000 + before / 2 + 10000); // resumed, not copied again from zero
        }
    }
}
