package io.vrsky.testing;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;

import java.time.Duration;

/** The Testcontainers fallback, used only when no local binaries exist and a Docker engine answers. */
final class ContainerServices {

    private ContainerServices() {
    }

    static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    @SuppressWarnings("resource")
    static GenericContainer<?> postgres() {
        GenericContainer<?> c = new GenericContainer<>("postgres:15-alpine")
                .withEnv("POSTGRES_PASSWORD", "postgres")
                .withCommand("postgres", "-c", "wal_level=logical", "-c", "max_replication_slots=64",
                        "-c", "max_wal_senders=64", "-c", "max_connections=300", "-c", "fsync=off")
                .withExposedPorts(5432)
                .waitingFor(Wait.forLogMessage(".*database system is ready to accept connections.*", 2)
                        .withStartupTimeout(Duration.ofMinutes(2)));
        c.start();
        return c;
    }

    @SuppressWarnings("resource")
    static GenericContainer<?> nats() {
        GenericContainer<?> c = new GenericContainer<>("nats:2.10-alpine")
                .withCommand("-js")
                .withExposedPorts(4222)
                .waitingFor(Wait.forLogMessage(".*Server is ready.*", 1));
        c.start();
        return c;
    }
}
