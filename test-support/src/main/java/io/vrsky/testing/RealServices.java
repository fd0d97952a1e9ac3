package io.vrsky.testing;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;

/**
 * JUnit 5 extension that injects a {@link PostgresServer} (wal_level=logical) and a
 * {@link NatsServer} (JetStream) into test methods and constructors. Each is found, in this order:
 * <ol>
 *   <li>from {@code VRSKY_TEST_POSTGRES_URL} ({@code postgresql://user:pass@host:port/db}) and
 *       {@code VRSKY_TEST_NATS_URL} ({@code nats://host:port});</li>
 *   <li>as a private instance started from local binaries ({@code initdb}/{@code pg_ctl},
 *       {@code nats-server}) on a free port;</li>
 *   <li>as a Testcontainers container when a Docker engine is reachable;</li>
 *   <li>else the test fails with {@link ServicesUnavailableException} saying how to provide one.</li>
 * </ol>
 * Servers start once per test JVM, on first use, and stop when the run ends.
 */
public final class RealServices implements ParameterResolver {

    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(RealServices.class);

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == PostgresServer.class || type == NatsServer.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        ExtensionContext.Store store = context.getRoot().getStore(NS);
        if (parameter.getParameter().getType() == PostgresServer.class) {
            return store.getOrComputeIfAbsent("postgres", k -> new Lazy<>(RealServices::providePostgres), Lazy.class).get();
        }
        return store.getOrComputeIfAbsent("nats", k -> new Lazy<>(RealServices::provideNats), Lazy.class).get();
    }

    private static Provided<PostgresServer> providePostgres() {
        String url = System.getenv("VRSKY_TEST_POSTGRES_URL");
        if (url != null && !url.isBlank()) {
            URI uri = URI.create(url.trim());
            String[] userInfo = Optional.ofNullable(uri.getUserInfo()).orElse("postgres:").split(":", 2);
            String db = uri.getPath() == null || uri.getPath().length() <= 1 ? "postgres" : uri.getPath().substring(1);
            return new Provided<>(new PostgresServer(uri.getHost(), uri.getPort() < 0 ? 5432 : uri.getPort(), userInfo[0],
                    userInfo.length > 1 ? userInfo[1] : "", db, ServerControl.NONE), () -> { });
        }
        Optional<Path> bin = LocalPostgres.findBinaries();
        if (bin.isPresent()) {
            LocalPostgres local = LocalPostgres.start(bin.get());
            return new Provided<>(new PostgresServer("127.0.0.1", local.port(), "postgres", "", "postgres", local), local::close);
        }
        if (ContainerServices.dockerAvailable()) {
            var c = ContainerServices.postgres();
            return new Provided<>(new PostgresServer(c.getHost(), c.getMappedPort(5432), "postgres", "postgres", "postgres",
                    ServerControl.NONE), c::stop);
        }
        throw new ServicesUnavailableException("No PostgreSQL for integration tests. Provide one of: "
                + "(1) VRSKY_TEST_POSTGRES_URL=postgresql://user:password@host:port/db of a server with wal_level=logical; "
                + "(2) PostgreSQL server binaries (initdb, pg_ctl), e.g. apt-get install postgresql, or VRSKY_TEST_PG_BIN=<dir>; "
                + "(3) a running Docker engine for Testcontainers.");
    }

    private static Provided<NatsServer> provideNats() {
        String url = System.getenv("VRSKY_TEST_NATS_URL");
        if (url != null && !url.isBlank()) {
            return new Provided<>(new NatsServer(url.trim(), ServerControl.NONE), () -> { });
        }
        Optional<Path> bin = LocalNats.findBinary();
        if (bin.isPresent()) {
            LocalNats local = LocalNats.start(bin.get());
            return new Provided<>(new NatsServer(local.url(), local), local::close);
        }
        if (ContainerServices.dockerAvailable()) {
            var c = ContainerServices.nats();
            return new Provided<>(new NatsServer("nats://" + c.getHost() + ":" + c.getMappedPort(4222), ServerControl.NONE), c::stop);
        }
        throw new ServicesUnavailableException("No NATS server for integration tests. Provide one of: "
                + "(1) VRSKY_TEST_NATS_URL=nats://host:port of a server started with -js; "
                + "(2) the nats-server binary on PATH, e.g. apt-get install nats-server, or VRSKY_TEST_NATS_BIN=<path>; "
                + "(3) a running Docker engine for Testcontainers.");
    }

    /** A server and how to stop it. */
    private record Provided<T>(T server, Runnable stopper) {
    }

    /**
     * Starts on first {@link #get()}, remembers a failure (so later tests fail fast with the same
     * message), and stops the server when JUnit closes the root store at the end of the run.
     */
    private static final class Lazy<T> implements ExtensionContext.Store.CloseableResource {
        private final java.util.function.Supplier<Provided<T>> supplier;
        private Provided<T> value;
        private RuntimeException failure;

        Lazy(java.util.function.Supplier<Provided<T>> supplier) {
            this.supplier = supplier;
        }

        synchronized T get() {
            if (failure != null) {
                throw failure;
            }
            if (value == null) {
                try {
                    value = supplier.get();
                } catch (RuntimeException e) {
                    failure = e;
                    throw e;
                }
            }
            return value.server();
        }

        @Override
        public synchronized void close() {
            if (value != null) {
                value.stopper().run();
                value = null;
            }
        }
    }
}
