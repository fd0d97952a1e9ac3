package io.vrsky.producer;

import com.fasterxml.jackson.databind.JsonNode;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.ColumnInfo;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.EnvelopeMetadata;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.Operation;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

import java.io.StringReader;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import static org.awaitility.Awaitility.await;

/**
 * Not part of the build: measures the sink statement forms against each other and the producer
 * end to end, on the local PostgreSQL and NATS. Run with
 * {@code mvn -pl postgres-producer verify -Dit.test=SinkThroughputBenchmark -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false}
 * and read the numbers in target/failsafe-reports.
 */
@ExtendWith(RealServices.class)
@Timeout(900)
class SinkThroughputBenchmark {

    private static final int ROWS = 200_000;
    private static final String FILLER = "x".repeat(140);

    private static String text(int i) {
        return FILLER + i;
    }

    private static final String TS = "2026-02-17T10:00:00.123456Z";

    @Test
    void compareStatementForms(PostgresServer pg) throws Exception {
        String db = pg.createDatabase("bench");
        for (int batch : new int[] {1_000, 10_000}) {
            try (Connection c = connect(pg, db, false)) {
                reset(c);
                report("unnest INSERT ON CONFLICT", batch, run(c, batch, this::unnest));
                reset(c);
                report("COPY to staging + INSERT SELECT ON CONFLICT", batch, run(c, batch, this::copyStaging));
                reset(c);
                if (batch <= 1_000) {
                    report("multi-row VALUES ON CONFLICT", batch, run(c, batch, this::values));
                    reset(c);
                }
                report("plain COPY (no conflict handling)", batch, run(c, batch, this::plainCopy));
            }
            try (Connection c = connect(pg, db, true)) {
                reset(c);
                report("JDBC batch reWriteBatchedInserts ON CONFLICT", batch, run(c, batch, this::jdbcBatch));
            }
        }
        try (Connection c = connect(pg, db, false)) {
            reset(c);
            report("per-row INSERT ON CONFLICT", 1_000, run(c, 1_000, this::perRow, 20_000));
        }
    }

    @Test
    void unnestStatementSize(PostgresServer pg) throws Exception {
        String db = pg.createDatabase("benchsize");
        try (Connection c = connect(pg, db, false)) {
            for (int round = 0; round < 2; round++) {
                for (int batch : new int[] {250, 500, 1_000, 2_000, 5_000, 10_000}) {
                    reset(c);
                    report("unnest INSERT ON CONFLICT (round " + round + ")", batch, run(c, batch, this::unnest));
                }
            }
        }
    }

    /**
     * The producer against the same-run baselines, on the pipeline benchmark's workloads (bench/run.sh): a backlog
     * already in JetStream, shaped as postgres-consumer publishes it, rows of ~210 bytes
     * ({@code id bigint PRIMARY KEY, k int, v int, src_ts timestamptz, payload text(170)}).
     * <ul>
     *   <li>W1: transactions of 1,000 rows, each one message (consumer {@code POSTGRES_INPUT_BATCH_SIZE=1000});</li>
     *   <li>W1C: the same transactions as 10 chunks of 100 (the consumer's default batch size);</li>
     *   <li>W2: single-row transactions, 100 to a message (each change with its own commit LSN).</li>
     * </ul>
     * Baselines, measured in the same run on the same server: {@code native}, a logical replication subscription
     * catching up the same workload from a slot created before it was written (timed from the slot becoming active to
     * the last row, as bench/run.sh does), and {@code copy}, a plain COPY of the same rows (10,000 per transaction).
     * The producer is timed from its first delivery to the last row visible. Runs alternate between the readers so a
     * load change on the machine hits both. System properties: {@code bench.workloads} (W1,W1C,W2),
     * {@code bench.baseline} (native,copy or none), {@code bench.repeat} (3), {@code bench.w1.rows} (500000),
     * {@code bench.w2.rows} (50000), {@code bench.batch} (the producer's POSTGRES_OUTPUT_BATCH_SIZE, 100), {@code bench.jvm}
     * (the producer's JVM options, {@code -Xmx256m}; {@code in-process} runs it inside the test JVM instead of as the
     * jar), {@code bench.compare} (another build of the jar, e.g. the previous commit's, run the same way in the same
     * rounds), {@code bench.threads} (print each run's CPU per thread group of the producer process).
     */
    @Test
    void producerEndToEnd(PostgresServer pg, NatsServer nats) throws Exception {
        List<String> workloads = List.of(System.getProperty("bench.workloads", "W1,W1C,W2").split(","));
        String baselines = System.getProperty("bench.baseline", "native,copy");
        int repeat = Integer.getInteger("bench.repeat", 3);
        int w1Rows = Integer.getInteger("bench.w1.rows", 500_000);
        int w2Rows = Integer.getInteger("bench.w2.rows", 50_000);
        String batch = System.getProperty("bench.batch", "100");
        String compare = System.getProperty("bench.compare");
        try (Connection admin = pg.connect("postgres"); Statement s = admin.createStatement()) {
            // the launcher starts a subscription's apply worker at once (as bench/run.sh configures it)
            s.execute("ALTER SYSTEM SET wal_retrieve_retry_interval = '100ms'");
            s.execute("SELECT pg_reload_conf()");
        }
        // warm-up: JIT and caches, not reported
        producerRun(pg, nats, new Workload("warm-up", 20_000, 100, 100), batch);
        List<String> summary = new ArrayList<>();
        for (String name : workloads) {
            Workload w = switch (name.trim()) {
                case "W1" -> new Workload("W1 tx of 1000, one message each", w1Rows, 1000, 1000);
                case "W1C" -> new Workload("W1C tx of 1000 in chunks of 100", w1Rows, 1000, 100);
                case "W2" -> new Workload("W2 single-row tx, 100 per message", w2Rows, 1, 100);
                default -> throw new IllegalArgumentException("unknown workload " + name);
            };
            NativeBaseline nativeRuns = baselines.contains("native") ? new NativeBaseline(pg, w, repeat) : null;
            List<Measured> producer = new ArrayList<>();
            List<Measured> before = new ArrayList<>();
            List<Measured> natives = new ArrayList<>();
            List<Double> copies = new ArrayList<>();
            for (int r = 0; r < repeat; r++) {
                if (nativeRuns != null) {
                    natives.add(nativeRuns.run(r));
                }
                producer.add(producerRun(pg, nats, w, batch));
                if (compare != null) {
                    before.add(producerRun(pg, nats, w, batch, java.nio.file.Path.of(compare)));
                }
                if (baselines.contains("copy")) {
                    copies.add(copyRun(pg, w));
                }
                double rate = producer.get(r).rowsPerSecond();
                if (compare != null) {
                    System.out.printf("RESULT %-38s run %d: compared jar %s%s%n", w.name, r + 1, before.get(r),
                            natives.isEmpty() ? "" : String.format(", ratio %.2f", before.get(r).rowsPerSecond()
                                    / natives.get(r).rowsPerSecond()));
                }
                System.out.printf("RESULT %-38s run %d: producer %s%s%s%n", w.name, r + 1, producer.get(r),
                        natives.isEmpty() ? "" : String.format(", native %s, ratio %.2f", natives.get(r),
                                rate / natives.get(r).rowsPerSecond()),
                        copies.isEmpty() ? "" : String.format(", COPY %7.0f rows/s, ratio %.2f", copies.get(r), rate / copies.get(r)));
            }
            if (nativeRuns != null) {
                nativeRuns.close();
            }
            List<Double> rates = producer.stream().map(Measured::rowsPerSecond).toList();
            List<Double> nativeRates = natives.stream().map(Measured::rowsPerSecond).toList();
            if (compare != null) {
                List<Double> beforeRates = before.stream().map(Measured::rowsPerSecond).toList();
                summary.add(String.format("SUMMARY %-38s compared jar %7.0f rows/s [%s] cpu/row producer %.1f us (GC %.1f) + nats %.1f"
                                + " + postgres %.1f%s", w.name, median(beforeRates), range(beforeRates),
                        median(before.stream().map(Measured::readerMicrosPerRow).toList()),
                        median(before.stream().map(Measured::gcMicrosPerRow).toList()),
                        median(before.stream().map(Measured::natsMicrosPerRow).toList()),
                        median(before.stream().map(Measured::postgresMicrosPerRow).toList()),
                        natives.isEmpty() ? "" : String.format(", ratio to native %.2f", median(beforeRates)
                                / median(natives.stream().map(Measured::rowsPerSecond).toList()))));
            }
            summary.add(String.format("SUMMARY %-38s %d rows, batch %s, median of %d: producer %7.0f rows/s [%s] cpu/row producer %.1f"
                            + " us (GC %.1f) + nats %.1f + postgres %.1f%s%s", w.name, w.rows, batch, repeat, median(rates), range(rates),
                    median(producer.stream().map(Measured::readerMicrosPerRow).toList()),
                    median(producer.stream().map(Measured::gcMicrosPerRow).toList()),
                    median(producer.stream().map(Measured::natsMicrosPerRow).toList()),
                    median(producer.stream().map(Measured::postgresMicrosPerRow).toList()),
                    natives.isEmpty() ? "" : String.format("; native %7.0f [%s] cpu/row %.1f us, ratio %.2f", median(nativeRates),
                            range(nativeRates), median(natives.stream().map(Measured::postgresMicrosPerRow).toList()),
                            median(rates) / median(nativeRates)),
                    copies.isEmpty() ? "" : String.format(", COPY %7.0f [%s] ratio %.2f", median(copies), range(copies),
                            median(rates) / median(copies))));
        }
        summary.forEach(System.out::println);
    }

    /**
     * W3 on the producer's side: single-row transactions published at a steady {@code bench.w3.rate} (1000) per second for
     * {@code bench.w3.seconds} (15), each its own message (the consumer does not wait when nothing more is waiting), with
     * default producer settings. Latency is from the row's {@code src_ts} (taken just before publishing) to a sink trigger's
     * {@code clock_timestamp()}, as bench/run.sh measures commit-to-sink; the first second is left out (start-up).
     */
    @Test
    void producerLatency(PostgresServer pg, NatsServer nats) throws Exception {
        for (int r = 0; r < Integer.getInteger("bench.repeat", 1); r++) {
            latency(pg, nats, ProducerProcess.jar());
            if (System.getProperty("bench.compare") != null) {
                latency(pg, nats, java.nio.file.Path.of(System.getProperty("bench.compare")));
            }
        }
    }

    private void latency(PostgresServer pg, NatsServer nats, java.nio.file.Path jar) throws Exception {
        int rate = Integer.getInteger("bench.w3.rate", 1000);
        int seconds = Integer.getInteger("bench.w3.seconds", 15);
        String jvm = System.getProperty("bench.jvm", "-Xmx256m");
        ProducerProcess process = null;
        try (ProducerHarness h = new ProducerHarness(pg, nats, "w3")) {
            h.sql("CREATE TABLE w3 (id bigint PRIMARY KEY, k int NOT NULL, v int NOT NULL, src_ts timestamptz NOT NULL,"
                            + " payload text NOT NULL, applied_at timestamptz)",
                    "CREATE FUNCTION stamp_applied() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                            + " NEW.applied_at := clock_timestamp(); RETURN NEW; END $$",
                    "CREATE TRIGGER w3_applied BEFORE INSERT OR UPDATE ON w3 FOR EACH ROW EXECUTE FUNCTION stamp_applied()");
            h.env("POSTGRES_OUTPUT_TABLES", "w3");
            h.env("POSTGRES_OUTPUT_FLUSH_INTERVAL", "5s"); // the default (the harness shortens it)
            if (jvm.equals("in-process")) {
                h.start();
            } else {
                process = ProducerProcess.start(h.env(), h.name, jar, jvm.split(" "));
            }
            long rows = (long) rate * seconds;
            long interval = 1_000_000_000L / rate;
            long start = System.nanoTime();
            long lsn = 0x1000_0000L;
            for (long id = 1; id <= rows; id++) {
                long due = start + (id - 1) * interval;
                long wait;
                while ((wait = due - System.nanoTime()) > 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(Math.min(wait, 200_000));
                }
                Instant now = Instant.now();
                lsn += 200;
                Map<String, JsonNode> after = Envelopes.row("id", id, "k", (int) (id % 1000), "v", 0, "src_ts", now.toString(),
                        "payload", payload(id));
                Change change = new Change(Operation.INSERT, "public", "w3", id, new Lsn(lsn), now, new Lsn(lsn - 100),
                        BENCH_COLUMNS, null, after, List.of());
                h.publish(envelope(List.of(change), 1, 0, true));
            }
            long published = System.nanoTime();
            awaitRow(pg, h.database, "w3", rows);
            List<List<String>> stats = h.rows("SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY ms),"
                    + " percentile_cont(0.99) WITHIN GROUP (ORDER BY ms), max(ms) FROM (SELECT extract(epoch FROM applied_at - src_ts)"
                    + " * 1000 AS ms FROM w3 WHERE id > " + rate + ") l");
            System.out.printf("RESULT W3 %s latency at %d rows/s for %d s (published at %.0f/s): rows %s, p50 %.1f ms,"
                            + " p99 %.1f ms, max %.1f ms%n", jvm.equals("in-process") ? "in-process" : jar, rate, seconds,
                    rows * 1e9 / (published - start), stats.get(0).get(0),
                    Double.parseDouble(stats.get(0).get(1)), Double.parseDouble(stats.get(0).get(2)),
                    Double.parseDouble(stats.get(0).get(3)));
            if (process == null) {
                for (String line : h.http("/metrics").split("\n")) {
                    if (line.startsWith("vrsky_producer_batch_messages_max") || line.startsWith("vrsky_producer_flush_seconds_max")) {
                        System.out.println("METRIC " + line);
                    }
                }
            }
        } finally {
            if (process != null) {
                process.terminate();
            }
        }
    }

    /** A backlog: {@code rows} rows in transactions of {@code txRows}, {@code perMessage} changes to a message. */
    record Workload(String name, int rows, int txRows, int perMessage) {
    }

    private static final String BENCH_DDL = "(id bigint PRIMARY KEY, k int NOT NULL, v int NOT NULL, "
            + "src_ts timestamptz NOT NULL DEFAULT clock_timestamp(), payload text NOT NULL)";
    private static final List<ColumnInfo> BENCH_COLUMNS = List.of(new ColumnInfo("id", "int8", true),
            new ColumnInfo("k", "int4", false), new ColumnInfo("v", "int4", false), new ColumnInfo("src_ts", "timestamptz", false),
            new ColumnInfo("payload", "text", false));

    /** bench/run.sh's payload: rpad(md5(g::text), 170, md5((g + 1)::text)). */
    static String payload(long g) {
        String a = md5(Long.toString(g));
        String b = md5(Long.toString(g + 1));
        StringBuilder sb = new StringBuilder(170).append(a);
        while (sb.length() < 170) {
            sb.append(b, 0, Math.min(b.length(), 170 - sb.length()));
        }
        return sb.toString();
    }

    private static String md5(String s) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("MD5")
                    .digest(s.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The workload as postgres-consumer would publish it: whole transactions packed, larger ones chunked. */
    static List<Envelope> envelopes(Workload w) {
        List<Envelope> out = new ArrayList<>();
        long lsn = 0x1000_0000L;
        Instant commitTime = Instant.parse("2026-02-17T10:00:00.120001Z");
        List<Change> pending = new ArrayList<>();
        int txInPending = 0;
        long id = 1;
        for (int tx = 0; id <= w.rows; tx++) {
            long txId = 1000 + tx;
            int n = (int) Math.min(w.txRows, w.rows - id + 1);
            long commit = lsn + n * 300L + 100;
            List<Change> changes = new ArrayList<>(n);
            for (int i = 0; i < n; i++, id++) {
                Map<String, JsonNode> after = Envelopes.row("id", id, "k", (int) (id % 1000), "v", tx, "src_ts",
                        "2026-02-17T10:00:00.123456Z", "payload", payload(id));
                changes.add(new Change(Operation.INSERT, "public", "bench", txId, new Lsn(commit), commitTime,
                        new Lsn(lsn + i * 300L), BENCH_COLUMNS, null, after, List.of()));
            }
            lsn = commit + 100;
            if (n > w.perMessage) {
                if (!pending.isEmpty()) {
                    out.add(envelope(pending, txInPending, 0, true));
                    pending = new ArrayList<>();
                    txInPending = 0;
                }
                for (int from = 0, chunk = 0; from < n; from += w.perMessage, chunk++) {
                    out.add(envelope(changes.subList(from, Math.min(n, from + w.perMessage)), 1, chunk, from + w.perMessage >= n));
                }
                continue;
            }
            if (pending.size() + n > w.perMessage) {
                out.add(envelope(pending, txInPending, 0, true));
                pending = new ArrayList<>();
                txInPending = 0;
            }
            pending.addAll(changes);
            txInPending++;
        }
        if (!pending.isEmpty()) {
            out.add(envelope(pending, txInPending, 0, true));
        }
        return out;
    }

    private static Envelope envelope(List<Change> changes, int transactions, int chunk, boolean last) {
        Change tail = changes.get(changes.size() - 1);
        EnvelopeMetadata m = new EnvelopeMetadata(tail.txId(), tail.commitLsn(), tail.commitTime(), chunk, last, changes.size(),
                transactions);
        return new Envelope(UUID.randomUUID().toString(), Envelope.CDC_TRANSACTION_TYPE, "postgres-consumer/bench/bench_slot",
                Instant.now(), m, changes);
    }

    private Measured producerRun(PostgresServer pg, NatsServer nats, Workload w, String batch) throws Exception {
        return producerRun(pg, nats, w, batch, ProducerProcess.jar());
    }

    private Measured producerRun(PostgresServer pg, NatsServer nats, Workload w, String batch, java.nio.file.Path jar)
            throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "e2e")) {
            h.sql("CREATE TABLE bench " + BENCH_DDL);
            h.env("POSTGRES_OUTPUT_TABLES", "bench").env("POSTGRES_OUTPUT_BATCH_SIZE", batch)
                    .env("POSTGRES_OUTPUT_FLUSH_INTERVAL", "5s");
            for (Envelope e : envelopes(w)) {
                h.publish(e);
            }
            String jvm = System.getProperty("bench.jvm", "-Xmx256m");
            ProducerProcess process = null;
            // the time (and CPU so far) of the first delivery, seen from another thread while the producer starts
            long[] reading = new long[4];
            Thread watcher = new Thread(() -> {
                try {
                    long deadline = System.nanoTime() + 60_000_000_000L;
                    while (!delivered(h) && System.nanoTime() < deadline) {
                        Thread.sleep(1);
                    }
                    reading[0] = System.nanoTime();
                    reading[3] = (long) natsCpuMillis(nats);
                    // the producer's CPU so far (JVM start-up): not part of the run
                    ProcessHandle child = ProcessHandle.current().children()
                            .filter(c -> c.info().commandLine().orElse("").contains("postgres-producer.jar")).findFirst().orElse(null);
                    if (child != null) {
                        if (Boolean.getBoolean("bench.threads")) {
                            System.out.println("THREADS at first delivery: " + threadCpu(child.pid()));
                        }
                        double[] cpu = processCpuMillis(child.pid());
                        reading[1] = (long) cpu[0];
                        reading[2] = (long) cpu[1];
                    }
                } catch (Exception e) {
                    reading[0] = -1;
                }
            }, "bench-watcher");
            watcher.start();
            try {
                if (jvm.equals("in-process")) {
                    h.start();
                } else {
                    process = ProducerProcess.start(h.env(), h.name, jar, jvm.split(" "));
                }
                watcher.join(60_000);
                if (reading[0] <= 0) {
                    throw new IllegalStateException("the producer did not start reading");
                }
                long done = awaitRow(pg, h.database, "bench", w.rows);
                double[] jvmCpu = process == null ? new double[] {producerThreadsCpuMillis(), gcCpuMillis("self")}
                        : processCpuMillis(process.pid());
                jvmCpu[0] -= reading[1];
                jvmCpu[1] -= reading[2];
                if (process != null && Boolean.getBoolean("bench.threads")) {
                    System.out.println("THREADS " + w.name + " " + jar + ": " + threadCpu(process.pid()));
                }
                double natsCpu = natsCpuMillis(nats) - reading[3];
                double pgCpu = backendsCpuMillis(pg, h.database, "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                        + " AND application_name = 'postgres-producer'");
                await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(20)).until(h::allAcked);
                if (h.count("SELECT count(*) FROM bench") != w.rows) {
                    throw new IllegalStateException("sink holds " + h.count("SELECT count(*) FROM bench") + " rows, not " + w.rows);
                }
                return new Measured(w.rows * 1e9 / (done - reading[0]), jvmCpu[0] * 1000 / w.rows, jvmCpu[1] * 1000 / w.rows,
                        natsCpu * 1000 / w.rows, pgCpu * 1000 / w.rows);
            } finally {
                if (process != null) {
                    process.terminate();
                }
            }
        }
    }

    /** Whether the producer's durable consumer exists and delivered something. */
    private static boolean delivered(ProducerHarness h) throws Exception {
        try {
            return h.consumer().getDelivered().getConsumerSequence() > 0;
        } catch (io.nats.client.JetStreamApiException notYet) {
            return false;
        }
    }

    /**
     * Rows/s from the first delivery to the last row visible, and CPU microseconds per row over the same time: the
     * producer's process (of which its garbage collector; in-process: the producer's own threads), nats-server, and
     * PostgreSQL (the producer's backends, or the walsender and apply worker of a subscription).
     */
    record Measured(double rowsPerSecond, double readerMicrosPerRow, double gcMicrosPerRow, double natsMicrosPerRow,
                    double postgresMicrosPerRow) {
        @Override
        public String toString() {
            String cpu = readerMicrosPerRow > 0
                    ? String.format("producer %.1f us (GC %.1f) + nats %.1f + postgres %.1f", readerMicrosPerRow,
                    gcMicrosPerRow, natsMicrosPerRow, postgresMicrosPerRow)
                    : String.format("postgres %.1f us", postgresMicrosPerRow);
            return String.format("%7.0f rows/s (cpu/row %s)", rowsPerSecond, cpu);
        }
    }

    /** CPU ms per thread group of a process since it started (for finding where a fresh JVM spends it). */
    private static Map<String, Long> threadCpu(long pid) throws Exception {
        Map<String, Long> groups = new java.util.TreeMap<>();
        try (java.util.stream.Stream<java.nio.file.Path> tasks = java.nio.file.Files.list(java.nio.file.Path.of("/proc",
                Long.toString(pid), "task"))) {
            for (java.nio.file.Path task : (Iterable<java.nio.file.Path>) tasks::iterator) {
                String name = java.nio.file.Files.readString(task.resolve("comm")).trim().replaceAll("[0-9#]+$", "");
                String text = java.nio.file.Files.readString(task.resolve("stat"));
                String[] f = text.substring(text.lastIndexOf(')') + 2).split(" ");
                groups.merge(name, (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10, Long::sum);
            }
        }
        groups.values().removeIf(v -> v < 50);
        return groups;
    }

    /** CPU of a process since it started, and of its garbage collector threads. */
    private static double[] processCpuMillis(long pid) throws Exception {
        String text = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", Long.toString(pid), "stat"));
        String[] f = text.substring(text.lastIndexOf(')') + 2).split(" ");
        return new double[] {(Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10.0, gcCpuMillis(Long.toString(pid))};
    }

    /** CPU of a JVM's garbage collector threads (from /proc/<pid>/task). */
    private static double gcCpuMillis(String pid) throws Exception {
        double total = 0;
        try (java.util.stream.Stream<java.nio.file.Path> tasks = java.nio.file.Files.list(java.nio.file.Path.of("/proc", pid, "task"))) {
            for (java.nio.file.Path task : (Iterable<java.nio.file.Path>) tasks::iterator) {
                try {
                    String name = java.nio.file.Files.readString(task.resolve("comm")).trim();
                    if (name.startsWith("GC Thread") || name.startsWith("G1 ")) {
                        String text = java.nio.file.Files.readString(task.resolve("stat"));
                        String[] f = text.substring(text.lastIndexOf(')') + 2).split(" ");
                        total += (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10.0;
                    }
                } catch (java.io.IOException gone) {
                    // the thread ended meanwhile
                }
            }
        }
        return total;
    }

    /** CPU of the local nats-server serving {@code nats} (0 when it cannot be found, e.g. a container). */
    private static double natsCpuMillis(NatsServer nats) throws Exception {
        String port = nats.url().substring(nats.url().lastIndexOf(':') + 1);
        try (java.util.stream.Stream<java.nio.file.Path> procs = java.nio.file.Files.list(java.nio.file.Path.of("/proc"))) {
            for (java.nio.file.Path proc : (Iterable<java.nio.file.Path>) procs::iterator) {
                java.nio.file.Path cmdline = proc.resolve("cmdline");
                if (!proc.getFileName().toString().chars().allMatch(Character::isDigit) || !java.nio.file.Files.isReadable(cmdline)) {
                    continue;
                }
                try {
                    List<String> args = List.of(java.nio.file.Files.readString(cmdline).split("\0"));
                    int p = args.indexOf("-p");
                    if (!args.isEmpty() && args.get(0).endsWith("nats-server") && p >= 0 && p + 1 < args.size()
                            && args.get(p + 1).equals(port)) {
                        String text = java.nio.file.Files.readString(proc.resolve("stat"));
                        String[] f = text.substring(text.lastIndexOf(')') + 2).split(" ");
                        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10.0;
                    }
                } catch (java.io.IOException gone) {
                    // the process ended meanwhile
                }
            }
        }
        return 0;
    }

    /** CPU time of the producer's own threads (fetch, loop, keepalive) so far. */
    private static double producerThreadsCpuMillis() {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        double total = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("producer-")) {
                total += Math.max(0, mx.getThreadCpuTime(t.getId())) / 1e6;
            }
        }
        return total;
    }

    /** User + system CPU of the server processes the query names (from /proc; the servers are local). */
    private static double backendsCpuMillis(PostgresServer pg, String db, String pidQuery) throws Exception {
        double total = 0;
        try (Connection c = pg.connect(db); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(pidQuery)) {
            while (rs.next()) {
                java.nio.file.Path stat = java.nio.file.Path.of("/proc", Integer.toString(rs.getInt(1)), "stat");
                if (!java.nio.file.Files.exists(stat)) {
                    continue;
                }
                String text = java.nio.file.Files.readString(stat);
                String[] f = text.substring(text.lastIndexOf(')') + 2).split(" ");
                total += (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10.0; // utime, stime in 100 Hz ticks
            }
        }
        return total;
    }

    /** Waits until the row with this id is visible; returns System.nanoTime() then. */
    private static long awaitRow(PostgresServer pg, String db, String table, long id) throws Exception {
        try (Connection c = pg.connect(db); PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + table + " WHERE id = ?")) {
            ps.setLong(1, id);
            long deadline = System.nanoTime() + 600_000_000_000L;
            while (System.nanoTime() < deadline) {
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        return System.nanoTime();
                    }
                }
                Thread.sleep(2);
            }
        }
        throw new IllegalStateException("row " + id + " never arrived in " + table);
    }

    /** COPY of the same rows into a fresh table, 10,000 rows per transaction. */
    private static double copyRun(PostgresServer pg, Workload w) throws Exception {
        String db = pg.createDatabase("copy");
        try (Connection c = connect(pg, db, false)) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE bench " + BENCH_DDL);
            }
            c.commit();
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            List<String> texts = new ArrayList<>();
            for (long from = 1; from <= w.rows; from += 10_000) {
                StringBuilder sb = new StringBuilder(10_000 * 230);
                for (long id = from; id < from + 10_000 && id <= w.rows; id++) {
                    sb.append(id).append('\t').append(id % 1000).append('\t').append(0).append('\t')
                            .append("2026-02-17T10:00:00.123456Z").append('\t').append(payload(id)).append('\n');
                }
                texts.add(sb.toString());
            }
            long start = System.nanoTime();
            for (String text : texts) {
                copy.copyIn("COPY bench (id, k, v, src_ts, payload) FROM STDIN", new StringReader(text));
                c.commit();
            }
            return w.rows * 1e9 / (System.nanoTime() - start);
        } finally {
            try (Connection admin = pg.connect("postgres"); Statement s = admin.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + db);
            }
        }
    }

    /**
     * PostgreSQL's own logical replication on the same workload: the source database gets a publication and one slot
     * per run before the backlog is written; each run subscribes a fresh sink table from its own slot.
     */
    private static final class NativeBaseline implements AutoCloseable {
        private final PostgresServer pg;
        private final Workload w;
        private final String src;
        private final String prefix;

        NativeBaseline(PostgresServer pg, Workload w, int runs) throws Exception {
            this.pg = pg;
            this.w = w;
            this.src = pg.createDatabase("nsrc");
            this.prefix = src.replaceAll("[^a-z0-9_]", "");
            try (Connection c = pg.connect(src); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE bench " + BENCH_DDL);
                s.execute("CREATE PUBLICATION bench_pub FOR TABLE bench");
                for (int r = 0; r < runs; r++) {
                    s.execute("SELECT pg_create_logical_replication_slot('" + prefix + "_" + r + "', 'pgoutput')");
                }
                String payload = "rpad(md5(g::text), 170, md5((g + 1)::text))";
                if (w.txRows == 1) {
                    s.execute("DO $$ BEGIN FOR g IN 1.." + w.rows + " LOOP INSERT INTO bench (id, k, v, payload) VALUES (g, g % 1000, 0, "
                            + payload + "); COMMIT; END LOOP; END $$");
                } else {
                    s.execute("DO $$ BEGIN FOR t IN 0.." + (w.rows / w.txRows - 1) + " LOOP INSERT INTO bench (id, k, v, payload) "
                            + "SELECT g, g % 1000, t, " + payload + " FROM generate_series(t * " + w.txRows + " + 1, t * "
                            + w.txRows + " + " + w.txRows + ") g; COMMIT; END LOOP; END $$");
                }
            }
        }

        Measured run(int r) throws Exception {
            String slot = prefix + "_" + r;
            String sink = pg.createDatabase("ndst");
            try (Connection c = pg.connect(sink); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE bench " + BENCH_DDL);
                s.execute("CREATE SUBSCRIPTION sub_" + slot + " CONNECTION 'host=" + pg.host() + " port=" + pg.port() + " user="
                        + pg.user() + (pg.password().isEmpty() ? "" : " password=" + pg.password()) + " dbname=" + src
                        + "' PUBLICATION bench_pub WITH (create_slot = false, slot_name = '" + slot
                        + "', enabled = false, copy_data = false)");
                s.execute("ALTER SUBSCRIPTION sub_" + slot + " ENABLE");
                long reading = awaitSlotActive(slot);
                long done = awaitRow(pg, sink, "bench", w.rows);
                double applyCpu = backendsCpuMillis(pg, sink, "SELECT pid FROM pg_stat_subscription WHERE subname = 'sub_" + slot + "'"
                        + " AND pid IS NOT NULL");
                double senderCpu = backendsCpuMillis(pg, sink, "SELECT pid FROM pg_stat_replication WHERE application_name = 'sub_"
                        + slot + "'");
                s.execute("ALTER SUBSCRIPTION sub_" + slot + " DISABLE");
                s.execute("ALTER SUBSCRIPTION sub_" + slot + " SET (slot_name = NONE)");
                s.execute("DROP SUBSCRIPTION sub_" + slot);
                return new Measured(w.rows * 1e9 / (done - reading), 0, 0, 0, (applyCpu + senderCpu) * 1000 / w.rows);
            } finally {
                try (Connection admin = pg.connect("postgres"); Statement s = admin.createStatement()) {
                    s.execute("DROP DATABASE IF EXISTS " + sink);
                    dropSlot(s, slot);
                }
            }
        }

        private long awaitSlotActive(String slot) throws Exception {
            try (Connection c = pg.connect(src);
                 PreparedStatement ps = c.prepareStatement("SELECT active FROM pg_replication_slots WHERE slot_name = ?")) {
                ps.setString(1, slot);
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (System.nanoTime() < deadline) {
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next() && rs.getBoolean(1)) {
                            return System.nanoTime();
                        }
                    }
                    Thread.sleep(2);
                }
            }
            throw new IllegalStateException("slot " + slot + " never became active");
        }

        /** Drops the slot once its walsender has gone (it outlives the subscription for a moment). */
        private static void dropSlot(Statement s, String slot) throws Exception {
            for (int i = 0; i < 250; i++) {
                try (ResultSet rs = s.executeQuery("SELECT active FROM pg_replication_slots WHERE slot_name = '" + slot + "'")) {
                    if (!rs.next()) {
                        return;
                    }
                    if (!rs.getBoolean(1)) {
                        break;
                    }
                }
                Thread.sleep(20);
            }
            s.execute("SELECT pg_drop_replication_slot('" + slot + "')");
        }

        @Override
        public void close() throws Exception {
            try (Connection admin = pg.connect("postgres"); Statement s = admin.createStatement()) {
                List<String> slots = new ArrayList<>();
                try (ResultSet rs = s.executeQuery("SELECT slot_name FROM pg_replication_slots WHERE database = '" + src + "'")) {
                    while (rs.next()) {
                        slots.add(rs.getString(1));
                    }
                }
                for (String slot : slots) {
                    dropSlot(s, slot);
                }
                s.execute("DROP DATABASE IF EXISTS " + src);
            }
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static String range(List<Double> values) {
        return String.format("%.0f..%.0f", Collections.min(values), Collections.max(values));
    }

    @FunctionalInterface
    interface Form {
        void write(Connection c, int from, int count) throws Exception;
    }

    private static Connection connect(PostgresServer pg, String db, boolean rewrite) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", pg.user());
        p.setProperty("password", pg.password());
        p.setProperty("reWriteBatchedInserts", Boolean.toString(rewrite));
        Connection c = DriverManager.getConnection(pg.jdbcUrl(db), p);
        c.setAutoCommit(false);
        return c;
    }

    private static void reset(Connection c) throws Exception {
        try (Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS bench");
            s.execute("CREATE TABLE bench (id bigint PRIMARY KEY, a text, b int, c timestamptz, d numeric)");
            s.execute("CHECKPOINT");
        }
        c.commit();
    }

    private static long run(Connection c, int batch, Form form) throws Exception {
        return run(c, batch, form, ROWS);
    }

    private static long run(Connection c, int batch, Form form, int rows) throws Exception {
        long start = System.nanoTime();
        for (int from = 0; from < rows; from += batch) {
            form.write(c, from, Math.min(batch, rows - from));
            c.commit();
        }
        return (System.nanoTime() - start) / 1_000_000 * ROWS / rows;
    }

    private static void report(String form, int batch, long millis) {
        System.out.printf("RESULT %-45s batch %5d: %7.0f rows/s%n", form, batch, ROWS * 1000.0 / millis);
    }

    private void unnest(Connection c, int from, int count) throws Exception {
        String[] id = new String[count];
        String[] a = new String[count];
        String[] b = new String[count];
        String[] ts = new String[count];
        String[] d = new String[count];
        for (int i = 0; i < count; i++) {
            id[i] = Integer.toString(from + i);
            a[i] = text(from + i);
            b[i] = id[i];
            ts[i] = TS;
            d[i] = "1234.5678";
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO bench (id, a, b, c, d) SELECT v.c1::pg_catalog.int8, "
                + "v.c2::pg_catalog.text, v.c3::pg_catalog.int4, v.c4::pg_catalog.timestamptz, v.c5::pg_catalog.\"numeric\" "
                + "FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[]) AS v(c1, c2, c3, c4, c5) "
                + "ON CONFLICT (id) DO UPDATE SET a = EXCLUDED.a, b = EXCLUDED.b, c = EXCLUDED.c, d = EXCLUDED.d")) {
            ps.setArray(1, c.createArrayOf("text", id));
            ps.setArray(2, c.createArrayOf("text", a));
            ps.setArray(3, c.createArrayOf("text", b));
            ps.setArray(4, c.createArrayOf("text", ts));
            ps.setArray(5, c.createArrayOf("text", d));
            ps.executeUpdate();
        }
    }

    private String copyText(int from, int count) {
        StringBuilder sb = new StringBuilder(count * 220);
        for (int i = 0; i < count; i++) {
            int id = from + i;
            sb.append(id).append('\t').append(text(id)).append('\t').append(id).append('\t').append(TS).append('\t')
                    .append("1234.5678").append('\n');
        }
        return sb.toString();
    }

    private void copyStaging(Connection c, int from, int count) throws Exception {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TEMP TABLE IF NOT EXISTS bench_stage (LIKE bench) ON COMMIT DELETE ROWS");
        }
        CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
        copy.copyIn("COPY bench_stage (id, a, b, c, d) FROM STDIN", new StringReader(copyText(from, count)));
        try (Statement s = c.createStatement()) {
            s.execute("INSERT INTO bench SELECT * FROM bench_stage ON CONFLICT (id) DO UPDATE SET a = EXCLUDED.a, "
                    + "b = EXCLUDED.b, c = EXCLUDED.c, d = EXCLUDED.d");
        }
    }

    private void plainCopy(Connection c, int from, int count) throws Exception {
        c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY bench (id, a, b, c, d) FROM STDIN",
                new StringReader(copyText(from, count)));
    }

    private void values(Connection c, int from, int count) throws Exception {
        StringBuilder sql = new StringBuilder("INSERT INTO bench (id, a, b, c, d) VALUES ");
        for (int i = 0; i < count; i++) {
            sql.append(i == 0 ? "" : ", ").append("(?::int8, ?, ?::int4, ?::timestamptz, ?::numeric)");
        }
        sql.append(" ON CONFLICT (id) DO UPDATE SET a = EXCLUDED.a, b = EXCLUDED.b, c = EXCLUDED.c, d = EXCLUDED.d");
        try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            int p = 1;
            for (int i = 0; i < count; i++) {
                int id = from + i;
                ps.setString(p++, Integer.toString(id));
                ps.setString(p++, text(id));
                ps.setString(p++, Integer.toString(id));
                ps.setString(p++, TS);
                ps.setString(p++, "1234.5678");
            }
            ps.executeUpdate();
        }
    }

    private void jdbcBatch(Connection c, int from, int count) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO bench (id, a, b, c, d) VALUES (?::int8, ?, ?::int4, "
                + "?::timestamptz, ?::numeric) ON CONFLICT (id) DO UPDATE SET a = EXCLUDED.a, b = EXCLUDED.b, c = EXCLUDED.c, "
                + "d = EXCLUDED.d")) {
            for (int i = 0; i < count; i++) {
                int id = from + i;
                ps.setString(1, Integer.toString(id));
                ps.setString(2, text(id));
                ps.setString(3, Integer.toString(id));
                ps.setString(4, TS);
                ps.setString(5, "1234.5678");
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private void perRow(Connection c, int from, int count) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO bench (id, a, b, c, d) VALUES (?::int8, ?, ?::int4, "
                + "?::timestamptz, ?::numeric) ON CONFLICT (id) DO UPDATE SET a = EXCLUDED.a")) {
            for (int i = 0; i < count; i++) {
                int id = from + i;
                ps.setString(1, Integer.toString(id));
                ps.setString(2, text(id));
                ps.setString(3, Integer.toString(id));
                ps.setString(4, TS);
                ps.setString(5, "1234.5678");
                ps.executeUpdate();
            }
        }
    }
}
