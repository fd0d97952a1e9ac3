package io.vrsky.producer;

import io.vrsky.testing.JavaCommand;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.vrsky.producer.Envelopes.insert;
import static io.vrsky.producer.Envelopes.lsn;
import static io.vrsky.producer.Envelopes.message;
import static io.vrsky.producer.Envelopes.row;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

@ExtendWith(RealServices.class)
@Timeout(180)
class GracefulShutdownIT {

    @Test
    void shouldCommitAndAcknowledgeWhatItHoldsAndExitZeroOnSigterm(PostgresServer pg, NatsServer nats) throws Exception {
        int total = 3000;
        try (ProducerHarness h = new ProducerHarness(pg, nats, "sigterm")) {
            h.sql("CREATE TABLE journal (tx int)");
            h.env("POSTGRES_OUTPUT_TABLES", "journal").env("POSTGRES_OUTPUT_BATCH_SIZE", "20");
            for (int n = 1; n <= total; n++) {
                h.publish(message("src", insert("journal", lsn(n), row("tx", n))));
            }
            try (ProducerProcess process = ProducerProcess.start(h.env(), h.name)) {
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10))
                        .until(() -> h.count("SELECT count(*) FROM journal") > 0);

                assertThat(process.terminate()).isZero();
                assertThat(process.log()).contains("draining", "stopped (exit 0)");
            }
            // nothing in limbo: every applied message acknowledged, every acknowledged one applied
            long applied = h.count("SELECT count(*) FROM journal");
            assertThat(h.consumer().getNumAckPending()).isZero();
            assertThat(h.consumer().getAckFloor().getStreamSequence()).isEqualTo(applied);

            h.start();
            await().atMost(Duration.ofSeconds(30)).until(h::allAcked);
            assertThat(h.count("SELECT count(*) FROM journal")).isEqualTo(total);
            assertThat(h.count("SELECT count(DISTINCT tx) FROM journal")).isEqualTo(total);
        }
    }

    @Test
    void shouldExitTwoNamingEveryBadVariable() throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("POSTGRES_OUTPUT_HOST", "localhost");
        env.put("POSTGRES_OUTPUT_BATCH_SIZE", "5000");
        env.put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        Path out = Files.createTempFile("producer-config", ".log");
        ProcessBuilder builder = new ProcessBuilder(JavaCommand.forJar(ProducerProcess.jar(), List.of())).redirectErrorStream(true).redirectOutput(out.toFile());
        builder.environment().clear();
        builder.environment().putAll(env);
        Process process = builder.start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();

        assertThat(process.exitValue()).isEqualTo(2);
        assertThat(Files.readAllLines(out)).contains(
                "invalid configuration: POSTGRES_OUTPUT_USER is required (the sink PostgreSQL user)",
                "invalid configuration: POSTGRES_OUTPUT_BATCH_SIZE=5000 is out of range: allowed 1..1000")
                .anySatisfy(l -> assertThat(l).startsWith("invalid configuration: POSTGRES_OUTPUT_TABLES is required"));
        Files.deleteIfExists(out);
    }
}
