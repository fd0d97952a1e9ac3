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

    private HttpResponse<String> send(HealthServer server, String method, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldAnswerHeadWithHeadersOnlyOtherMethodsWith405AndMatchPathsExactly() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (HealthServer server = HealthServer.start("127.0.0.1", 0, List.of(ReadinessCheck.of("postgres", Optional::empty)),
                registry)) {
            HttpResponse<String> head = send(server, "HEAD", "/health/ready");
            assertThat(head.statusCode()).isEqualTo(200);
            assertThat(head.headers().firstValue("Content-Type")).contains("application/json");
            assertThat(head.body()).isEmpty();
            assertThat(send(server, "HEAD", "/metrics").statusCode()).isEqualTo(200);

            HttpResponse<String> post = send(server, "POST", "/health/live");
            assertThat(post.statusCode()).isEqualTo(405);
            assertThat(post.headers().firstValue("Allow")).contains("GET, HEAD");
            assertThat(send(server, "DELETE", "/metrics").statusCode()).isEqualTo(405);

            assertThat(get(server, "/health/readyX").statusCode()).isEqualTo(404);
            assertThat(get(server, "/health/live/").statusCode()).isEqualTo(404);
            assertThat(get(server, "/metricsfoo").statusCode()).isEqualTo(404);
            assertThat(get(server, "/").statusCode()).isEqualTo(404);
            assertThat(get(server, "/health/ready").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void shouldExportReadinessAsAGauge() throws Exception {
        AtomicReference<Optional<String>> nats = new AtomicReference<>(Optional.of("not connected"));
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (HealthServer server = HealthServer.start(0, List.of(ReadinessCheck.of("nats", nats::get)), registry)) {
            assertThat(get(server, "/metrics").body()).contains("vrsky_ready 0.0");
            nats.set(Optional.empty());
            assertThat(get(server, "/metrics").body()).contains("vrsky_ready 1.0");
        }
    }

    @Test
    void shouldListenOnlyOnTheBoundAddress() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (HealthServer server = HealthServer.start("127.0.0.1", 0, List.of(), registry)) {
            assertThat(server.address().getAddress().isLoopbackAddress()).isTrue();
            assertThat(get(server, "/health/live").statusCode()).isEqualTo(200);
        }
    }
}
