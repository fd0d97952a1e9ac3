package io.vrsky.consumer;

import io.nats.client.Connection;
import io.nats.client.Nats;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.Operation;
import io.vrsky.core.nats.CdcHeaders;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Snapshots seen from the stream: what the consumer publishes for existing rows, and how it goes on. */
@ExtendWith(RealServices.class)
class SnapshotIT {

    private static final Duration WAIT = Duration.ofSeconds(60);

    /** The rows of {@code table} the stream says exist: READ rows, then INSERT/UPDATE/DELETE applied in order, by id. */
    private static Map<Object, String> replay(List<Change> changes, String table) {
        Map<Object, String> rows = new HashMap<>();
        for (Change c : changes) {
            if (!c.table().equals(table)) {
                continue;
            }
            switch (c.op()) {
                case READ, INSERT -> rows.put(c.after().get("id").asText(), c.after().toString());
                case UPDATE -> {
                    rows.remove(c.before().get("id").asText());
                    rows.put(c.after().get("id").asText(), c.after().toString());
                }
                case DELETE -> rows.remove(c.before().get("id").asText());
                case TRUNCATE -> rows.clear();
                default -> { }
            }
        }
        return rows;
    }

    @Test
    @Timeout(120)
    void shouldPublishExistingRowsAsReadChangesThenStreamWithoutGapOrOverlap(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("snapinit");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE a (id int PRIMARY KEY, note text)", "CREATE TABLE b (id text, n int, note text, PRIMARY KEY (id, n))",
                "CREATE TABLE c (id uuid PRIMARY KEY, v int)", "CREATE TABLE d (id int, v text)", "ALTER TABLE d REPLICA IDENTITY FULL",
                "INSERT INTO a SELECT g, 'row ' || g FROM generate_series(1, 5003) g",
                "INSERT INTO b SELECT 'k' || (g % 7), g, 'x' FROM generate_series(1, 500) g",
                "INSERT INTO c SELECT gen_random_uuid(), g FROM generate_series(1, 300) g",
                "INSERT INTO d SELECT g, 'no key' FROM generate_series(1, 250) g");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        env.put("POSTGRES_INPUT_BATCH_SIZE", "100");
        try (ConsumerService svc = ItSupport.start(env); ItSupport.StreamReader reader = new ItSupport.StreamReader(nats, env.get("NATS_STREAM"))) {
            await().atMost(WAIT).until(() -> svc.state() == io.vrsky.consumer.replication.ReplicationLoop.State.STREAMING
                    && svc.metrics().changesPublished() >= 5003 + 500 + 300 + 250);
            ItSupport.sql(pg, db, "UPDATE a SET note = 'changed' WHERE id = 1", "DELETE FROM a WHERE id = 2", "INSERT INTO a VALUES (6000, 'new')");
            await().atMost(WAIT).until(() -> reader.changes().stream().anyMatch(ch -> ch.op() == Operation.INSERT));

            List<Change> changes = reader.changes();
            assertThat(changes.stream().filter(ch -> ch.op() == Operation.READ && ch.table().equals("a")).count()).isEqualTo(5003);
            assertThat(changes.stream().filter(ch -> ch.op() == Operation.READ && ch.table().equals("b")).count()).isEqualTo(500);
            assertThat(changes.stream().filter(ch -> ch.op() == Operation.READ && ch.table().equals("c")).count()).isEqualTo(300);
            assertThat(changes.stream().filter(ch -> ch.op() == Operation.READ && ch.table().equals("d")).count()).isEqualTo(250);
            // every READ precedes every streamed change (the copy is consistent with the slot's start)
            int lastRead = -1;
            int firstStreamed = Integer.MAX_VALUE;
            for (int i = 0; i < changes.size(); i++) {
                if (changes.get(i).op() == Operation.READ) {
                    lastRead = i;
                } else if (changes.get(i).op() != Operation.TRUNCATE) {
                    firstStreamed = Math.min(firstStreamed, i);
                }
            }
            assertThat(lastRead).isLessThan(firstStreamed);
            Map<Object, String> a = replay(changes, "a");
            assertThat(a).hasSize(5003).containsKey("6000").doesNotContainKey("2");
            assertThat(a.get("1")).contains("changed");

            Set<String> ids = new HashSet<>();
            for (ItSupport.Stored s : reader.all()) {
                String snap = s.header(CdcHeaders.SNAPSHOT);
                if (snap != null) {
                    assertThat(s.header(CdcHeaders.MSG_ID)).isEqualTo(env.get("POSTGRES_INPUT_REPLICATION_SLOT") + ":snap:" + snap);
                    assertThat(s.header(CdcHeaders.PREV_COMMIT_LSN)).isNull();
                    assertThat(s.header(CdcHeaders.COMMIT_LSN)).isNull();
                    assertThat(s.envelope().metadata().snapshot()).isNotNull();
                    assertThat(s.envelope().changes()).hasSizeLessThanOrEqualTo(100);
                    assertThat(ids.add(snap)).isTrue();
                }
            }
            // the initial copy of the keyless table needs no TRUNCATE (a resumed one starts with one); each table's last chunk is flagged
            assertThat(changes.stream().filter(ch -> ch.table().equals("d")).findFirst().orElseThrow().op()).isEqualTo(Operation.READ);
            assertThat(reader.all().stream().filter(s -> "true".equals(s.header(CdcHeaders.LAST_CHUNK)) && s.header(CdcHeaders.SNAPSHOT) != null)
                    .count()).isEqualTo(4);
            String kv = progress(nats, env.get("POSTGRES_INPUT_REPLICATION_SLOT"));
            assertThat(kv).contains("\"kind\":\"initial\"").contains("\"state\":\"done\"").doesNotContain("\"state\":\"copying\"")
                    .contains("public.a", "public.b", "public.c", "public.d");
            assertThat(ItSupport.metric(svc, "vrsky_consumer_snapshot_rows_total{slot=\"" + svc.config().slot() + "\",table=\"public.a\"")).isEqualTo(5003);
            assertThat(ItSupport.metric(svc, "vrsky_consumer_snapshot_tables_remaining")).isZero();
        }
    }

    @Test
    @Timeout(180)
    void shouldKeepASecondInstanceOnStandbyWhileTheFirstCopiesItsInitialSnapshot(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("snapstandby");
        String db = pg.createDatabase(name);
        int rows = 200_000;
        ItSupport.sql(pg, db, "CREATE TABLE a (id int PRIMARY KEY, note text)",
                "INSERT INTO a SELECT g, 'row ' || g FROM generate_series(1, " + rows + ") g");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        env.put("POSTGRES_INPUT_BATCH_SIZE", "100");
        env.put("POSTGRES_INPUT_SNAPSHOT_PARALLELISM", "1");
        try (ConsumerService active = ItSupport.start(env); ItSupport.StreamReader reader = new ItSupport.StreamReader(nats, env.get("NATS_STREAM"))) {
            // PostgreSQL frees a new slot as soon as it is created: while the copy runs nothing but the instance's own lock keeps it
            await("the initial copy running").atMost(WAIT).pollInterval(Duration.ofMillis(20))
                    .until(() -> ItSupport.http(active.healthPort(), "/health/ready").body().contains("\"snapshot\""));
            try (ConsumerService second = ItSupport.start(env)) {
                await("the second instance on standby").atMost(WAIT).pollInterval(Duration.ofMillis(50))
                        .until(() -> second.state() == io.vrsky.consumer.replication.ReplicationLoop.State.STANDBY
                                || second.state() == io.vrsky.consumer.replication.ReplicationLoop.State.STREAMING);
                assertThat(second.state()).isEqualTo(io.vrsky.consumer.replication.ReplicationLoop.State.STANDBY);
                assertThat(ItSupport.http(active.healthPort(), "/health/ready").body())
                        .as("the copy still runs when the second instance is up (else this test shows nothing: grow the table)")
                        .contains("\"snapshot\"");
                await("the copy published").atMost(WAIT).until(() -> active.metrics().changesPublished() >= rows);
                ItSupport.sql(pg, db, "INSERT INTO a VALUES (" + (rows + 1) + ", 'after')");
                await("the insert published").atMost(WAIT).until(() -> reader.changes().stream().anyMatch(ch -> ch.op() == Operation.INSERT));
                assertThat(second.state()).isEqualTo(io.vrsky.consumer.replication.ReplicationLoop.State.STANDBY);
                assertThat(second.metrics().changesPublished()).isZero();
                List<Change> changes = reader.changes();
                assertThat(changes.stream().filter(ch -> ch.op() == Operation.READ).count()).isEqualTo(rows);
                assertThat(changes.get(changes.size() - 1).op()).isEqualTo(Operation.INSERT);
                assertThat(replay(changes, "a")).hasSize(rows + 1);
            }
        }
    }

    @Test
    @Timeout(120)
    void shouldDescribeReadRowsColumnsAsAStreamedChangeDescribesThem(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("snapcols");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE e (id int PRIMARY KEY, amount numeric(12,2) NOT NULL DEFAULT 0, name varchar(20),"
                + " at timestamp(3), tags int4[])", "INSERT INTO e VALUES (1, 1.5, 'one', now(), '{1}')");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        try (ConsumerService svc = ItSupport.start(env); ItSupport.StreamReader reader = new ItSupport.StreamReader(nats, env.get("NATS_STREAM"))) {
            await().atMost(WAIT).until(() -> svc.state() == io.vrsky.consumer.replication.ReplicationLoop.State.STREAMING);
            ItSupport.sql(pg, db, "INSERT INTO e VALUES (2, 2.5, 'two', now(), '{2}')");
            await().atMost(WAIT).until(() -> reader.changes().stream().anyMatch(ch -> ch.op() == Operation.INSERT));

            List<Change> changes = reader.changes();
            Change read = changes.stream().filter(ch -> ch.op() == Operation.READ).findFirst().orElseThrow();
            Change insert = changes.stream().filter(ch -> ch.op() == Operation.INSERT).findFirst().orElseThrow();
            // a sink learns each column's attnum, type modifier and full type from the first row it sees, READ or not
            assertThat(read.columns()).isEqualTo(insert.columns());
            assertThat(read.columns()).extracting(io.vrsky.core.model.ColumnInfo::attnum).containsExactly(1, 2, 3, 4, 5);
            assertThat(read.columns()).extracting(io.vrsky.core.model.ColumnInfo::sqlType)
                    .containsExactly("integer", "numeric(12,2)", "character varying(20)", "timestamp(3) without time zone", "integer[]");
            assertThat(read.columns().get(1).notNull()).isTrue();
            assertThat(read.columns().get(1).defaultExpression()).isEqualTo("0");
        }
    }

    static String progress(NatsServer nats, String slot) throws Exception {
        try (Connection nc = Nats.connect(nats.url())) {
            var entry = nc.keyValue("VRSKY_SNAPSHOTS").get(slot);
            return entry == null ? "" : new String(entry.getValue(), StandardCharsets.UTF_8);
        }
    }
}
