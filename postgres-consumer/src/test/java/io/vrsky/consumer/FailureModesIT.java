package io.vrsky.consumer;

import io.vrsky.consumer.replication.ReplicationLoop;
import io.vrsky.consumer.replication.ReplicationLoop.Termination;
import io.vrsky.core.retry.Backoff;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** How the service ends when a dependency cannot be used: the exit code main would use, and why. */
@ExtendWith(RealServices.class)
class FailureModesIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Backoff SHORT = new Backoff(Duration.ofMillis(10), Duration.ofMillis(50), 2.0, 0.0, 3);

    private static Termination runUntilItGivesUp(Map<String, String> env) throws Exception {
        try (ConsumerService svc = ConsumerService.start(ConsumerConfig.fromEnv(env), SHORT)) {
            Termination t = svc.awaitTermination(Duration.ofSeconds(60));
            assertThat(t).as("the service gave up by itself").isNotNull();
            return t;
        }
    }

    /**
     * An unreachable NATS is retried for DEPENDENCY_RETRY_TIMEOUT, with readiness naming it and
     * one WARN rather than one per attempt, then the service ends with exit code 3 naming it.
     */
    @Test
    @Timeout(90)
    void shouldGiveUpWithExitCodeThreeWhenNatsStaysDownForTheRetryTimeout(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("natsdown");
        Map<String, String> env = ItSupport.env(pg, nats, pg.createDatabase(name), name);
        String url;
        try (ServerSocket closed = new ServerSocket(0)) {
            url = "nats://127.0.0.1:" + closed.getLocalPort();
        }
        env.put("NATS_URL", url);
        env.put("DEPENDENCY_RETRY_TIMEOUT", "10s");
        long started = System.nanoTime();
        try (LogLines log = LogLines.capture("io.vrsky.consumer.replication");
             ConsumerService svc = ItSupport.start(env)) {
            await("readiness names NATS").atMost(WAIT).until(() -> {
                var ready = ItSupport.http(svc.healthPort(), "/health/ready");
                return ready.statusCode() == 503 && ready.body().contains("NATS at " + url + " unreachable");
            });
            Termination t = svc.awaitTermination(Duration.ofSeconds(60));

            assertThat(t).as("the service gave up by itself").isNotNull();
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofSeconds(10));
            assertThat(t.exitCode()).isEqualTo(3);
            assertThat(t.reason()).startsWith("NATS at " + url + " still unreachable after 10s");
            assertThat(log.lines()).filteredOn(line -> line.startsWith("WARN ") && line.contains("NATS at")).hasSize(1);
        }
    }

    @Test
    @Timeout(120)
    void shouldGiveUpWithExitCodeThreeWhenPostgresStaysDownWhileStreaming(PostgresServer pg, NatsServer nats) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(pg.controllable(), "server given by URL");
        String name = ItSupport.unique("pgdown");
        String db = pg.createDatabase(name);
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        env.put("DEPENDENCY_RETRY_TIMEOUT", "10s");
        String target = "PostgreSQL at " + pg.host() + ":" + pg.port() + "/" + db;
        boolean down = false;
        try (ConsumerService svc = ItSupport.start(env)) {
            await("streaming").atMost(WAIT).until(() -> svc.state() == ReplicationLoop.State.STREAMING);
            pg.crash();
            down = true;
            await("readiness names PostgreSQL").atMost(WAIT).until(() -> {
                var ready = ItSupport.http(svc.healthPort(), "/health/ready");
                return ready.statusCode() == 503 && ready.body().contains(target + " unreachable");
            });
            Termination t = svc.awaitTermination(Duration.ofSeconds(60));

            assertThat(t).as("the service gave up by itself").isNotNull();
            assertThat(t.exitCode()).isEqualTo(3);
            assertThat(t.reason()).startsWith(target + " still unreachable after 10s");
        } finally {
            if (down) {
                pg.start();
            }
        }
    }

    @Test
    @Timeout(90)
    void shouldExplainAMissingReplicationPrivilege(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("noprivilege");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE ROLE role_" + name + " LOGIN");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        env.put("POSTGRES_INPUT_USER", "role_" + name);

        Termination t = runUntilItGivesUp(env);

        assertThat(t.exitCode()).isEqualTo(3);
        assertThat(t.reason()).contains("role_" + name).contains("REPLICATION privilege").contains("ALTER ROLE");
    }

    @Test
    @Timeout(90)
    void shouldTakeMembershipInRdsReplicationAsTheReplicationPrivilege(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("rdsrepl");
        String db = pg.createDatabase(name);
        // what Amazon RDS has: a role rds_replication whose members may replicate (plain PostgreSQL then refuses by itself)
        ItSupport.sql(pg, db, "DO $$ BEGIN CREATE ROLE rds_replication NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
                "CREATE ROLE role_" + name + " LOGIN", "GRANT rds_replication TO role_" + name);
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        env.put("POSTGRES_INPUT_USER", "role_" + name);

        Termination t = runUntilItGivesUp(env);

        assertThat(t.exitCode()).isEqualTo(3);
        assertThat(t.reason()).doesNotContain("lacks the REPLICATION privilege");
    }

    @Test
    @Timeout(90)
    void shouldNameATableThatDoesNotExist(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("notable");
        Map<String, String> env = ItSupport.env(pg, nats, pg.createDatabase(name), name);
        env.put("POSTGRES_INPUT_TABLES", "public.missing");

        Termination t = runUntilItGivesUp(env);

        assertThat(t.exitCode()).isEqualTo(2);
        assertThat(t.reason()).contains("POSTGRES_INPUT_TABLES").contains("public.missing");
    }
}
