package io.vrsky.pipeline;

import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.MessageInfo;
import io.vrsky.testing.NatsCluster;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * High availability with real processes on loopback: a three-node nats-server cluster with R3
 * streams losing its stream leader and then another node; two producers of one durable with the
 * active one killed -9 or frozen (SIGSTOP) past its lease; two consumers of one slot with the
 * streaming one killed -9. The sink stays equal to the source throughout, a balance total the
 * source never changes never changes in the sink, and the pauses and takeover times are printed.
 */
@ExtendWith(RealServices.class)
class HighAvailabilityIT {

    private static final Duration RECOVERY = Duration.ofSeconds(90);
    private static final int ACCOUNTS = 20;
    private static final long TOTAL = 50_000;
    private static final String[] SCHEMA = {
        "CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL, note text, price numeric(10,2), seen timestamptz)",
        "CREATE TABLE pairs (a int, b int, val text, flag bool, PRIMARY KEY (a, b))",
        "CREATE TABLE wide (id int PRIMARY KEY, payload text, tags text[], doc jsonb)",
        "ALTER TABLE wide REPLICA IDENTITY FULL",
        "CREATE TABLE ticks (seq int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())",
        "CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)",
        "CREATE TABLE txlog (id serial PRIMARY KEY, xid bigint NOT NULL DEFAULT txid_current() % 4294967296)",
    };

    private static NatsCluster cluster;

    @BeforeAll
    static void startCluster() {
        Assumptions.assumeTrue(NatsCluster.available(), "no nats-server binary to start a cluster with");
        cluster = NatsCluster.start(3);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Pipeline onCluster(PostgresServer pg, NatsServer nats, TestInfo info) throws SQLException {
        Pipeline p = Pipeline.create(pg, nats, info, SCHEMA);
        for (String name : List.of("NATS_URL", "NATS_STREAM_REPLICAS")) {
            String value = name.equals("NATS_URL") ? cluster.url() : "3";
            p.consumerEnv(name, value).producerEnv(name, value);
        }
        return p;
    }

    @Test
    @Timeout(180)
    void shouldLoseNothingWhenTheStreamLeaderAndThenAnotherNodeAreKilled(PostgresServer pg, NatsServer nats, TestInfo info)
            throws Exception {
        try (Pipeline p = onCluster(pg, nats, info).start(); Ticks ticks = new Ticks(pg, p)) {
            assertThat(cluster.replicas(p.stream)).isEqualTo(3);
            Workload workload = new Workload(31);
            try (Workload.Background writer = workload.inBackground(p, 6)) {
                ticks.awaitApplied(20);
                int leader = cluster.awaitStreamLeader(p.stream, Duration.ofSeconds(30));
                cluster.kill(leader);
                ticks.awaitApplied(ticks.written() + 20);
                int newLeader = cluster.awaitStreamLeader(p.stream, Duration.ofSeconds(30));
                cluster.restart(leader);
                ticks.awaitApplied(ticks.written() + 20);
                int other = newLeader;
                cluster.kill(other);
                ticks.awaitApplied(ticks.written() + 20);
                cluster.restart(other);
                ticks.awaitApplied(ticks.written() + 20);
                writer.stop();
                System.out.printf("HA(a) stream leader n%d then n%d killed -9 and restarted: %d source transactions,"
                        + " longest pause of the line %d ms%n", leader, other, workload.committed(), ticks.longestPause().toMillis());
            }
            ticks.stop();
            p.awaitInSync(RECOVERY);
            assertThat(p.consumer().isAlive()).as("consumer alive").isTrue();
            assertThat(p.producer().isAlive()).as("producer alive").isTrue();
            assertNoDeadLetters(p);
        }
    }

    @Test
    @Timeout(180)
    void shouldHandOverToTheStandbyProducerWhenTheActiveOneIsKilled(PostgresServer pg, NatsServer nats, TestInfo info)
            throws Exception {
        Pipeline p = onCluster(pg, nats, info);
        try (p; ServiceProcess a = ServiceProcess.producer("producer-a", p.producerEnvironment(), p.logDir);
             ServiceProcess b = ServiceProcess.producer("producer-b", p.producerEnvironment(), p.logDir)) {
            p.consumer().startAndAwaitReady();
            a.startAndAwaitReady();
            b.start();
            awaitStandby(b);
            try (Ticks ticks = new Ticks(pg, p); Transfers transfers = new Transfers(pg, p)) {
                transfers.awaitSome(100);
                a.kill();
                long killed = System.nanoTime();
                b.awaitReady();
                Duration ready = Duration.ofNanos(System.nanoTime() - killed);
                long atKill = ticks.written();
                ticks.awaitApplied(atKill);
                Duration applying = Duration.ofNanos(System.nanoTime() - killed);
                transfers.awaitSome(transfers.done() + 100);
                transfers.stop();
                ticks.stop();
                System.out.printf("HA(b) producer killed -9 under load: standby ready after %d ms, applying what was written at the"
                        + " kill after %d ms; longest pause %d ms; %d transfers, %d balance samples%n", ready.toMillis(),
                        applying.toMillis(), ticks.longestPause().toMillis(), transfers.done(), transfers.samples());
                assertThat(ready).as("takeover time").isLessThan(Duration.ofSeconds(15));
                p.awaitInSync(RECOVERY);
                transfers.assertTotalNeverChanged();
                assertThat(b.isAlive()).isTrue();
                assertThat(b.logContains("active: holding the lease")).isTrue();
                assertNoDeadLetters(p);
            }
        }
    }

    @Test
    @Timeout(180)
    void shouldFenceOffAFrozenProducerThatWakesUpAfterTheStandbyTookOver(PostgresServer pg, NatsServer nats, TestInfo info)
            throws Exception {
        Pipeline p = onCluster(pg, nats, info).producerEnv("POSTGRES_OUTPUT_LEASE_TTL", "3s");
        try (p; ServiceProcess a = ServiceProcess.producer("producer-a", p.producerEnvironment(), p.logDir);
             ServiceProcess b = ServiceProcess.producer("producer-b", p.producerEnvironment(), p.logDir)) {
            p.consumer().startAndAwaitReady();
            a.startAndAwaitReady();
            b.start();
            awaitStandby(b);
            try (Ticks ticks = new Ticks(pg, p); Transfers transfers = new Transfers(pg, p)) {
                transfers.awaitSome(100);
                a.pause();
                long frozen = System.nanoTime();
                try {
                    b.awaitReady();
                    Duration takeover = Duration.ofNanos(System.nanoTime() - frozen);
                    transfers.awaitSome(transfers.done() + 100);
                    ticks.awaitApplied(ticks.written());
                    System.out.printf("HA(c) producer frozen (SIGSTOP) with a 3s lease: standby ready after %d ms%n", takeover.toMillis());
                    assertThat(takeover).isLessThan(Duration.ofSeconds(15));
                } finally {
                    a.resume();
                }
                await("the woken former active producer stops").atMost(Duration.ofSeconds(60)).until(() -> !a.isAlive());
                assertThat(a.exitCode()).as("exit code of the fenced producer").isEqualTo(3);
                assertThat(a.logContains("lease")).isTrue();
                transfers.awaitSome(transfers.done() + 50);
                transfers.stop();
                ticks.stop();
                p.awaitInSync(RECOVERY);
                transfers.assertTotalNeverChanged();
                assertThat(b.isAlive()).isTrue();
                assertNoDeadLetters(p);
                System.out.printf("HA(c) longest pause %d ms, %d transfers, %d balance samples%n", ticks.longestPause().toMillis(),
                        transfers.done(), transfers.samples());
            }
        }
    }

    @Test
    @Timeout(180)
    void shouldPublishEverySourceTransactionWhenTheStreamingConsumerIsKilled(PostgresServer pg, NatsServer nats, TestInfo info)
            throws Exception {
        Pipeline p = onCluster(pg, nats, info);
        try (p; ServiceProcess a = ServiceProcess.consumer("consumer-a", p.consumerEnvironment(), p.logDir);
             ServiceProcess b = ServiceProcess.consumer("consumer-b", p.consumerEnvironment(), p.logDir)) {
            a.startAndAwaitReady();
            b.start();
            await("consumer-b on standby").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                    .until(() -> b.readyStatus() == 503 && b.readyBody().contains("standby"));
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicLong written = new AtomicLong();
            ExecutorService executor = Executors.newSingleThreadExecutor();
            Future<?> writer = executor.submit(() -> {
                try (java.sql.Connection c = pg.connect(p.sourceDb); Statement s = c.createStatement()) {
                    while (running.get()) {
                        s.execute("INSERT INTO txlog DEFAULT VALUES");
                        written.incrementAndGet();
                    }
                }
                return null;
            });
            try {
                await().atMost(Duration.ofSeconds(30)).until(() -> written.get() >= 200);
                a.kill();
                long killed = System.nanoTime();
                b.awaitReady();
                Duration takeover = Duration.ofNanos(System.nanoTime() - killed);
                long atTakeover = written.get();
                await().atMost(Duration.ofSeconds(30)).until(() -> written.get() >= atTakeover + 200);
                System.out.printf("HA(d) consumer killed -9: standby streaming (ready) after %d ms%n", takeover.toMillis());
                assertThat(takeover).isLessThan(Duration.ofSeconds(30));
            } finally {
                running.set(false);
                writer.get();
                executor.shutdown();
            }
            Set<Long> source = new HashSet<>();
            try (java.sql.Connection c = pg.connect(p.sourceDb); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT xid FROM txlog")) {
                while (rs.next()) {
                    source.add(rs.getLong(1));
                }
            }
            await("every source transaction in the stream").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
                    .untilAsserted(() -> assertThat(txIdsInStream(p)).containsAll(source));
        }
    }

    private static final Pattern STANDBY_GAUGE_ON = Pattern.compile("(?m)^vrsky_producer_standby\\{durable=\"[^\"]+\"} 1\\.0$");

    private static void awaitStandby(ServiceProcess standby) {
        await(standby.name() + " on standby").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> standby.readyStatus() == 503 && standby.readyBody().contains("standby")
                        && STANDBY_GAUGE_ON.matcher(standby.metrics()).find());
    }

    private static Connection clusterConnection() throws Exception {
        return Nats.connect(new Options.Builder().servers(cluster.url().split(",")).connectionTimeout(Duration.ofSeconds(5)).build());
    }

    private static void assertNoDeadLetters(Pipeline p) throws Exception {
        try (Connection c = clusterConnection()) {
            MessageInfo last = null;
            try {
                last = c.jetStreamManagement().getLastMessage("VRSKY_DLQ", p.dlqSubject);
            } catch (JetStreamApiException e) {
                // no message on the subject (or no DLQ stream at all): nothing was dead-lettered
            }
            assertThat(last).as("dead letter on " + p.dlqSubject).isNull();
        }
    }

    private static final Pattern TX_ID = Pattern.compile("\"txId\":(\\d+)");

    private static Set<Long> txIdsInStream(Pipeline p) throws Exception {
        Set<Long> ids = new HashSet<>();
        try (Connection c = clusterConnection()) {
            JetStreamManagement jsm = c.jetStreamManagement();
            long last = jsm.getStreamInfo(p.stream).getStreamState().getLastSequence();
            for (long seq = 1; seq <= last; seq++) {
                MessageInfo m;
                try {
                    m = jsm.getMessage(p.stream, seq);
                } catch (JetStreamApiException e) {
                    continue; // a sequence the stream does not hold
                }
                Matcher matcher = TX_ID.matcher(new String(m.getData(), StandardCharsets.UTF_8));
                while (matcher.find()) {
                    ids.add(Long.parseLong(matcher.group(1)));
                }
            }
        }
        return ids;
    }

    /**
     * A row into {@code ticks} on the source every 50 ms, and a sampler reading the highest one in
     * the sink every 50 ms: the longest time the sink's highest tick stood still is the longest
     * pause of the line.
     */
    private static final class Ticks implements AutoCloseable {
        private final AtomicLong written = new AtomicLong();
        private final AtomicLong applied = new AtomicLong();
        private final AtomicLong longestPauseNanos = new AtomicLong();
        private final Periodic writer;
        private final Periodic sampler;
        private java.sql.Connection source;
        private long lastAdvance = System.nanoTime();

        Ticks(PostgresServer pg, Pipeline p) throws SQLException {
            writer = new Periodic("ticks writer", () -> {
                try {
                    if (source == null) {
                        source = pg.connect(p.sourceDb);
                    }
                    try (Statement s = source.createStatement()) {
                        s.execute("INSERT INTO ticks (seq) VALUES (" + (written.get() + 1) + ")");
                    }
                    written.incrementAndGet();
                } catch (SQLException e) {
                    source = null; // the source is down for a moment: the next tick reconnects
                }
            }, () -> {
                if (source != null) {
                    source.close();
                }
            });
            java.sql.Connection sink = pg.connect(p.sinkDb);
            sampler = new Periodic("ticks sampler", () -> {
                long max;
                try (Statement s = sink.createStatement(); ResultSet rs = s.executeQuery("SELECT coalesce(max(seq), 0) FROM ticks")) {
                    rs.next();
                    max = rs.getLong(1);
                }
                long now = System.nanoTime();
                if (max > applied.get()) {
                    applied.set(max);
                    lastAdvance = now;
                } else if (written.get() > max) {
                    longestPauseNanos.accumulateAndGet(now - lastAdvance, Math::max);
                }
            }, sink::close);
        }

        long written() {
            return written.get();
        }

        void awaitApplied(long tick) {
            await("tick " + tick + " in the sink").atMost(RECOVERY).pollInterval(Duration.ofMillis(50)).until(() -> applied.get() >= tick);
        }

        Duration longestPause() {
            return Duration.ofNanos(longestPauseNanos.get());
        }

        void stop() throws Exception {
            try {
                writer.stop();
            } finally {
                sampler.stop();
            }
        }

        @Override
        public void close() throws Exception {
            stop();
        }
    }

    /**
     * Transfers between {@value #ACCOUNTS} accounts holding {@value #TOTAL} in all, one source
     * transaction each, and a sampler checking the sink's total every 50 ms: it is either empty
     * (before the accounts arrived) or exactly {@value #TOTAL}.
     */
    private static final class Transfers implements AutoCloseable {
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicLong done = new AtomicLong();
        private final AtomicLong samples = new AtomicLong();
        private final List<String> violations = new CopyOnWriteArrayList<>();
        private final ExecutorService executor = Executors.newSingleThreadExecutor();
        private final Future<?> writer;
        private final Periodic sampler;

        Transfers(PostgresServer pg, Pipeline p) throws SQLException {
            try (java.sql.Connection c = pg.connect(p.sourceDb); Statement s = c.createStatement()) {
                s.execute("INSERT INTO accounts SELECT g, " + (TOTAL / ACCOUNTS) + " FROM generate_series(1, " + ACCOUNTS + ") g");
            }
            writer = executor.submit(() -> {
                try (java.sql.Connection c = pg.connect(p.sourceDb)) {
                    c.setAutoCommit(false);
                    try (Statement s = c.createStatement()) {
                        while (running.get()) {
                            int from = 1 + ThreadLocalRandom.current().nextInt(ACCOUNTS);
                            int to = 1 + ThreadLocalRandom.current().nextInt(ACCOUNTS);
                            int amount = 1 + ThreadLocalRandom.current().nextInt(100);
                            s.execute("UPDATE accounts SET balance = balance - " + amount + " WHERE id = " + from);
                            s.execute("UPDATE accounts SET balance = balance + " + amount + " WHERE id = " + to);
                            c.commit();
                            done.incrementAndGet();
                        }
                    }
                }
                return null;
            });
            java.sql.Connection sink = pg.connect(p.sinkDb);
            sampler = new Periodic("balance sampler", () -> {
                try (Statement s = sink.createStatement();
                     ResultSet rs = s.executeQuery("SELECT count(*), coalesce(sum(balance), 0) FROM accounts")) {
                    rs.next();
                    long count = rs.getLong(1);
                    long sum = rs.getLong(2);
                    samples.incrementAndGet();
                    if (!(count == 0 && sum == 0) && !(count == ACCOUNTS && sum == TOTAL)) {
                        violations.add(count + " accounts holding " + sum);
                    }
                }
            }, sink::close);
        }

        long done() {
            return done.get();
        }

        long samples() {
            return samples.get();
        }

        void awaitSome(long transfers) {
            await(transfers + " transfers").atMost(RECOVERY).pollInterval(Duration.ofMillis(50)).until(() -> done.get() >= transfers);
        }

        void assertTotalNeverChanged() {
            assertThat(violations).as("sink totals other than " + TOTAL).isEmpty();
            assertThat(samples.get()).isPositive();
        }

        void stop() throws Exception {
            if (running.getAndSet(false)) {
                try {
                    writer.get();
                    executor.shutdown();
                } finally {
                    sampler.stop();
                }
            }
        }

        @Override
        public void close() throws Exception {
            stop();
        }
    }

    /** A step run every 50 ms on a timer thread until {@link #stop()}, which rethrows the step's first failure. */
    private static final class Periodic {
        /** One step; may throw. */
        @FunctionalInterface
        interface Step {
            void run() throws Exception;
        }

        private static final Duration PERIOD = Duration.ofMillis(50);
        private final String name;
        private final java.util.concurrent.ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        private final java.util.concurrent.atomic.AtomicReference<Exception> failure = new java.util.concurrent.atomic.AtomicReference<>();
        private final Step cleanup;
        private boolean stopped;

        Periodic(String name, Step step, Step cleanup) {
            this.name = name;
            this.cleanup = cleanup;
            timer.scheduleWithFixedDelay(() -> {
                try {
                    step.run();
                } catch (Exception e) {
                    failure.compareAndSet(null, e);
                    throw new IllegalStateException(name + " failed", e); // ends the schedule
                }
            }, 0, PERIOD.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        }

        synchronized void stop() throws Exception {
            if (stopped) {
                return;
            }
            stopped = true;
            timer.shutdown();
            try {
                if (!timer.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS)) {
                    throw new IllegalStateException(name + " did not stop");
                }
            } finally {
                cleanup.run();
            }
            if (failure.get() != null) {
                throw failure.get();
            }
        }
    }
}
