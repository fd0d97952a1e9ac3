package io.vrsky.pipeline;

import io.nats.client.Connection;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Snapshots through both jars: rows that exist before the consumer first starts reach the sink,
 * consistent with changes made meanwhile, after kill -9 of either service, with both at -Xmx256m.
 */
@ExtendWith(RealServices.class)
class SnapshotPipelineIT {

    private static final String[] SCHEMA = {
        "CREATE TABLE big (id bigint PRIMARY KEY, k int NOT NULL, note text, at timestamptz)",
        "CREATE TABLE pairs (a text, b int, val text, PRIMARY KEY (a, b))",
        "CREATE TABLE tags (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), label text)",
        "CREATE TABLE loose (n int, label text)",
        "ALTER TABLE loose REPLICA IDENTITY FULL",
    };

    private static void fill(Pipeline p, int rows) throws Exception {
        p.execSource("INSERT INTO big SELECT g, g % 97, 'note ' || g, now() - g * interval '1 second' FROM generate_series(1, " + rows + ") g");
        p.execSource("INSERT INTO pairs SELECT 'k' || (g % 13), g, md5(g::text) FROM generate_series(1, 2000) g");
        p.execSource("INSERT INTO tags (label) SELECT 'tag ' || g FROM generate_series(1, 500) g");
        p.execSource("INSERT INTO loose SELECT g, 'no key ' || g FROM generate_series(1, 300) g");
    }

    /** Writes to rows the snapshot is copying (updates, deletes, inserts) until stopped. */
    private static final class Writer implements AutoCloseable {
        private final AtomicBoolean on = new AtomicBoolean(true);
        private final AtomicLong done = new AtomicLong();
        private final Thread thread;

        Writer(Pipeline p, int maxId) {
            thread = new Thread(() -> {
                java.util.Random random = new java.util.Random(7);
                try (java.sql.Connection c = p.pg.connect(p.sourceDb); java.sql.Statement s = c.createStatement()) {
                    while (on.get()) {
                        int id = 1 + random.nextInt(maxId);
                        s.execute("UPDATE big SET k = k + 1, note = 'updated' WHERE id = " + id);
                        s.execute("DELETE FROM big WHERE id = " + (1 + random.nextInt(maxId)));
                        s.execute("INSERT INTO big VALUES (" + (10_000_000 + done.get()) + ", 1, 'new', now())");
                        s.execute("UPDATE pairs SET val = 'changed' WHERE a = 'k" + random.nextInt(13) + "' AND b = " + (1 + random.nextInt(2000)));
                        s.execute("INSERT INTO loose VALUES (" + (1000 + done.get()) + ", 'later')");
                        done.incrementAndGet();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "snapshot-writer");
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            on.set(false);
            thread.join();
        }
    }

    @Test
    @Timeout(300)
    void shouldCopyExistingRowsConsistentlyWhileAWriterChangesThem(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, SCHEMA)) {
            fill(p, 50_000);
            p.consumerEnv("POSTGRES_INPUT_BATCH_SIZE", "100");
            try (Writer writer = new Writer(p, 50_000)) {
                p.start();
                await().atMost(Duration.ofSeconds(60)).until(() -> writer.done.get() > 200);
            }
            p.awaitInSync(Duration.ofSeconds(180));
            assertThat(Pipeline.count(p.sink(), "big")).isGreaterThan(49_000);
            assertThat(Pipeline.count(p.sink(), "loose")).isEqualTo(Pipeline.count(p.source(), "loose"));
        }
    }

    @Test
    @Timeout(300)
    void shouldCarryEveryDataTypeThroughTheSnapshot(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, DataTypesIT.SCHEMA)) {
            p.execSource(DataTypesIT.ROW_1);
            p.execSource(DataTypesIT.ROW_2);
            p.execSource(DataTypesIT.ROW_3);
            p.execSource("INSERT INTO everything (id, c_float4, c_float8, c_numeric, c_num_arr, c_int_arr, c_text_arr, c_date, c_ts, c_tstz,"
                    + " c_json, c_jsonb) VALUES (10, 'NaN', '-Infinity', 'NaN', '{NaN,1}', '{{1,2},{3,4}}', '{{a,\"b\\\\c\"},{NULL,\"tab\tnl\n\"}}',"
                    + " 'infinity', '-infinity', '4713-01-01 00:00:00+00 BC', '{\"a\":1,   \"a\":2}', '{\"deep\": [[{\"x\": \"\\u00e9\"}]]}')");
            p.start();
            p.awaitInSync();
            assertThat(p.rows(p.sink(), "everything")).containsExactlyElementsOf(p.rows(p.source(), "everything"));
        }
    }

    @Test
    @Timeout(420)
    void shouldResumeWithoutStartingOverWhenTheConsumerIsKilledDuringALargeSnapshot(PostgresServer pg, NatsServer nats, TestInfo info)
            throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, SCHEMA)) {
            fill(p, 200_000);
            p.consumerEnv("POSTGRES_INPUT_BATCH_SIZE", "50").consumerEnv("POSTGRES_INPUT_SNAPSHOT_PARALLELISM", "1");
            p.consumer().start();
            Connection nc = p.natsConnection();
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20)).ignoreExceptions()
                    .until(() -> nc.jetStreamManagement().getStreamInfo(p.stream).getStreamState().getMsgCount() >= 1500);
            p.consumer().kill();
            String record = progress(nc, p.slot);
            assertThat(record).as("the progress record right after the kill; consumer log:%n%s", p.consumer().logTail())
                    .contains("\"state\":\"copying\"");
            p.execSource("UPDATE big SET note = 'after the kill' WHERE id % 1000 = 0");
            p.execSource("DELETE FROM big WHERE id % 777 = 0");
            p.consumer().startAndAwaitReady();
            p.producer().startAndAwaitReady();
            p.awaitInSync(Duration.ofSeconds(240));
            long messages = nc.jetStreamManagement().getStreamInfo(p.stream).getStreamState().getMsgCount();
            long oneCopy = (200_000 + 2000 + 500 + 300) / 50;
            assertThat(messages).as("messages in the stream: one copy is about %d; consumer log:%n%s", oneCopy, p.consumer().logTail())
                    .isLessThan(oneCopy * 3 / 2);
            // the sink can hold the last chunk before the consumer has recorded JetStream's ack of it
            await("progress record finished").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .untilAsserted(() -> assertThat(progress(nc, p.slot)).doesNotContain("\"state\":\"copying\"")
                            .doesNotContain("\"state\":\"pending\""));
        }
    }

    @Test
    @Timeout(420)
    void shouldApplyEachChunkOnceWhenTheProducerIsKilledDuringALargeSnapshot(PostgresServer pg, NatsServer nats, TestInfo info)
            throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, SCHEMA)) {
            fill(p, 200_000);
            p.consumerEnv("POSTGRES_INPUT_BATCH_SIZE", "50");
            p.producerEnv("POSTGRES_OUTPUT_CONFLICT_STRATEGY", "INSERT");
            p.start();
            for (int kill = 1; kill <= 2; kill++) {
                long at = 40_000L * kill;
                await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(50)).ignoreExceptions()
                        .until(() -> Pipeline.count(p.sink(), "big") >= at);
                p.producer().kill();
                p.producer().startAndAwaitReady();
            }
            p.awaitInSync(Duration.ofSeconds(240));
            assertThat(Pipeline.scalar(p.sink(), "SELECT count(*) FROM vrsky_applied_position WHERE source LIKE '%#snap:%:public.big'"))
                    .isEqualTo("1");
            assertThat(p.producer().logTail()).doesNotContain("dead letter");
        }
    }

    @Test
    @Timeout(600)
    void shouldSnapshotHalfAMillionRowsWithBothServicesAt256Megabytes(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, SCHEMA)) {
            fill(p, 500_000);
            long start = System.nanoTime();
            p.start();
            p.awaitInSync(Duration.ofSeconds(480));
            System.out.printf("500,000-row snapshot through the pipeline in %.1f s%n", (System.nanoTime() - start) / 1e9);
            assertThat(p.consumer().isAlive()).isTrue();
            assertThat(p.producer().isAlive()).isTrue();
        }
    }

    @Test
    @Timeout(300)
    void shouldBackfillATableEmptiedInTheSinkByHandWhenASignalRowAsks(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, SCHEMA)) {
            fill(p, 20_000);
            p.execSource("CREATE SCHEMA ops");
            p.consumerEnv("POSTGRES_INPUT_SIGNAL_TABLE", "ops.signal").consumerEnv("POSTGRES_INPUT_TABLES", "big,pairs,tags,loose");
            p.start();
            p.awaitInSync();
            p.execSink("DELETE FROM big");
            p.execSink("DELETE FROM loose");
            p.execSink("INSERT INTO loose VALUES (-1, 'only in the sink')");
            try (Writer writer = new Writer(p, 20_000)) {
                p.execSource("INSERT INTO ops.signal (kind, tables) VALUES ('backfill', 'public.big,public.loose,public.nothing')");
                await().atMost(Duration.ofSeconds(30)).until(() -> writer.done.get() > 100);
            }
            p.awaitInSync(Duration.ofSeconds(180));
            assertThat(p.consumer().logTail()).contains("backfill of public.nothing skipped");
        }
    }

    static String progress(Connection nc, String slot) throws Exception {
        var entry = nc.keyValue("VRSKY_SNAPSHOTS").get(slot);
        return entry == null ? "" : new String(entry.getValue(), StandardCharsets.UTF_8);
    }
}
