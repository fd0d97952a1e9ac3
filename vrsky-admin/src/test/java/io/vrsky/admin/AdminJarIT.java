package io.vrsky.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vrsky.testing.JavaCommand;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The shaded jar as an operator runs it: {@code java -jar vrsky-admin.jar ...}, stdout and stderr apart. */
@ExtendWith(RealServices.class)
@Timeout(120)
class AdminJarIT {

    /** What one run of the jar printed and how it ended. */
    record Run(int exit, String out, String err) {
    }

    @Test
    void shouldPrintOnlyTheStatusJsonOnStdoutWithAnyLocale(PostgresServer pg, NatsServer nats) throws Exception {
        try (World w = new World(pg, nats, "jar")) {
            w.createSlot();
            w.createStream(Duration.ofMinutes(2));
            Run r = run(World.with(w.env(), "LANG", "C", "LC_ALL", "C"), "status", "--json");
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(r.err()).isEmpty();
            JsonNode status = new ObjectMapper().readTree(r.out());
            assertThat(status.path("source").path("slots").get(0).path("name").asText()).isEqualTo(w.slot);
            assertThat(status.path("stream").path("name").asText()).isEqualTo(w.stream);
        }
    }

    @Test
    void shouldExit2WithOneLinePerBadVariableAndNoStackTrace() throws Exception {
        Run r = run(Map.of("POSTGRES_INPUT_HOST", "db", "POSTGRES_INPUT_PASSWORD", "jar-secret", "NATS_STREAM", "bad stream"), "status");
        assertThat(r.exit()).as(r.toString()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().lines()).containsExactly(
                "POSTGRES_INPUT_USER is required (a role with the REPLICATION privilege)",
                "POSTGRES_INPUT_DATABASE is required (the database to capture changes from)",
                "NATS_STREAM=bad stream is not a stream name: allowed letters, digits, _ and -");
        assertThat(r.err()).doesNotContain("jar-secret");
    }

    @Test
    void shouldExit3WithOneLineWhenNatsIsDownAndPrintNoLibraryLog() throws Exception {
        Run r = run(Map.of("NATS_URL", "nats://127.0.0.1:1"), "dlq", "list");
        assertThat(r.exit()).as(r.toString()).isEqualTo(3);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().lines()).containsExactly(
                "NATS at nats://127.0.0.1:1 unreachable: Unable to connect to NATS servers: [nats://127.0.0.1:1]");
    }

    private static Run run(Map<String, String> env, String... args) throws IOException, InterruptedException {
        Path jar = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).resolve("target/vrsky-admin.jar");
        assertThat(jar).as("the shaded jar (integration tests run after package)").isRegularFile();
        Path out = Files.createTempFile("vrsky-admin-out", ".txt");
        Path err = Files.createTempFile("vrsky-admin-err", ".txt");
        try {
            ProcessBuilder b = new ProcessBuilder(JavaCommand.forJar(jar, List.of(), List.of(args)));
            b.environment().clear();
            b.environment().put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
            b.environment().putAll(env);
            Process p = b.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("vrsky-admin did not end within 60 s");
            }
            return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
