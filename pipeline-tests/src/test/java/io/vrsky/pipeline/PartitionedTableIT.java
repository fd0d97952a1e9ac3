package io.vrsky.pipeline;

import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A partitioned table reaches the sink under its own name: its existing rows through the snapshot,
 * then inserts into each partition, an UPDATE that moves a row to another partition, and deletes.
 */
@ExtendWith(RealServices.class)
class PartitionedTableIT {

    private static final String[] MEASUREMENTS = {
        "CREATE TABLE measurements (id bigint NOT NULL, taken date NOT NULL, value numeric(10,2),"
            + " PRIMARY KEY (id, taken)) PARTITION BY RANGE (taken)",
        "CREATE TABLE measurements_2025 PARTITION OF measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
        "CREATE TABLE measurements_2026 PARTITION OF measurements FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"
    };

    @Test
    @Timeout(180)
    void shouldReplicateAPartitionedTableUnderItsOwnName(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, MEASUREMENTS)
                .consumerEnv("POSTGRES_INPUT_TABLES", "public.measurements")) {
            p.execSource("INSERT INTO measurements SELECT g, DATE '2025-06-01' + (g % 400), g / 10.0 FROM generate_series(1, 300) g");
            p.start();
            p.awaitInSync();
            assertThat(Pipeline.count(p.sink(), "measurements")).isEqualTo(300);

            p.execSource("INSERT INTO measurements VALUES (1003, '2025-02-01', 1.5), (1004, '2026-02-01', 2.5)");
            p.execSource("UPDATE measurements SET taken = '2026-03-01', value = 9.99 WHERE id = 1003");
            p.execSource("UPDATE measurements SET value = value + 1 WHERE taken >= '2026-01-01'");
            p.execSource("DELETE FROM measurements WHERE id % 7 = 0");
            p.awaitInSync();

            assertThat(Pipeline.scalar(p.sink(), "SELECT taken || '/' || value FROM measurements WHERE id = 1003"))
                    .isEqualTo("2026-03-01/10.99");
            assertThat(Pipeline.scalar(p.sink(), "SELECT count(*) FROM measurements_2026 WHERE id = 1003")).isEqualTo("1");
            assertThat(Pipeline.scalarLong(p.source(), "SELECT count(*) FROM pg_publication WHERE pubviaroot"))
                    .isEqualTo(1);
        }
    }
}
