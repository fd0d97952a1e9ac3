package io.vrsky.pipeline;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.vrsky.testing.JavaCommand;

import static org.awaitility.Awaitility.await;

/**
 * One of the service jars run as a user runs it: {@code java <JVM_OPTIONS> -jar <jar>} in a child
 * process, configured only through its environment, output appended to a log file under
 * {@code target/pipeline-logs}, readiness read from {@code GET /health/ready}.
 *
 * <p>{@link #stop()} sends SIGTERM (a clean drain, exit 0 expected); {@link #kill()} sends SIGKILL.
 * The same instance can be started again after either, with the same environment and log file.
 */
final class ServiceProcess implements AutoCloseable {

    /** The image's JVM options (docker/service.Dockerfile) with the heap the benchmark uses. */
    private static final List<String> JVM_OPTIONS = List.of("-Xmx256m", "-XX:+UseSerialGC");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    private final String name;
    private final Path jar;
    private final Map<String, String> env;
    private final Path log;
    private final int healthPort;
    private final List<String> jvmOptions;
    private Process process;

    private ServiceProcess(String name, Path jar, Map<String, String> env, Path log, List<String> jvmOptions) {
        this.name = name;
        this.jar = jar;
        this.log = log;
        this.jvmOptions = List.copyOf(jvmOptions);
        this.healthPort = Integer.parseInt(env.computeIfAbsent("HEALTH_PORT", k -> Integer.toString(freePort())));
        this.env = Map.copyOf(env);
    }

    static ServiceProcess consumer(Map<String, String> env, Path logDir) {
        return new ServiceProcess("consumer", jar("vrsky.consumer.jar", "postgres-consumer"), new HashMap<>(env),
                logDir.resolve("consumer.log"), JVM_OPTIONS);
    }

    static ServiceProcess producer(Map<String, String> env, Path logDir) {
        return producer("producer", env, logDir);
    }

    /** A producer named {@code name} (its log {@code <name>.log}): a second instance of the same durable, say. */
    static ServiceProcess producer(String name, Map<String, String> env, Path logDir) {
        Map<String, String> own = new HashMap<>(env);
        own.remove("HEALTH_PORT");
        return new ServiceProcess(name, jar("vrsky.producer.jar", "postgres-producer"), own, logDir.resolve(name + ".log"), JVM_OPTIONS);
    }

    /** A consumer named {@code name} (its log {@code <name>.log}): a standby on the same slot, say. */
    static ServiceProcess consumer(String name, Map<String, String> env, Path logDir) {
        Map<String, String> own = new HashMap<>(env);
        own.remove("HEALTH_PORT");
        return new ServiceProcess(name, jar("vrsky.consumer.jar", "postgres-consumer"), own, logDir.resolve(name + ".log"), JVM_OPTIONS);
    }

    private static Path jar(String property, String module) {
        String configured = System.getProperty(property);
        Path path = configured != null ? Path.of(configured) : Path.of("..", module, "target", module + ".jar");
        if (!Files.isRegularFile(path)) {
            throw new IllegalStateException(path.toAbsolutePath().normalize() + " is missing: build it first with "
                    + "`mvn -q install -DskipTests` in the project root");
        }
        return path.toAbsolutePath().normalize();
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free port: " + e.getMessage(), e);
        }
    }

    String name() {
        return name;
    }

    Path log() {
        return log;
    }

    /** Starts the process (appending to its log) and returns at once. */
    synchronized ServiceProcess start() {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException(name + " is already running");
        }
        ProcessBuilder builder = new ProcessBuilder(JavaCommand.forJar(jar, jvmOptions)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().putAll(env);
        try {
            Files.createDirectories(log.getParent());
            Files.writeString(log, "==== start " + name + " " + java.time.Instant.now() + "\n", StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            process = builder.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + name + ": " + e.getMessage(), e);
        }
        return this;
    }

    /** Starts the process and waits until {@code /health/ready} answers 200. */
    ServiceProcess startAndAwaitReady() {
        start();
        awaitReady();
        return this;
    }

    void awaitReady() {
        try {
            await(name + " ready on :" + healthPort).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                    .until(() -> {
                        if (!isAlive()) {
                            throw new AssertionError(name + " exited with " + process.exitValue() + " before it was ready:\n" + logTail());
                        }
                        return readyStatus() == 200;
                    });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(e.getMessage() + "\n--- " + name + " readiness: " + readyBody() + "\n--- " + name + " log\n" + logTail(), e);
        }
    }

    /** HTTP status of {@code /health/ready}, or -1 when nothing answers. */
    int readyStatus() {
        try {
            HttpResponse<Void> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + healthPort + "/health/ready"))
                    .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.discarding());
            return response.statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** The body of {@code /health/ready} (the JSON naming what is not ready), or empty when nothing answers. */
    String readyBody() {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + healthPort + "/health/ready"))
                    .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    /** The Prometheus text of {@code /metrics}, or empty when nothing answers. */
    String metrics() {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + healthPort + "/metrics"))
                    .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    synchronized boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** SIGTERM, then waits for the exit; returns the exit code (or throws after 60 s). */
    synchronized int stop() {
        if (process == null) {
            return 0;
        }
        process.destroy();
        return awaitExit(Duration.ofSeconds(60));
    }

    /** SIGKILL, like a crash, and waits for the process to be gone. */
    synchronized void kill() {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        awaitExit(Duration.ofSeconds(30));
    }

    private int awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError(name + " did not exit within " + timeout + ":\n" + logTail());
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IllegalStateException("interrupted waiting for " + name, e);
        }
    }

    long pid() {
        return process.pid();
    }

    /** SIGSTOP: frozen, sockets open, until {@link #resume()}. */
    synchronized void pause() {
        io.vrsky.testing.JarProcess.signal(process.pid(), "STOP");
    }

    /** SIGCONT after {@link #pause()}. */
    synchronized void resume() {
        io.vrsky.testing.JarProcess.signal(process.pid(), "CONT");
    }

    /** The exit code when the process has ended, else -1. */
    synchronized int exitCode() {
        return process == null || process.isAlive() ? -1 : process.exitValue();
    }

    /** The last 60 lines of the log, for failure messages. */
    String logTail() {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** Whether the log contains {@code text} (e.g. to check that a secret never appears). */
    boolean logContains(String text) {
        try {
            return Files.readString(log, StandardCharsets.UTF_8).contains(text);
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public synchronized void close() {
        if (process != null && process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return name + "(" + jar.getFileName() + ", health :" + healthPort + ")";
    }
}
