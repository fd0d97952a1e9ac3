package io.vrsky.producer;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.Nats;
import io.vrsky.core.service.ExitCode;
import io.vrsky.core.service.ServiceFailure;
import io.vrsky.testing.JarProcess;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Start-up refusals: a PostgreSQL that refuses the login or lacks the database ends the producer
 * with exit 3 and PostgreSQL's own message within 15 s, before anything is created in JetStream; a
 * NATS that stays unreachable ends it with exit 3 after DEPENDENCY_RETRY_TIMEOUT, naming the URL in
 * /health/ready meanwhile and without a storm of warnings.
 */
@ExtendWith(RealServices.class)
class StartupRefusalIT {

    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final Duration REFUSAL_LIMIT = Duration.ofSeconds(15);

    private static String unique(String prefix) {
        return prefix + COUNTER.incrementAndGet() + "x" + ProcessHandle.current().pid();
    }

    private static Map<String, String> env(PostgresServer pg, NatsServer nats, String database, String name) {
        Map<String, String> env = new HashMap<>(pg.envFor("OUTPUT", database));
        env.put("POSTGRES_OUTPUT_TABLES", "t");
        env.put("NATS_URL", nats.url());
        env.put("NATS_STREAM", "IT_" + name.toUpperCase());
        env.put("NATS_SUBJECT", "it." + name + ".cdc");
        env.put("NATS_DURABLE", "producer-" + name);
        env.put("NATS_DLQ_SUBJECT", "vrsky.dlq." + name);
        return env;
    }

    private static boolean streamExists(NatsServer nats, String stream) throws Exception {
        try (Connection nc = Nats.connect(nats.url())) {
            nc.jetStreamManagement().getStreamInfo(stream);
            return true;
        } catch (JetStreamApiException e) {
            return false;
        }
    }

    private static String lastLine(List<String> lines) {
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    }

    @Test
    @Timeout(60)
    void shouldExitThreeWithPostgresOwnMessageWhenTheRoleDoesNotExist(PostgresServer pg, NatsServer nats) throws Exception {
        String name = unique("norole");
        Map<String, String> env = env(pg, nats, pg.createDatabase(name), name);
        env.put("POSTGRES_OUTPUT_USER", "role_" + name);

        try (JarProcess p = JarProcess.start(JarProcess.moduleJar("postgres-producer"), env, name)) {
            Optional<Integer> exit = p.awaitExit(REFUSAL_LIMIT);

            assertThat(exit).as("exited within 15 s:\n%s", p.log()).contains(3);
            assertThat(p.log()).contains("role \"role_" + name + "\" does not exist").doesNotContain("Connection is not available");
            assertThat(lastLine(p.logLines())).contains("stopped (exit 3)").contains("role \"role_" + name + "\" does not exist");
            assertThat(streamExists(nats, env.get("NATS_STREAM"))).as("nothing created in JetStream").isFalse();
        }
    }

    @Test
    @Timeout(60)
    void shouldExitThreeWithPostgresOwnMessageWhenTheDatabaseDoesNotExist(PostgresServer pg, NatsServer nats) throws Exception {
        String name = unique("nodb");
        Map<String, String> env = env(pg, nats, "db_" + name, name);

        try (JarProcess p = JarProcess.start(JarProcess.moduleJar("postgres-producer"), env, name)) {
            Optional<Integer> exit = p.awaitExit(REFUSAL_LIMIT);

            assertThat(exit).as("exited within 15 s:\n%s", p.log()).contains(3);
            assertThat(p.log()).contains("database \"db_" + name + "\" does not exist");
            assertThat(lastLine(p.logLines())).contains("stopped (exit 3)");
        }
    }

    @Test
    @Timeout(60)
    void shouldRefuseAMissingRoleInProcessWithPostgresOwnMessage(PostgresServer pg, NatsServer nats) throws Exception {
        String name = unique("norolein");
        Map<String, String> env = env(pg, nats, pg.createDatabase(name), name);
        env.put("POSTGRES_OUTPUT_USER", "role_" + name);
        env.put("HEALTH_PORT", "0");
        ProducerService service = new ProducerService(ProducerConfig.fromEnv(env), Clock.systemUTC(),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        long started = System.nanoTime();
        try {
            assertThatThrownBy(service::start).isInstanceOf(ServiceFailure.class)
                    .hasMessageContaining("role \"role_" + name + "\" does not exist")
                    .satisfies(e -> assertThat(((ServiceFailure) e).exitCode()).isEqualTo(ExitCode.DEPENDENCY));
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(REFUSAL_LIMIT);
        } finally {
            service.shutdown();
        }
    }

    @Test
    @Timeout(120)
    void shouldExitThreeWhenNatsStaysUnreachableAndNameItInReadinessMeanwhile(PostgresServer pg, NatsServer nats) throws Exception {
        String name = unique("nonats");
        Map<String, String> env = env(pg, nats, pg.createDatabase(name), name);
        String url;
        try (ServerSocket closed = new ServerSocket(0)) {
            url = "nats://127.0.0.1:" + closed.getLocalPort();
        }
        env.put("NATS_URL", url);
        env.put("DEPENDENCY_RETRY_TIMEOUT", "10s");

        try (JarProcess p = JarProcess.start(JarProcess.moduleJar("postgres-producer"), env, name)) {
            await("readiness names the NATS URL").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                    .until(() -> p.http("/health/ready").filter(r -> r.statusCode() == 503).map(HttpResponse::body)
                            .filter(body -> body.contains(url)).isPresent());
            Optional<Integer> exit = p.awaitExit(Duration.ofSeconds(40));

            assertThat(exit).as("gave up after DEPENDENCY_RETRY_TIMEOUT:\n%s", p.log()).contains(3);
            List<String> lines = p.logLines();
            assertThat(lines.stream().filter(l -> l.contains(" WARN ")).count()).as("warnings:\n%s", p.log()).isLessThanOrEqualTo(3);
            assertThat(lastLine(lines)).contains("stopped (exit 3)").contains(url).contains("still unreachable after 10s");
        }
    }
}
