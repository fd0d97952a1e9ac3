package io.vrsky.consumer;

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

/** How the service ends when a dependency cannot be used: the exit code main would use, and why. */
@ExtendWith(RealServices.class)
class FailureModesIT {

    private static final Backoff SHORT = new Backoff(Duration.ofMillis(10), Duration.ofMillis(50), 2.0, 0.0, 3);

    private static Termination runUntilItGivesUp(Map<String, String> env) throws Exception {
        try (ConsumerService svc = ConsumerService.start(ConsumerConfig.fromEnv(env), SHORT)) {
            Termination t = svc.awaitTermination(Duration.ofSeconds(60));
            assertThat(t).as("the service gave up by itself").isNotNull();
            return t;
        }
    }

    @Test
    @Timeout(90)
    void shouldGiveUpWithExitCodeThreeWhenNatsStaysDown(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("natsdown");
        Map<String, String> env = ItSupport.env(pg, nats, pg.createDatabase(name), name);
        try (ServerSocket closed = new ServerSocket(0)) {
            env.put("NATS_URL", "nats://127.0.0.1:" + closed.getLocalPort());
        }

        Termination t = runUntilItGivesUp(env);

        assertThat(t.exitCode()).isEqualTo(3);
        assertThat(t.reason()).startsWith("NATS still unavailable after retries");
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
    void shouldNameATableThatDoesNotExist(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("notable");
        Map<String, String> env = ItSupport.env(pg, nats, pg.createDatabase(name), name);
        env.put("POSTGRES_INPUT_TABLES", "public.missing");

        Termination t = runUntilItGivesUp(env);

        assertThat(t.exitCode()).isEqualTo(2);
        assertThat(t.reason()).contains("POSTGRES_INPUT_TABLES").contains("public.missing");
    }
}
