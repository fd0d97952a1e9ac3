package io.vrsky.consumer;

import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.Nats;
import io.vrsky.testing.JarProcess;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A PostgreSQL that refuses the login, or lacks the database, is permanent: the consumer jar exits 3
 * within 15 s with PostgreSQL's own message, before it touches NATS.
 */
@ExtendWith(RealServices.class)
class StartupRefusalIT {

    private static final Duration REFUSAL_LIMIT = Duration.ofSeconds(15);

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
        String name = ItSupport.unique("norole");
        Map<String, String> env = ItSupport.env(pg, nats, pg.createDatabase(name), name);
        env.put("POSTGRES_INPUT_USER", "role_" + name);
        env.remove("HEALTH_PORT");

        try (JarProcess p = JarProcess.start(JarProcess.moduleJar("postgres-consumer"), env, name)) {
            Optional<Integer> exit = p.awaitExit(REFUSAL_LIMIT);

            assertThat(exit).as("exited within 15 s:\n%s", p.log()).contains(3);
            assertThat(p.log()).contains("role \"role_" + name + "\" does not exist").doesNotContain("Connection is not available");
            assertThat(lastLine(p.logLines())).contains("stopped (exit 3)");
            assertThat(streamExists(nats, env.get("NATS_STREAM"))).as("PostgreSQL is checked before NATS").isFalse();
        }
    }

    @Test
    @Timeout(60)
    void shouldExitThreeWithPostgresOwnMessageWhenTheDatabaseDoesNotExist(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("nodb");
        Map<String, String> env = ItSupport.env(pg, nats, "db_" + name, name);
        env.remove("HEALTH_PORT");

        try (JarProcess p = JarProcess.start(JarProcess.moduleJar("postgres-consumer"), env, name)) {
            Optional<Integer> exit = p.awaitExit(REFUSAL_LIMIT);

            assertThat(exit).as("exited within 15 s:\n%s", p.log()).contains(3);
            assertThat(p.log()).contains("database \"db_" + name + "\" does not exist");
            assertThat(lastLine(p.logLines())).contains("stopped (exit 3)");
            assertThat(streamExists(nats, env.get("NATS_STREAM"))).as("PostgreSQL is checked before NATS").isFalse();
        }
    }
}
