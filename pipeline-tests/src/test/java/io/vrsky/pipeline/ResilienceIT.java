package io.vrsky.pipeline;

import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * kill -9 of either service, a PostgreSQL restart and a nats-server restart in the middle of a
 * running workload all end with the sink equal to the source (invariant 2).
 */
@ExtendWith(RealServices.class)
class ResilienceIT {

    private static final Duration RECOVERY = Duration.ofSeconds(120);

    @Test
    @Timeout(240)
    void shouldLoseNothingWhenTheConsumerIsKilledMidRun(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, Workload.SCHEMA).start()) {
            Workload workload = new Workload(11);
            try (Workload.Background writer = workload.inBackground(p, 8)) {
                awaitCommitted(workload, 150);
                p.consumer().kill();
                long atKill = workload.committed();
                awaitCommitted(workload, atKill + 150);
                p.consumer().startAndAwaitReady();
                awaitCommitted(workload, workload.committed() + 150);
                writer.stop();
            }
            p.awaitInSync(RECOVERY);
        }
    }

    @Test
    @Timeout(240)
    void shouldLoseNothingWhenTheProducerIsKilledMidRun(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, Workload.SCHEMA).start()) {
            Workload workload = new Workload(12);
            try (Workload.Background writer = workload.inBackground(p, 8)) {
                awaitCommitted(workload, 150);
                p.producer().kill();
                awaitCommitted(workload, workload.committed() + 150);
                p.producer().startAndAwaitReady();
                awaitCommitted(workload, workload.committed() + 100);
                p.producer().kill();
                p.producer().startAndAwaitReady();
                awaitCommitted(workload, workload.committed() + 100);
                writer.stop();
            }
            p.awaitInSync(RECOVERY);
        }
    }

    @Test
    @Timeout(240)
    void shouldRecoverWhenPostgresRestartsMidPipeline(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        Assumptions.assumeTrue(pg.controllable(), "PostgreSQL given by URL cannot be restarted");
        try (Pipeline p = Pipeline.create(pg, nats, info, Workload.SCHEMA).start()) {
            Workload workload = new Workload(13);
            try (Workload.Background writer = workload.inBackground(p, 8)) {
                awaitCommitted(workload, 150);
                pg.crash();
                pg.start();
                awaitCommitted(workload, workload.committed() + 150);
                writer.stop();
            }
            p.awaitInSync(RECOVERY);
            assertAlive(p);
            p.execSource("INSERT INTO items VALUES (100000, 1, 'after the restart', 1, now())");
            p.awaitInSync(RECOVERY);
        }
    }

    @Test
    @Timeout(240)
    void shouldRecoverWhenNatsRestartsMidPipeline(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        Assumptions.assumeTrue(nats.controllable(), "NATS given by URL cannot be restarted");
        try (Pipeline p = Pipeline.create(pg, nats, info, Workload.SCHEMA).start()) {
            Workload workload = new Workload(14);
            try (Workload.Background writer = workload.inBackground(p, 8)) {
                awaitCommitted(workload, 150);
                nats.crash();
                awaitCommitted(workload, workload.committed() + 100); // written while NATS is down
                nats.start();
                awaitCommitted(workload, workload.committed() + 150);
                writer.stop();
            }
            p.awaitInSync(RECOVERY);
            assertAlive(p);
            p.execSource("INSERT INTO items VALUES (100000, 1, 'after the restart', 1, now())");
            p.awaitInSync(RECOVERY);
        }
    }

    @Test
    @Timeout(120)
    void shouldExitZeroOnSigtermAndResumeWhereItStopped(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, Workload.SCHEMA).start()) {
            Workload workload = new Workload(15);
            workload.run(p.source(), 100, 5);
            p.awaitInSync();
            assertThat(p.consumer().stop()).as("consumer exit code after SIGTERM").isZero();
            assertThat(p.producer().stop()).as("producer exit code after SIGTERM").isZero();
            workload.run(p.source(), 100, 5);
            p.start();
            p.awaitInSync();
        }
    }

    @Test
    @Timeout(240)
    void shouldApplyALargeTransactionOnceWhenTheConsumerIsKilledBetweenItsChunks(PostgresServer pg, NatsServer nats, TestInfo info)
            throws Exception {
        int rows = 30_000;
        try (Pipeline p = Pipeline.create(pg, nats, info, LEDGER).start()) {
            io.nats.client.JetStreamManagement jsm = p.natsConnection().jetStreamManagement();
            p.execSource("INSERT INTO ledger SELECT g, g % 7, repeat('x', 100) FROM generate_series(1, " + rows + ") g");
            // kill it once part of the transaction's chunks are in JetStream, before the last one
            await("first chunks published").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5))
                    .ignoreExceptions().until(() -> jsm.getStreamInfo(p.stream).getStreamState().getMsgCount() >= 3);
            p.consumer().kill();
            long published = jsm.getStreamInfo(p.stream).getStreamState().getMsgCount();
            p.consumer().startAndAwaitReady();
            p.execSource("INSERT INTO ledger VALUES (" + (rows + 1) + ", 0, 'after')");
            p.awaitInSync(RECOVERY);
            assertThat(Pipeline.count(p.sink(), "ledger")).isEqualTo(rows + 1);
            System.out.println("consumer killed after " + published + " messages of the " + rows + "-row transaction");
        }
    }

    @Test
    @Timeout(240)
    void shouldApplyALargeTransactionOnceWhenTheProducerIsKilledBetweenItsChunks(PostgresServer pg, NatsServer nats, TestInfo info)
            throws Exception {
        int rows = 30_000;
        try (Pipeline p = Pipeline.create(pg, nats, info, LEDGER).start()) {
            p.producer().stop();
            p.execSource("INSERT INTO ledger SELECT g, g % 7, repeat('x', 100) FROM generate_series(1, " + rows + ") g");
            io.nats.client.JetStreamManagement jsm = p.natsConnection().jetStreamManagement();
            await("the whole transaction in JetStream").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                    .ignoreExceptions().until(() -> "true".equals(jsm.getLastMessage(p.stream, p.subject).getHeaders().getFirst("Vrsky-Last-Chunk")));
            java.util.Set<Long> seen = new java.util.concurrent.ConcurrentSkipListSet<>();
            java.util.concurrent.atomic.AtomicBoolean watching = new java.util.concurrent.atomic.AtomicBoolean(true);
            Thread sampler = new Thread(() -> {
                try (java.sql.Connection c = p.pg.connect(p.sinkDb)) {
                    while (watching.get()) {
                        seen.add(Pipeline.count(c, "ledger"));
                    }
                } catch (java.sql.SQLException e) {
                    seen.add(-1L);
                }
            }, "sink-sampler");
            sampler.start();
            try {
                // kill it while it works through the chunks (it has been handed some of them), twice
                long chunks = jsm.getStreamInfo(p.stream).getStreamState().getMsgCount();
                for (long deliveredAtLeast : new long[] {chunks / 4, chunks / 2}) {
                    p.producer().start();
                    await("producer handed " + deliveredAtLeast + " of " + chunks + " chunks").atMost(Duration.ofSeconds(60))
                            .pollInterval(Duration.ofMillis(5)).ignoreExceptions()
                            .until(() -> jsm.getConsumerInfo(p.stream, p.durable).getDelivered().getStreamSequence() >= deliveredAtLeast);
                    p.producer().kill();
                }
                p.producer().startAndAwaitReady();
                p.awaitInSync(RECOVERY);
            } finally {
                watching.set(false);
                sampler.join();
            }
            assertThat(seen).as("row counts the sink showed (never part of the transaction)").allMatch(n -> n == 0 || n == rows);
        }
    }

    private static final String LEDGER = "CREATE TABLE ledger (id bigint PRIMARY KEY, account int NOT NULL, note text)";

    private static void assertAlive(Pipeline p) {
        assertThat(p.consumer().isAlive()).as("consumer still running after the outage").isTrue();
        assertThat(p.producer().isAlive()).as("producer still running after the outage").isTrue();
    }

    private static void awaitCommitted(Workload workload, long transactions) {
        await("workload committed " + transactions + " transactions").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(20)).until(() -> workload.committed() >= transactions);
    }
}
