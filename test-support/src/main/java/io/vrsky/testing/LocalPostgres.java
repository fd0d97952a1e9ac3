package io.vrsky.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A private PostgreSQL cluster from the local server binaries: initdb into a temp directory,
 * {@code wal_level=logical}, a free port on 127.0.0.1, trust authentication. PostgreSQL refuses to
 * run as root, so when we are root every command runs as the {@code postgres} user.
 */
final class LocalPostgres implements ServerControl, AutoCloseable {

    private static final String OS_USER = "postgres";

    private final Path binDir;
    private final Path root;
    private final Path data;
    private final int port;

    private LocalPostgres(Path binDir, Path root, int port) {
        this.binDir = binDir;
        this.root = root;
        this.data = root.resolve("data");
        this.port = port;
    }

    /** The directory holding initdb and pg_ctl, if any PostgreSQL server is installed. */
    static Optional<Path> findBinaries() {
        String configured = System.getenv("VRSKY_TEST_PG_BIN");
        if (configured != null && !configured.isBlank()) {
            return Optional.of(Path.of(configured)).filter(p -> Files.isExecutable(p.resolve("initdb")));
        }
        Path debian = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(debian)) {
            try (Stream<Path> versions = Files.list(debian)) {
                Optional<Path> newest = versions.map(v -> v.resolve("bin"))
                        .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("pg_ctl")))
                        .max(Comparator.comparingInt(b -> versionOf(b.getParent())));
                if (newest.isPresent()) {
                    return newest;
                }
            } catch (IOException e) {
                // fall through to PATH lookup
                System.err.println("cannot list " + debian + ": " + e.getMessage());
            }
        }
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(java.io.File.pathSeparator)) {
            Path candidate = Path.of(dir);
            if (Files.isExecutable(candidate.resolve("initdb")) && Files.isExecutable(candidate.resolve("pg_ctl"))) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    private static int versionOf(Path dir) {
        try {
            return Integer.parseInt(dir.getFileName().toString());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    static LocalPostgres start(Path binDir) {
        try {
            Path root = Files.createTempDirectory("vrsky-pg-");
            LocalPostgres pg = new LocalPostgres(binDir, root, Processes.freePort());
            pg.init();
            pg.start();
            return pg;
        } catch (IOException e) {
            throw new IllegalStateException("cannot create a temp dir for PostgreSQL: " + e.getMessage(), e);
        }
    }

    private String runAs() {
        return Processes.isRoot() ? OS_USER : null;
    }

    private void init() throws IOException {
        if (Processes.isRoot()) {
            Processes.run(null, List.of("chown", "-R", OS_USER, root.toString()), Duration.ofSeconds(10));
        }
        Processes.run(runAs(), List.of(binDir.resolve("initdb").toString(), "-D", data.toString(), "-U", "postgres",
                "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"), Duration.ofMinutes(2));
        String conf = String.join("\n",
                "port = " + port,
                "listen_addresses = '127.0.0.1'",
                "unix_socket_directories = '" + root + "'",
                "wal_level = logical",
                "max_replication_slots = 64",
                "max_wal_senders = 64",
                "max_connections = 300",
                "fsync = off",
                "full_page_writes = off",
                "shared_buffers = 128MB",
                "max_wal_size = 2GB",
                "deadlock_timeout = 200ms",
                "wal_sender_timeout = 60s",
                "");
        Files.writeString(data.resolve("postgresql.auto.conf"), conf, java.nio.file.StandardOpenOption.APPEND);
    }

    int port() {
        return port;
    }

    @Override
    public boolean controllable() {
        return true;
    }

    @Override
    public void start() {
        Processes.run(runAs(), List.of(binDir.resolve("pg_ctl").toString(), "-D", data.toString(), "-l",
                root.resolve("server.log").toString(), "-w", "-t", "120", "start"), Duration.ofMinutes(3));
    }

    @Override
    public void stop() {
        Processes.run(runAs(), List.of(binDir.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate",
                "-w", "stop"), Duration.ofMinutes(1));
    }

    @Override
    public void close() {
        try {
            stop();
        } catch (IllegalStateException e) {
            System.err.println("PostgreSQL test cluster did not stop cleanly: " + e.getMessage());
        }
        Processes.deleteTree(root);
    }
}
