package io.vrsky.producer;

import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.EnvelopeMetadata;
import io.vrsky.testing.DeployFiles;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.TreeSet;

import static io.vrsky.producer.Envelopes.insert;
import static io.vrsky.producer.Envelopes.lsn;
import static io.vrsky.producer.Envelopes.message;
import static io.vrsky.producer.Envelopes.row;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A running producer's /metrics: the sink lag histogram, counters at 0 from the start, readiness,
 * JVM and pool meters, all with the durable label, and every name the deploy files use.
 */
@ExtendWith(RealServices.class)
@Timeout(120)
class MonitoringIT {

    @Test
    void shouldExportSinkLagReadinessAndStandardMetricsWithTheDurableLabel(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "monitor")) {
            h.sql("CREATE TABLE items (id int PRIMARY KEY)");
            h.env("POSTGRES_OUTPUT_TABLES", "items");
            h.env("HEALTH_BIND", "127.0.0.1");
            h.start();
            String durable = "durable=\"" + h.durable + "\"";
            String before = h.http("/metrics");
            assertThat(before).contains("vrsky_producer_dead_letters_total{class=\"sql\"," + durable + "} 0.0",
                    "vrsky_producer_rows_written_total{" + durable + ",op=\"INSERT\",table=\"public.items\"} 0.0",
                    "vrsky_producer_sink_lag_seconds_count{" + durable + "} 0");

            Envelope e = message("postgres-consumer/db/slot", insert("items", lsn(100), row("id", 1)));
            EnvelopeMetadata m = e.metadata();
            h.publish(new Envelope(e.id(), e.type(), e.source(), e.time(), new EnvelopeMetadata(m.txId(), m.commitLsn(),
                    Instant.now().minusMillis(200), m.chunk(), m.lastChunk(), m.changeCount(), m.transactionCount()), e.changes()));
            await().atMost(Duration.ofSeconds(30)).until(() -> h.count("SELECT count(*) FROM items") == 1);
            await().atMost(Duration.ofSeconds(10)).until(() -> h.metric("vrsky_producer_sink_lag_seconds_count", durable) == 1);
            await().atMost(Duration.ofSeconds(10)).until(() -> h.metric("vrsky_ready", durable) == 1);

            String metrics = h.http("/metrics");
            assertThat(metrics).contains("vrsky_producer_rows_written_total{" + durable + ",op=\"INSERT\",table=\"public.items\"} 1.0",
                    "vrsky_producer_sink_lag_seconds_bucket{" + durable + ",le=\"60.0\"}",
                    "hikaricp_connections_active{" + durable + ",pool=\"postgres-producer\"}",
                    "jvm_memory_used_bytes{", "process_uptime_seconds{" + durable);
            Set<String> registered = DeployFiles.sampleNames(metrics);
            Set<String> missing = new TreeSet<>();
            DeployFiles.metricNames().stream().filter(n -> !n.startsWith("vrsky_consumer_") && !registered.contains(n)).forEach(missing::add);
            assertThat(missing).as("deploy files' metrics missing from a running producer").isEmpty();
            assertThat(h.httpResponse("/health/readyX").statusCode()).isEqualTo(404);
        }
    }
}
