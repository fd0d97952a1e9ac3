package io.vrsky.testing;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** A private {@code nats-server -js} on a free port with its own store directory. */
final class LocalNats implements ServerControl, AutoCloseable {

    private final Path binary;
    private final Path root;
    private final int port;
    private Process process;

    private LocalNats(Path binary, Path root, int port) {
        this.binary = binary;
        this.root = root;
        this.port = port;
    }

    static Optional<Path> findBinary() {
        String configured = System.getenv("VRSKY_TEST_NATS_BIN");
        if (configured != null && !configured.isBlank()) {
            return Optional.of(Path.of(configured)).filter(Files::isExecutable);
        }
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/sbin" + File.pathSeparator + "/usr/local/sbin";
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir, "nats-server");
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    static LocalNats start(Path binary) {
        try {
            LocalNats nats = new LocalNats(binary, Files.createTempDirectory("vrsky-nats-"), Processes.freePort());
            nats.start();
            return nats;
        } catch (IOException e) {
            throw new IllegalStateException("cannot create a temp dir for nats-server: " + e.getMessage(), e);
        }
    }

    String url() {
        return "nats://127.0.0.1:" + port;
    }

    @Override
    public boolean controllable() {
        return true;
    }

    @Override
    public synchronized void start() {
        try {
            process = new ProcessBuilder(List.of(binary.toString(), "-js", "-a", "127.0.0.1", "-p", Integer.toString(port),
                    "-sd", root.resolve("store").toString()))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(root.resolve("nats.log").toFile()))
                    .start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + binary + ": " + e.getMessage(), e);
        }
        Processes.awaitPort("127.0.0.1", port, Duration.ofSeconds(30));
    }

    @Override
    public synchronized void stop() {
        if (process != null) {
            process.destroyForcibly();
            try {
                process.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process = null;
        }
    }

    @Override
    public void close() {
        stop();
        Processes.deleteTree(root);
    }
}
