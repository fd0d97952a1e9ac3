package io.vrsky.core.health;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

class HealthServerTest {

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> get(HealthServer server, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldServeLivenessReadinessAndMetrics() throws Exception {
        AtomicReference<Optional<String>> nats = new AtomicReference<>(Optional.of("not connected"));
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.counter("vrsky_test_events").increment(3);
        try (HealthServer server = HealthServer.start(0, List.of(ReadinessCheck.of("postgres", Optional::empty),
                ReadinessCheck.of("nats", nats::get)), registry)) {
            assertThat(get(server, "/health/live").statusCode()).isEqualTo(200);

            HttpResponse<String> notReady = get(server, "/health/ready");
            assertThat(notReady.statusCode()).isEqualTo(503);
            assertThat(notReady.body()).contains("\"nats\":\"not connected\"").contains("\"postgres\":\"UP\"").contains("\"status\":\"DOWN\"");

            nats.set(Optional.empty());
            HttpResponse<String> ready = get(server, "/health/ready");
            assertThat(ready.statusCode()).isEqualTo(200);
            assertThat(ready.body()).contains("\"status\":\"UP\"");

            HttpResponse<String> metrics = get(server, "/metrics");
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body()).contains("vrsky_test_events_total 3.0");
        }
    }

    @Test
    void shouldReportAFailingCheckAsNotReady() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (HealthServer server = HealthServer.start(0, List.of(ReadinessCheck.of("boom", () -> {
            throw new IllegalStateException("broken check");
        })), registry)) {
            HttpResponse<String> r = get(server, "/health/ready");
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.body()).contains("broken check");
        }
    }
}
