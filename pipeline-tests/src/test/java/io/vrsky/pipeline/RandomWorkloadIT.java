package io.vrsky.pipeline;

import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Any interleaving of inserts, updates and deletes ends with every table equal (invariant 1). */
@ExtendWith(RealServices.class)
class RandomWorkloadIT {

    @Test
    @Timeout(180)
    void shouldEndWithEveryTableEqualAfterASeededRandomWorkload(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        long seed = Long.getLong("vrsky.seed", 20260217L);
        System.out.println("random workload seed " + seed + " (rerun with -Dvrsky.seed=" + seed + ")");
        try (Pipeline p = Pipeline.create(pg, nats, info, Workload.SCHEMA).consumerEnv("POSTGRES_INPUT_BATCH_SIZE", "37")
                .producerEnv("POSTGRES_OUTPUT_BATCH_SIZE", "50").start()) {
            Workload workload = new Workload(seed);
            // live: the pipeline reads while we write
            workload.run(p.source(), 600, 12);
            // backlog: written while the producer is away, so it meets many transactions per batch
            p.producer().stop();
            workload.run(p.source(), 600, 12);
            p.producer().startAndAwaitReady();
            p.awaitInSync(Duration.ofSeconds(120));
            for (String table : p.tables) {
                assertThat(p.fingerprint(p.sink(), table)).as(table + " (seed " + seed + ")").isEqualTo(p.fingerprint(p.source(), table));
            }
            assertThat(Pipeline.count(p.source(), "items") + Pipeline.count(p.source(), "pairs")).as("workload left rows").isPositive();
        }
    }
}
