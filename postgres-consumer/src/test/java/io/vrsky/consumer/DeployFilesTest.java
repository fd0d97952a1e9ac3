package io.vrsky.consumer;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vrsky.consumer.monitor.Heartbeat;
import io.vrsky.consumer.monitor.SideConnection;
import io.vrsky.consumer.monitor.SlotMonitor;
import io.vrsky.consumer.snapshot.SnapshotMetrics;
import io.vrsky.core.health.HealthServer;
import io.vrsky.core.metrics.ProcessMeters;
import io.vrsky.core.model.Operation;
import io.vrsky.core.model.TableId;
import io.vrsky.testing.DeployFiles;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * deploy/prometheus-alerts.yml and deploy/grafana-dashboard.json parse, and every metric they use
 * that is not the producer's exists in the consumer's registry, wired as the service wires it
 * (MonitoringIT checks the same against a running consumer's /metrics).
 */
class DeployFilesTest {

    /** The consumer's meters as ConsumerService registers them, scraped; nothing connects anywhere. */
    static String consumerExposition() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().commonTags("slot", "test_slot");
        Clock clock = Clock.systemUTC();
        try (ProcessMeters process = ProcessMeters.bind(registry)) {
            ConsumerMetrics metrics = new ConsumerMetrics(registry, clock);
            metrics.expect(List.of(new TableId("public", "orders")), EnumSet.of(Operation.INSERT, Operation.UPDATE));
            // held until the scrape: gauges keep weak references to what they read
            List<Object> held = List.of(metrics, new SnapshotMetrics(registry), side(registry, clock));
            ((SnapshotMetrics) held.get(1)).rows("public.orders", 0);
            HikariConfig hc = new HikariConfig();
            hc.setPoolName("consumer-catalog");
            hc.setJdbcUrl("jdbc:postgresql://127.0.0.1:1/none");
            hc.setInitializationFailTimeout(-1);
            hc.setMinimumIdle(0);
            try (HealthServer health = HealthServer.start("127.0.0.1", 0, List.of(), registry);
                 HikariDataSource pool = new HikariDataSource(process.track(hc))) {
                String text = registry.scrape();
                assertThat(held).hasSize(3);
                return text;
            }
        }
    }

    private static List<Object> side(PrometheusMeterRegistry registry, Clock clock) {
        SideConnection side = new SideConnection(new PGSimpleDataSource());
        return List.of(new SlotMonitor(side, "test_slot", registry, clock), new Heartbeat(side, Duration.ofSeconds(10), registry, clock));
    }

    @Test
    void shouldParseBothFilesAndUseOnlyMetricsTheServicesRegister() throws Exception {
        assertThat(DeployFiles.alerts().path("groups").get(0).path("rules")).hasSizeGreaterThanOrEqualTo(5);
        assertThat(DeployFiles.dashboard().path("panels")).isNotEmpty();
        Set<String> used = DeployFiles.metricNames();
        assertThat(used).contains("vrsky_consumer_slot_retained_wal_bytes", "vrsky_consumer_publish_lag_seconds_bucket",
                "vrsky_producer_sink_lag_seconds_bucket", "vrsky_producer_dead_letters_total", "vrsky_ready", "vrsky_producer_paused");

        Set<String> registered = DeployFiles.sampleNames(consumerExposition());
        Set<String> missing = new TreeSet<>();
        for (String name : used) {
            if (!name.startsWith("vrsky_producer_") && !registered.contains(name)) {
                missing.add(name);
            }
        }
        assertThat(missing).as("metrics the deploy files use that the consumer does not register").isEmpty();
    }

    @Test
    void shouldFindMetricNamesInPromQl() {
        assertThat(DeployFiles.metricNames("histogram_quantile(0.99, sum by (le, slot) (rate(a_b_bucket{x=\"y\"}[5m]))) > 30"))
                .containsExactly("a_b_bucket");
        assertThat(DeployFiles.metricNames("delta(x_bytes[1h]) > 1024 * 1e3 and y_total > 0")).containsExactly("x_bytes", "y_total");
    }

    @Test
    void shouldRegisterEveryConsumerMeterAtStartWithTheSlotLabel() throws Exception {
        String text = consumerExposition();
        assertThat(text).contains("vrsky_consumer_changes_published_total{op=\"INSERT\",slot=\"test_slot\",table=\"public.orders\"} 0.0",
                "vrsky_consumer_dlq_total{slot=\"test_slot\"} 0.0",
                "vrsky_consumer_transactions_published_total{slot=\"test_slot\"} 0.0",
                "vrsky_consumer_heartbeats_total{slot=\"test_slot\"} 0.0",
                "vrsky_consumer_publish_lag_seconds_bucket{slot=\"test_slot\",le=\"0.01\"} 0",
                "vrsky_consumer_publish_lag_seconds_bucket{slot=\"test_slot\",le=\"60.0\"} 0",
                "vrsky_consumer_slot_retained_wal_bytes{slot=\"test_slot\"} -1.0",
                "vrsky_consumer_slot_wal_status{slot=\"test_slot\",status=\"lost\"} 0.0",
                "vrsky_ready{slot=\"test_slot\"} 1.0",
                "jvm_memory_used_bytes{", "jvm_threads_live_threads{", "jvm_classes_loaded_classes{", "process_cpu_usage{",
                "process_uptime_seconds{", "hikaricp_connections_active{pool=\"consumer-catalog\",slot=\"test_slot\"}");
    }
}
