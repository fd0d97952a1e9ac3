package io.vrsky.consumer;

import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.api.MessageInfo;
import io.vrsky.core.nats.CdcHeaders;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.PGReplicationStream;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Not part of the regular run: capture throughput on a WAL backlog (DESIGN.md "Speed", issue 6
 * "Capture alone"), as a ratio against readers that only read the same changes in the same run.
 *
 * <p>Every reader's slot is created before the backlog is written and nothing reads while it is
 * written. Then, in each round, each reader in turn reads the whole backlog from its own slot:
 * <ul>
 *   <li>{@code pgjdbc reader}: a minimal PgJDBC client (same driver and options as the consumer)
 *       that counts Insert messages and acks each commit, nothing else;</li>
 *   <li>{@code pg_recvlogical}: PostgreSQL's own client, pgoutput to /dev/null, up to the end LSN
 *       (when the binary is found);</li>
 *   <li>{@code consumer}: postgres-consumer publishing to JetStream (nothing consumes the stream),
 *       until the last transaction is stored in the stream.</li>
 * </ul>
 * "read" rows/s are timed from the slot becoming active (reading starts) to the last row;
 * "setup" rows/s from starting the reader (connections, and for the consumer NATS and stream
 * set-up; JVM start-up in jar mode).
 *
 * <p>Run: {@code mvn -pl postgres-consumer verify -Dit.test=ThroughputIT -Dvrsky.perf=true -Dtest=NoSuchTest
 * -Dsurefire.failIfNoSpecifiedTests=false}. The table is printed to the failsafe output file and
 * written to {@code target/perf/}. Properties:
 * <ul>
 *   <li>{@code vrsky.perf.rounds} (3): rounds of the three readers over the same backlog;</li>
 *   <li>{@code vrsky.perf.batchSize} (100, the service default): {@code POSTGRES_INPUT_BATCH_SIZE};</li>
 *   <li>{@code vrsky.perf.bigRows} (500000), {@code vrsky.perf.smallRows} (100000): backlog sizes;</li>
 *   <li>{@code vrsky.perf.jar} (true): run the shaded jar as a child process with {@code -Xmx256m}, as users
 *       do (false: in-process {@link ConsumerService});</li>
 *   <li>{@code vrsky.perf.jvmArgs}: extra JVM options for the child, {@code {label}} replaced by the
 *       workload and round;</li>
 *   <li>{@code vrsky.perf.compareJars}: other builds' shaded jars (comma-separated) run in each round as
 *       {@code consumer j1}, {@code j2}, ... with their own slots, for before/after figures in the same run;
 *       {@code vrsky.perf.compareJvmArgs}: extra JVM options for each of them, separated by ';';</li>
 *   <li>{@code vrsky.perf.jfr}: a file prefix: a JFR "profile" recording of each run of this build's consumer
 *       is written to {@code <prefix>-<workload>-r<round>.jfr} (jar mode: dumped with jcmd before SIGTERM);
 *       {@code vrsky.perf.jfrSettings} names the JFR settings ({@code profile}, or a .jfc file).</li>
 * </ul>
 */
@ExtendWith(RealServices.class)
@EnabledIfSystemProperty(named = "vrsky.perf", matches = "true")
class ThroughputIT {

    private static final int ROUNDS = Integer.getInteger("vrsky.perf.rounds", 3);
    private static final String BATCH_SIZE = System.getProperty("vrsky.perf.batchSize", "100");
    private static final boolean JAR = Boolean.parseBoolean(System.getProperty("vrsky.perf.jar", "true"));
    private static final String JVM_ARGS = System.getProperty("vrsky.perf.jvmArgs", "");
    private static final String JFR = System.getProperty("vrsky.perf.jfr");
    private static final String JFR_SETTINGS = System.getProperty("vrsky.perf.jfrSettings", "profile");
    private static final List<Path> COMPARE_JARS = Arrays.stream(System.getProperty("vrsky.perf.compareJars", "").split(","))
            .map(String::trim).filter(p -> !p.isEmpty()).map(Path::of).toList();
    /** Extra JVM options per compare jar, in the same order, separated by ';' (the same jar may be listed twice). */
    private static final List<String> COMPARE_JVM_ARGS = Arrays.asList(System.getProperty("vrsky.perf.compareJvmArgs", "").split(";", -1));
    private static final Duration POLL = Duration.ofMillis(5);
    private static final Duration LIMIT = Duration.ofMinutes(10);
    private static final Path PG_RECVLOGICAL = Path.of("/usr/lib/postgresql/15/bin/pg_recvlogical");
    private static final String PAYLOAD = "rpad(md5(g::text), 170, md5((g + 1)::text))";

    @Test
    @Timeout(1800)
    void backlogOfThousandRowTransactions(PostgresServer pg, NatsServer nats) throws Exception {
        measure(pg, nats, "perf_big", Integer.getInteger("vrsky.perf.bigRows", 500_000), 1000);
    }

    @Test
    @Timeout(1800)
    void backlogOfSingleRowTransactions(PostgresServer pg, NatsServer nats) throws Exception {
        measure(pg, nats, "perf_small", Integer.getInteger("vrsky.perf.smallRows", 100_000), 1);
    }

    /** One reader's run: seconds from start to the slot becoming active, and to the last row; CPU seconds used. */
    private record Run(String reader, double activeSeconds, double totalSeconds, String cpu) {
        double readRate(int rows) {
            return rows / (totalSeconds - activeSeconds);
        }

        double setupRate(int rows) {
            return rows / totalSeconds;
        }
    }

    private static void measure(PostgresServer pg, NatsServer nats, String prefix, int rows, int perTx) throws Exception {
        String name = ItSupport.unique(prefix);
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE t (id bigint PRIMARY KEY, k int NOT NULL, v int NOT NULL,"
                + " src_ts timestamptz NOT NULL DEFAULT clock_timestamp(), payload text NOT NULL)");
        Map<String, String> base = ItSupport.env(pg, nats, db, name);
        base.put("POSTGRES_INPUT_BATCH_SIZE", BATCH_SIZE);
        base.remove("POSTGRES_INPUT_BATCH_TIMEOUT"); // the default, as users run it
        String publication = base.get("POSTGRES_INPUT_PUBLICATION");
        // the consumer creates the publication (and its first slot); every other slot is created right after
        try (ConsumerService svc = ItSupport.start(consumerEnv(base, name, 1, 0))) {
            await().atMost(Duration.ofSeconds(60)).until(() -> svc.state() == io.vrsky.consumer.replication.ReplicationLoop.State.STREAMING);
        }
        boolean recvlogical = Files.isExecutable(PG_RECVLOGICAL);
        for (int round = 1; round <= ROUNDS; round++) {
            if (round > 1) {
                createSlot(pg, db, consumerEnv(base, name, round, 0).get("POSTGRES_INPUT_REPLICATION_SLOT"));
            }
            for (int other = 1; other <= COMPARE_JARS.size(); other++) {
                createSlot(pg, db, consumerEnv(base, name, round, other).get("POSTGRES_INPUT_REPLICATION_SLOT"));
            }
            createSlot(pg, db, "raw_" + name + "_" + round);
            if (recvlogical) {
                createSlot(pg, db, "recv_" + name + "_" + round);
            }
        }

        long writeStart = System.nanoTime();
        int full = rows / perTx - 1;
        ItSupport.sql(pg, db, "DO $$ BEGIN FOR i IN 0.." + (full - 1) + " LOOP INSERT INTO t (id, k, v, payload) SELECT g, g % 1000, i, "
                + PAYLOAD + " FROM generate_series(i * " + perTx + " + 1, (i + 1) * " + perTx + ") g; COMMIT; END LOOP; END $$",
                "INSERT INTO t (id, k, v, payload) SELECT g, g % 1000, -1, " + PAYLOAD + " FROM generate_series(" + (full * perTx + 1)
                        + ", " + rows + ") g");
        double writeSeconds = (System.nanoTime() - writeStart) / 1e9;
        long lastTxId = Long.parseLong(ItSupport.queryString(pg, db, "SELECT xmin::text FROM t WHERE id = " + rows));
        String endLsn = ItSupport.queryString(pg, db, "SELECT pg_current_wal_lsn()::text");

        List<List<Run>> rounds = new ArrayList<>();
        for (int round = 1; round <= ROUNDS; round++) {
            List<Run> runs = new ArrayList<>();
            runs.add(rawReader(pg, db, "raw_" + name + "_" + round, publication, rows));
            if (recvlogical) {
                runs.add(pgRecvLogical(pg, db, "recv_" + name + "_" + round, publication, endLsn));
            }
            runs.add(consumer(pg, nats, db, consumerEnv(base, name, round, 0), rows, lastTxId, prefix + "-r" + round, 0));
            for (int other = 1; other <= COMPARE_JARS.size(); other++) {
                runs.add(consumer(pg, nats, db, consumerEnv(base, name, round, other), rows, lastTxId, prefix + "-r" + round + "-j" + other,
                        other));
            }
            rounds.add(runs);
        }
        report(prefix, rows, perTx, writeSeconds, rounds);
    }

    /** {@code variant} 0 is this build's consumer, 1.. the {@code vrsky.perf.compareJars}. */
    private static Map<String, String> consumerEnv(Map<String, String> base, String name, int round, int variant) {
        String suffix = round + (variant == 0 ? "" : "_j" + variant);
        Map<String, String> env = new HashMap<>(base);
        env.put("POSTGRES_INPUT_REPLICATION_SLOT", "slot_" + name + "_" + suffix);
        env.put("NATS_STREAM", "PERF_" + name.toUpperCase(Locale.ROOT) + "_" + suffix.toUpperCase(Locale.ROOT));
        env.put("NATS_SUBJECT", "perf." + name + "." + suffix);
        return env;
    }

    private static void createSlot(PostgresServer pg, String db, String slot) throws SQLException {
        ItSupport.sql(pg, db, "SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
    }

    /** Polls pg_replication_slots on its own thread and remembers when {@code slot} first became active. */
    private static final class ActiveWatch implements AutoCloseable {
        private final AtomicLong activeAt = new AtomicLong();
        private final AtomicLong activePid = new AtomicLong();
        private final Thread thread;
        private volatile boolean closed;

        ActiveWatch(PostgresServer pg, String db, String slot) throws SQLException {
            java.sql.Connection c = pg.connect(db);
            thread = new Thread(() -> {
                try (c; PreparedStatement ps = c.prepareStatement("SELECT active, active_pid FROM pg_replication_slots WHERE slot_name = ?")) {
                    ps.setString(1, slot);
                    while (!closed) {
                        try (ResultSet rs = ps.executeQuery()) {
                            if (rs.next() && rs.getBoolean(1)) {
                                activeAt.set(System.nanoTime());
                                activePid.set(rs.getLong(2));
                                return;
                            }
                        }
                        LockSupport.parkNanos(POLL.toNanos()); // polling another process's state
                    }
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            }, "perf-active-" + slot);
            thread.setDaemon(true);
            thread.start();
        }

        double secondsSince(long start) throws InterruptedException {
            thread.join(TimeUnit.SECONDS.toMillis(60));
            long at = activeAt.get();
            assertThat(at).as("the slot became active").isNotZero();
            return (at - start) / 1e9;
        }

        /** CPU seconds the walsender serving the slot has used so far. */
        double walsenderCpu() {
            return Cpu.seconds(activePid.get());
        }

        @Override
        public void close() throws InterruptedException {
            closed = true;
            thread.join(5_000);
        }
    }

    /** The minimal PgJDBC client: counts Insert messages, acks every commit, nothing more. */
    private static Run rawReader(PostgresServer pg, String db, String slot, String publication, int rows) throws Exception {
        long start = System.nanoTime();
        try (ActiveWatch watch = new ActiveWatch(pg, db, slot)) {
            Properties props = new Properties();
            PGProperty.USER.set(props, pg.user());
            PGProperty.PASSWORD.set(props, pg.password());
            PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "10");
            PGProperty.REPLICATION.set(props, "database");
            PGProperty.PREFER_QUERY_MODE.set(props, "simple");
            try (java.sql.Connection c = java.sql.DriverManager.getConnection(pg.jdbcUrl(db), props);
                 PGReplicationStream stream = c.unwrap(PGConnection.class).getReplicationAPI().replicationStream().logical()
                         .withSlotName(slot)
                         .withSlotOption("proto_version", 1)
                         .withSlotOption("publication_names", publication)
                         .withStatusInterval(1, TimeUnit.SECONDS)
                         .start()) {
                long inserts = 0;
                while (inserts < rows) {
                    ByteBuffer b = stream.read();
                    byte tag = b.get(b.position());
                    if (tag == 'I') {
                        inserts++;
                    } else if (tag == 'C') {
                        stream.setFlushedLSN(stream.getLastReceiveLSN());
                        stream.setAppliedLSN(stream.getLastReceiveLSN());
                    }
                }
                double total = (System.nanoTime() - start) / 1e9;
                double active = watch.secondsSince(start);
                String cpu = String.format(Locale.ROOT, "walsender %.2f", watch.walsenderCpu());
                stream.forceUpdateStatus();
                return new Run("pgjdbc reader", active, total, cpu);
            }
        }
    }

    /** pg_recvlogical, pgoutput to /dev/null, until it reaches {@code endLsn}. */
    private static Run pgRecvLogical(PostgresServer pg, String db, String slot, String publication, String endLsn) throws Exception {
        long start = System.nanoTime();
        try (ActiveWatch watch = new ActiveWatch(pg, db, slot)) {
            ProcessBuilder pb = new ProcessBuilder(PG_RECVLOGICAL.toString(), "-h", pg.host(), "-p", Integer.toString(pg.port()),
                    "-U", pg.user(), "-d", db, "--slot", slot, "--start", "--endpos", endLsn, "--no-loop",
                    "-o", "proto_version=1", "-o", "publication_names=" + publication, "-f", "/dev/null");
            pb.environment().put("PGPASSWORD", pg.password());
            pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(ItSupport.logFile("perf-" + slot).toFile()));
            Process p = pb.start();
            assertThat(p.waitFor(LIMIT.toSeconds(), TimeUnit.SECONDS)).as("pg_recvlogical finished").isTrue();
            double total = (System.nanoTime() - start) / 1e9;
            assertThat(p.exitValue()).as("pg_recvlogical exit code (see target/it-logs/perf-" + slot + ".log)").isZero();
            return new Run("pg_recvlogical", watch.secondsSince(start), total, "");
        }
    }

    /** The consumer, until the stream holds the last transaction; checks every row was published. */
    /** @param variant 0 for this build, else which of the {@code vrsky.perf.compareJars} (from 1) to run, in jar mode */
    private static Run consumer(PostgresServer pg, NatsServer nats, String db, Map<String, String> env, int rows, long lastTxId,
                                String label, int variant) throws Exception {
        Path jar = variant == 0 ? null : COMPARE_JARS.get(variant - 1);
        String variantArgs = variant == 0 || variant > COMPARE_JVM_ARGS.size() ? "" : COMPARE_JVM_ARGS.get(variant - 1);
        String stream = env.get("NATS_STREAM");
        try (Connection nc = Nats.connect(nats.url())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            BooleanSupplier done = () -> lastTxIdStored(jsm, stream, env.get("NATS_SUBJECT"), lastTxId);
            long start;
            double active;
            double total;
            double published;
            String cpu;
            long natsPid = Cpu.natsServerPid(nats.url());
            double natsBefore = Cpu.seconds(natsPid);
            if (JAR || jar != null) {
                int port = freePort();
                env.put("HEALTH_PORT", Integer.toString(port));
                List<String> jvm = new ArrayList<>(List.of("-Xmx256m", "-XX:+ExitOnOutOfMemoryError"));
                if (JFR != null) {
                    jvm.add("-XX:StartFlightRecording=settings=" + JFR_SETTINGS);
                }
                for (String args : List.of(JVM_ARGS, variantArgs)) {
                    if (!args.isBlank()) {
                        jvm.addAll(Arrays.asList(args.replace("{label}", label).trim().split("\\s+")));
                    }
                }
                start = System.nanoTime();
                Process child = ItSupport.startJar(jar == null ? Path.of("target", "postgres-consumer.jar") : jar, env, jvm,
                        ItSupport.logFile("perf-" + label));
                try (ActiveWatch watch = new ActiveWatch(pg, db, env.get("POSTGRES_INPUT_REPLICATION_SLOT"))) {
                    await().atMost(LIMIT).pollDelay(Duration.ZERO).pollInterval(POLL).until(done::getAsBoolean);
                    total = (System.nanoTime() - start) / 1e9;
                    active = watch.secondsSince(start);
                    cpu = String.format(Locale.ROOT, "walsender %.2f, nats-server %.2f, consumer %.2f (%s)", watch.walsenderCpu(),
                            Cpu.seconds(natsPid) - natsBefore, Cpu.seconds(child.pid()), Cpu.threads(child.pid()));
                    published = ItSupport.unchecked(() -> changesPublished(port));
                    if (JFR != null) { // the service halts on SIGTERM, so JFR's dump on exit would not run
                        Process dump = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                                Long.toString(child.pid()), "JFR.dump", "filename=" + Path.of(JFR + "-" + label + ".jfr").toAbsolutePath())
                                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                        assertThat(dump.waitFor(60, TimeUnit.SECONDS)).as("jcmd JFR.dump finished").isTrue();
                    }
                } finally {
                    child.destroy();
                    if (!child.waitFor(60, TimeUnit.SECONDS)) {
                        child.destroyForcibly();
                    }
                }
                assertThat(child.exitValue()).as("consumer exit code after SIGTERM").isZero();
            } else {
                Recording recording = JFR == null ? null : new Recording(JFR_SETTINGS.contains("/") ? Configuration.create(Path.of(JFR_SETTINGS))
                        : Configuration.getConfiguration(JFR_SETTINGS));
                if (recording != null) {
                    recording.start();
                }
                start = System.nanoTime();
                try (ActiveWatch watch = new ActiveWatch(pg, db, env.get("POSTGRES_INPUT_REPLICATION_SLOT"));
                     ConsumerService svc = ItSupport.start(env)) {
                    await().atMost(LIMIT).pollDelay(Duration.ZERO).pollInterval(POLL).until(done::getAsBoolean);
                    total = (System.nanoTime() - start) / 1e9;
                    active = watch.secondsSince(start);
                    cpu = String.format(Locale.ROOT, "walsender %.2f, nats-server %.2f", watch.walsenderCpu(),
                            Cpu.seconds(natsPid) - natsBefore);
                    published = svc.metrics().changesPublished();
                }
                if (recording != null) {
                    recording.stop();
                    recording.dump(Path.of(JFR + "-" + label + ".jfr"));
                    recording.close();
                }
            }
            assertThat(published).as("changes published").isEqualTo(rows);
            cpu += String.format(Locale.ROOT, "; %,d messages", jsm.getStreamInfo(stream).getStreamState().getMsgCount());
            jsm.deleteStream(stream);
            return new Run(variant == 0 ? "consumer" : "consumer j" + variant, active, total, cpu);
        }
    }

    private static boolean lastTxIdStored(JetStreamManagement jsm, String stream, String subject, long lastTxId) {
        try {
            MessageInfo last = jsm.getLastMessage(stream, subject);
            return Long.toString(lastTxId).equals(last.getHeaders().getFirst(CdcHeaders.TX_ID))
                    && "true".equals(last.getHeaders().getFirst(CdcHeaders.LAST_CHUNK));
        } catch (JetStreamApiException e) {
            return false; // no stream or no message yet
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** CPU time of local processes from /proc (Linux; 0 where unreadable). */
    private static final class Cpu {
        private static final double TICKS = 100.0; // USER_HZ

        static double seconds(long pid) {
            return pid <= 0 ? 0 : ticks(Path.of("/proc", Long.toString(pid), "stat")) / TICKS;
        }

        private static long ticks(Path stat) {
            try {
                String s = Files.readString(stat);
                String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
                return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
            } catch (IOException | RuntimeException e) {
                return 0;
            }
        }

        /** The busiest threads of a process: "name seconds (of them in the kernel), ...". */
        static String threads(long pid) {
            Map<String, long[]> byName = new HashMap<>();
            try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
                for (Path task : tasks.toList()) {
                    String name = Files.readString(task.resolve("comm")).trim().replaceAll("[0-9]+$", "#");
                    long[] t = byName.computeIfAbsent(name, k -> new long[2]);
                    t[0] += ticks(task.resolve("stat"));
                    t[1] += kernelTicks(task.resolve("stat"));
                }
            } catch (IOException e) {
                return "?";
            }
            return byName.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0])).limit(6)
                    .map(e -> String.format(Locale.ROOT, "%s %.2f (sys %.2f)", e.getKey(), e.getValue()[0] / TICKS, e.getValue()[1] / TICKS))
                    .collect(java.util.stream.Collectors.joining(", "));
        }

        private static long kernelTicks(Path stat) {
            try {
                String s = Files.readString(stat);
                return Long.parseLong(s.substring(s.lastIndexOf(')') + 2).split(" ")[12]);
            } catch (IOException | RuntimeException e) {
                return 0;
            }
        }

        static long natsServerPid(String url) {
            String port = url.substring(url.lastIndexOf(':') + 1);
            try (var procs = Files.list(Path.of("/proc"))) {
                for (Path p : procs.toList()) {
                    try {
                        String cmd = Files.readString(p.resolve("cmdline")).replace('\0', ' ');
                        if (cmd.contains("nats-server") && cmd.contains(" " + port + " ")) {
                            return Long.parseLong(p.getFileName().toString());
                        }
                    } catch (IOException | RuntimeException e) {
                        // not a process, or gone
                    }
                }
            } catch (IOException e) {
                return 0;
            }
            return 0;
        }
    }

    private static double changesPublished(int port) throws IOException, InterruptedException {
        double sum = 0;
        for (String line : ItSupport.http(port, "/metrics").body().split("\n")) {
            if (line.startsWith("vrsky_consumer_changes_published_total{")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void report(String prefix, int rows, int perTx, double writeSeconds, List<List<Run>> rounds) throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%nTHROUGHPUT %s: %,d rows in transactions of %,d (~210-byte rows), BATCH_SIZE %s, consumer %s%n",
                prefix, rows, perTx, BATCH_SIZE, JAR ? "jar -Xmx256m " + JVM_ARGS : "in-process"));
        for (int i = 0; i < COMPARE_JARS.size(); i++) {
            sb.append(String.format(Locale.ROOT, "consumer j%d = %s %s%n", i + 1, COMPARE_JARS.get(i),
                    i < COMPARE_JVM_ARGS.size() ? COMPARE_JVM_ARGS.get(i) : ""));
        }
        sb.append(String.format(Locale.ROOT, "backlog written in %.1f s (%,.0f rows/s)%n", writeSeconds, rows / writeSeconds));
        sb.append(String.format(Locale.ROOT, "%-5s | %-14s | %12s | %12s | %8s | %s%n", "round", "reader", "read rows/s", "setup rows/s",
                "seconds", "ratio to pgjdbc reader (read / setup)"));
        sb.append("------+----------------+--------------+--------------+----------+--------------------------------------\n");
        Map<String, List<Double>> ratios = new java.util.LinkedHashMap<>();
        StringBuilder cpuNotes = new StringBuilder();
        Map<String, List<Double>> rates = new java.util.LinkedHashMap<>();
        for (int i = 0; i < rounds.size(); i++) {
            Run raw = rounds.get(i).get(0);
            for (Run run : rounds.get(i)) {
                double ratio = run.readRate(rows) / raw.readRate(rows);
                sb.append(String.format(Locale.ROOT, "%-5d | %-14s | %,12.0f | %,12.0f | %8.2f | %.2f / %.2f%n", i + 1, run.reader(),
                        run.readRate(rows), run.setupRate(rows), run.totalSeconds(), ratio, run.setupRate(rows) / raw.setupRate(rows)));
                if (!run.cpu().isEmpty()) {
                    cpuNotes.append(String.format(Locale.ROOT, "  round %d %-14s CPU s: %s%n", i + 1, run.reader(), run.cpu()));
                }
                ratios.computeIfAbsent(run.reader(), k -> new ArrayList<>()).add(ratio);
                rates.computeIfAbsent(run.reader(), k -> new ArrayList<>()).add(run.readRate(rows));
            }
        }
        sb.append("medians over the rounds:\n");
        rates.forEach((reader, r) -> sb.append(String.format(Locale.ROOT, "  %-14s %,10.0f read rows/s, %.2f x pgjdbc reader%n", reader,
                median(r), median(ratios.get(reader)))));
        sb.append("CPU used (walsender whole session; consumer process incl. JVM start-up):\n").append(cpuNotes);
        System.out.print(sb);
        Path dir = Path.of("target", "perf");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(prefix + ".txt"), sb.toString());
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
