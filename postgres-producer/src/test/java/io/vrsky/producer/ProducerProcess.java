package io.vrsky.producer;

import io.vrsky.testing.JavaCommand;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/** The shaded jar ({@code target/postgres-producer.jar}) run as a child process, as users run it. */
public final class ProducerProcess implements AutoCloseable {

    private final Process process;
    private final int healthPort;
    private final Path log;

    private ProducerProcess(Process process, int healthPort, Path log) {
        this.process = process;
        this.healthPort = healthPort;
        this.log = log;
    }

    public static Path jar() {
        Path base = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
        Path jar = base.resolve("target/postgres-producer.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: run the integration tests after 'package' (mvn verify)");
        }
        return jar;
    }

    /** Starts the jar with exactly {@code env} (plus PATH) and waits until /health/ready answers 200. */
    public static ProducerProcess start(Map<String, String> env, String name, String... jvmOptions) throws IOException {
        return start(env, name, jar(), jvmOptions);
    }

    /** As {@link #start(Map, String, String...)}, with another build of the jar (the benchmark compares two). */
    public static ProducerProcess start(Map<String, String> env, String name, Path jar, String... jvmOptions) throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path logs = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).resolve("target/it-logs");
        Files.createDirectories(logs);
        Path log = logs.resolve(name + ".log");
        ProcessBuilder builder = new ProcessBuilder(JavaCommand.forJar(jar, List.of(jvmOptions))).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().clear();
        builder.environment().put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        builder.environment().putAll(env);
        builder.environment().put("HEALTH_PORT", Integer.toString(port));
        ProducerProcess p = new ProducerProcess(builder.start(), port, log);
        await("producer process ready").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                .until(() -> {
                    if (!p.process.isAlive()) {
                        throw new IllegalStateException("producer exited with " + p.process.exitValue() + ":\n" + p.log());
                    }
                    return p.status("/health/ready") == 200;
                });
        return p;
    }

    public int status(String path) throws IOException, InterruptedException {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + healthPort + path))
                .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    public String log() throws IOException {
        return Files.readString(log);
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    /** SIGKILL, like kill -9. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM, then the exit code. */
    public int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("producer did not stop within 60 s after SIGTERM");
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}
