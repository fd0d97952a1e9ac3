package io.vrsky.testing;

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
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A service jar run as a user runs it: {@code java <options> -jar <jar>} in a child process with
 * exactly the given environment (plus {@code PATH}), stdout and stderr appended to one log file,
 * {@code HEALTH_PORT} picked free unless given. Nothing is awaited on start: tests that expect the
 * process to refuse to start read {@link #awaitExit(Duration)} and {@link #log()}.
 *
 * <p>Used by one test thread; {@link #close()} kills what is still running.
 */
public final class JarProcess implements AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    private final Process process;
    private final Path log;
    private final int healthPort;

    private JarProcess(Process process, Path log, int healthPort) {
        this.process = process;
        this.log = log;
        this.healthPort = healthPort;
    }

    /**
     * The jar {@code target/<module>.jar} of the module under test (Maven's {@code basedir}).
     *
     * @throws IllegalStateException when it was not built yet (run integration tests after {@code package})
     */
    public static Path moduleJar(String module) {
        Path base = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
        Path jar = base.resolve("target").resolve(module + ".jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: run the integration tests after 'package' (mvn verify)");
        }
        return jar;
    }

    /** Starts {@code jar} with {@code env}; output goes to {@code target/it-logs/<name>.log} (appended). */
    public static JarProcess start(Path jar, Map<String, String> env, String name, String... jvmOptions) throws IOException {
        Map<String, String> full = new HashMap<>(env);
        int port = full.containsKey("HEALTH_PORT") ? Integer.parseInt(full.get("HEALTH_PORT")) : freePort();
        full.put("HEALTH_PORT", Integer.toString(port));
        Path logs = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).resolve("target/it-logs");
        Files.createDirectories(logs);
        Path log = logs.resolve(name + ".log");
        ProcessBuilder builder = new ProcessBuilder(JavaCommand.forJar(jar, List.of(jvmOptions))).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().clear();
        builder.environment().put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        builder.environment().putAll(full);
        return new JarProcess(builder.start(), log, port);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** The exit code once the process ended within {@code timeout}, else empty (it keeps running). */
    public Optional<Integer> awaitExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? Optional.of(process.exitValue()) : Optional.empty();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    /** SIGKILL, like a crash, and waits (up to 30 s) until the process is gone. */
    public void kill9() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("pid " + process.pid() + " did not die within 30 s of SIGKILL");
        }
    }

    /** SIGSTOP: the process is frozen (its sockets stay open) until {@link #resume()}. */
    public void pause() {
        signal(process.pid(), "STOP");
    }

    /** SIGCONT after {@link #pause()}. */
    public void resume() {
        signal(process.pid(), "CONT");
    }

    /** Sends {@code SIG<name>} (STOP, CONT, TERM, ...) to {@code pid} with {@code kill -<name>}. */
    public static void signal(long pid, String name) {
        Processes.run(null, List.of("kill", "-" + name, Long.toString(pid)), Duration.ofSeconds(10));
    }

    /** Everything the process wrote so far. */
    public String log() throws IOException {
        return Files.readString(log, StandardCharsets.UTF_8);
    }

    /** The non-blank lines the process wrote so far. */
    public List<String> logLines() throws IOException {
        return Files.readAllLines(log, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
    }

    /** {@code GET path} on the health port: the response, or empty when nothing answers. */
    public Optional<HttpResponse<String>> http(String path) throws InterruptedException {
        try {
            return Optional.of(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + healthPort + path))
                    .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString()));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** SIGTERM, then the exit code (SIGKILL and an exception after 60 s). */
    public int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("the process did not stop within 60 s after SIGTERM");
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
