package io.vrsky.producer;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vrsky.core.health.HealthServer;
import io.vrsky.core.metrics.ProcessMeters;
import io.vrsky.producer.metrics.ProducerMetrics;
import io.vrsky.testing.DeployFiles;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every metric deploy/prometheus-alerts.yml and deploy/grafana-dashboard.json use that is not the
 * consumer's exists in the producer's registry, wired as ProducerService wires it (MonitoringIT
 * checks the same against a running producer's /metrics).
 */
class DeployFilesTest {

    static String producerExposition() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().commonTags("durable", "test-durable");
        try (ProcessMeters process = ProcessMeters.bind(registry)) {
            ProducerMetrics metrics = new ProducerMetrics(registry, Clock.systemUTC()); // held: gauges keep weak references
            metrics.expect(List.of("public.orders"));
            HikariConfig hc = new HikariConfig();
            hc.setPoolName(ProducerConfig.SERVICE);
            hc.setJdbcUrl("jdbc:postgresql://127.0.0.1:1/none");
            hc.setInitializationFailTimeout(-1);
            hc.setMinimumIdle(0);
            try (HealthServer health = HealthServer.start("127.0.0.1", 0, List.of(), registry);
                 HikariDataSource pool = new HikariDataSource(process.track(hc))) {
                String text = registry.scrape();
                assertThat(metrics).isNotNull();
                return text;
            }
        }
    }

    @Test
    void shouldUseOnlyMetricsTheProducerRegisters() throws Exception {
        Set<String> registered = DeployFiles.sampleNames(producerExposition());
        Set<String> missing = new TreeSet<>();
        for (String name : DeployFiles.metricNames()) {
            if (!name.startsWith("vrsky_consumer_") && !registered.contains(name)) {
                missing.add(name);
            }
        }
        assertThat(missing).as("metrics the deploy files use that the producer does not register").isEmpty();
    }

    @Test
    void shouldRegisterEveryProducerMeterAtStartWithTheDurableLabel() throws Exception {
        String text = producerExposition();
        assertThat(text).contains("vrsky_producer_dead_letters_total{class=\"sql\",durable=\"test-durable\"} 0.0",
                "vrsky_producer_dead_letters_total{class=\"validation\",durable=\"test-durable\"} 0.0",
                "vrsky_producer_rows_written_total{durable=\"test-durable\",op=\"INSERT\",table=\"public.orders\"} 0.0",
                "vrsky_producer_skipped_changes_total{durable=\"test-durable\"} 0.0",
                "vrsky_producer_paused{durable=\"test-durable\"} 0.0",
                "vrsky_producer_sink_lag_seconds_bucket{durable=\"test-durable\",le=\"0.01\"} 0",
                "vrsky_producer_sink_lag_seconds_bucket{durable=\"test-durable\",le=\"60.0\"} 0",
                "vrsky_ready{durable=\"test-durable\"} 1.0",
                "jvm_memory_used_bytes{", "process_uptime_seconds{",
                "hikaricp_connections_active{durable=\"test-durable\",pool=\"postgres-producer\"}");
    }
}
