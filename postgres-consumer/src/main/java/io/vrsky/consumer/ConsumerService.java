package io.vrsky.consumer;

import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vrsky.consumer.filter.OperationFilter;
import io.vrsky.consumer.monitor.Heartbeat;
import io.vrsky.consumer.monitor.SideConnection;
import io.vrsky.consumer.monitor.SlotMonitor;
import io.vrsky.core.metrics.ProcessMeters;
import io.vrsky.core.model.Operation;
import io.vrsky.consumer.publish.JetStreamPublisher;
import io.vrsky.consumer.replication.CatalogQueries;
import io.vrsky.consumer.replication.ReplicationLoop;
import io.vrsky.consumer.replication.SlotManager;
import io.vrsky.consumer.snapshot.Snapshots;
import io.vrsky.consumer.encode.TypeRegistry;
import io.vrsky.core.health.HealthServer;
import io.vrsky.core.health.ReadinessCheck;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.pg.PgDataSources;
import io.vrsky.core.pg.PostgresLogin;
import io.vrsky.core.retry.Backoff;
import io.vrsky.core.retry.DependencyRetry;
import io.vrsky.core.service.ServiceFailure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The whole consumer, startable in-process: a small HikariCP pool for catalog queries, the NATS
 * publisher, the replication thread, and the health/metrics server. {@link #close()} drains
 * (publishes and confirms what was read) and stops everything in a fixed order.
 */
public final class ConsumerService implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ConsumerService.class);
    /** Reconnect backoff: 250 ms doubling to 10 s; DEPENDENCY_RETRY_TIMEOUT bounds how long it goes on. */
    static final Backoff RECONNECT = DependencyRetry.BACKOFF;
    static final Duration STANDBY_RETRY = Duration.ofSeconds(1);
    static final int MAX_IN_FLIGHT = 256;
    static final long MAX_IN_FLIGHT_BYTES = 16L * 1024 * 1024;
    /** How long an ack may take before the publish counts as failed (the session restarts). */
    static final Duration ACK_TIMEOUT = Duration.ofSeconds(10);
    static final String APPLICATION_NAME = "vrsky-postgres-consumer";
    /** How often the slot's row in pg_replication_slots is read for the slot meters. */
    static final Duration SLOT_POLL = Duration.ofSeconds(5);

    private final ConsumerConfig config;
    private final HikariDataSource pool;
    private final PrometheusMeterRegistry registry;
    private final ConsumerMetrics metrics;
    private final JetStreamPublisher publisher;
    private final ReplicationLoop loop;
    private final Thread thread;
    private final HealthServer health;
    private final ProcessMeters processMeters;
    private final ScheduledExecutorService monitor;
    private final SideConnection side;
    private final AtomicBoolean closed = new AtomicBoolean();

    private ConsumerService(ConsumerConfig config, HikariDataSource pool, PrometheusMeterRegistry registry, ConsumerMetrics metrics,
                            JetStreamPublisher publisher, ReplicationLoop loop, HealthServer health, ProcessMeters processMeters,
                            ScheduledExecutorService monitor, SideConnection side) {
        this.processMeters = processMeters;
        this.monitor = monitor;
        this.side = side;
        this.config = config;
        this.pool = pool;
        this.registry = registry;
        this.metrics = metrics;
        this.publisher = publisher;
        this.loop = loop;
        this.health = health;
        this.thread = new Thread(loop, "pg-replication-" + config.slot());
    }

    /**
     * Starts the service: logs in to PostgreSQL first (retrying an unreachable server for
     * DEPENDENCY_RETRY_TIMEOUT, readiness naming it meanwhile), before anything touches NATS; the
     * rest connects on the replication thread, with retries.
     *
     * @throws IOException          when the health port cannot be bound
     * @throws ServiceFailure       exit 3 when PostgreSQL refuses the login, lacks the database or stays unreachable
     * @throws InterruptedException when interrupted while waiting for PostgreSQL
     */
    public static ConsumerService start(ConsumerConfig config) throws IOException, ServiceFailure, InterruptedException {
        return start(config, RECONNECT);
    }

    /** With another reconnect policy (tests use a short one to see the service give up). */
    static ConsumerService start(ConsumerConfig config, Backoff reconnect) throws IOException, ServiceFailure, InterruptedException {
        Clock clock = Clock.systemUTC();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().commonTags("slot", config.slot());
        ProcessMeters processMeters = ProcessMeters.bind(registry);
        ConsumerMetrics metrics = new ConsumerMetrics(registry, clock);
        metrics.expect(config.tables(), config.operations().isEmpty()
                ? EnumSet.of(Operation.INSERT, Operation.UPDATE, Operation.DELETE, Operation.TRUNCATE) : config.operations());
        HikariDataSource pool = pool(config, processMeters);
        SideConnection side = new SideConnection(PgDataSources.dataSource(config.postgres(), "vrsky-postgres-consumer-monitor",
                Duration.ofSeconds(10)));
        SlotMonitor slotMonitor = new SlotMonitor(side, config.slot(), registry, clock);
        Heartbeat heartbeat = config.heartbeatInterval().isZero() ? null
                : new Heartbeat(side, config.heartbeatInterval(), registry, clock);
        JetStreamPublisher publisher = new JetStreamPublisher(config.nats(), config.slot(), config.source(), clock, metrics,
                MAX_IN_FLIGHT, MAX_IN_FLIGHT_BYTES, ACK_TIMEOUT, config.compactEnvelopes());
        CatalogQueries catalog = new CatalogQueries(pool);
        TypeRegistry types = new TypeRegistry(catalog);
        Snapshots snapshots = new Snapshots(config, pool, PgDataSources.dataSource(config.postgres(), "vrsky-postgres-consumer-snapshot",
                Duration.ofSeconds(10)), types, publisher, registry, clock);
        SlotManager slots = new SlotManager(pool, config.database(), config.slot(), config.publication(), config.tables(),
                new OperationFilter(config.operations()), config.snapshot().signalTable(), snapshots.sessionCreatesSlot());
        ReplicationLoop loop = new ReplicationLoop(config, slots, catalog, publisher, metrics, clock, reconnect,
                () -> ThreadLocalRandom.current().nextDouble(), STANDBY_RETRY, types, snapshots);
        DependencyRetry login = new DependencyRetry(config.postgres().target(), config.dependencyRetryTimeout());
        HealthServer health;
        try {
            health = HealthServer.start(config.healthBind(), config.healthPort(), List.of(
                    ReadinessCheck.of("postgres", () -> login.problem().or(loop::problem), snapshots::readinessDetails),
                    ReadinessCheck.of("nats", publisher::problem)), registry);
        } catch (IOException e) {
            pool.close();
            processMeters.close();
            throw new IOException("HEALTH_BIND=" + config.healthBind() + " HEALTH_PORT=" + config.healthPort() + " cannot be bound: "
                    + e.getMessage(), e);
        }
        try {
            // a refused login or a missing database ends the start here, with PostgreSQL's own words, before NATS
            login.call(() -> {
                PostgresLogin.check(config.postgres(), APPLICATION_NAME);
                return null;
            });
        } catch (ServiceFailure | InterruptedException | RuntimeException e) {
            health.close();
            pool.close();
            processMeters.close();
            registry.close();
            throw e;
        }
        ScheduledExecutorService monitor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "slot-monitor-" + config.slot());
            t.setDaemon(true);
            return t;
        });
        monitor.scheduleWithFixedDelay(() -> guarded(slotMonitor::poll), 0, SLOT_POLL.toMillis(), TimeUnit.MILLISECONDS);
        if (heartbeat != null) {
            long every = config.heartbeatInterval().toMillis();
            monitor.scheduleWithFixedDelay(() -> guarded(heartbeat::beat), every, every, TimeUnit.MILLISECONDS);
        }
        ConsumerService service = new ConsumerService(config, pool, registry, metrics, publisher, loop, health, processMeters,
                monitor, side);
        LOG.info("starting postgres-consumer: database {} slot {} publication {} tables {} operations {} subject {} stream {}",
                config.database(), config.slot(), config.publication(), config.tables().isEmpty() ? "all" : config.tables(),
                config.operations().isEmpty() ? "all" : config.operations(), config.nats().subject(), config.nats().stream());
        service.thread.start();
        return service;
    }

    private static HikariDataSource pool(ConsumerConfig config, ProcessMeters meters) {
        var hc = PgDataSources.pool(PgDataSources.dataSource(config.postgres(), "vrsky-postgres-consumer-catalog", Duration.ofSeconds(10)),
                "consumer-catalog", 2, Duration.ofSeconds(10));
        hc.setMinimumIdle(0);
        return new HikariDataSource(meters.track(hc));
    }

    /** A monitor task's failure must not end its schedule. */
    private static void guarded(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            LOG.warn("slot monitor task failed: {}", e.toString());
        }
    }

    public int healthPort() {
        return health.port();
    }

    public ReplicationLoop.State state() {
        return loop.state();
    }

    public Lsn confirmedLsn() {
        return loop.confirmedLsn();
    }

    public ConsumerMetrics metrics() {
        return metrics;
    }

    public ConsumerConfig config() {
        return config;
    }

    /**
     * Waits for the replication thread to end by itself (a fatal error) or after {@link #close()}.
     *
     * @return how it ended, or null when {@code timeout} passed first
     */
    public ReplicationLoop.Termination awaitTermination(Duration timeout) throws InterruptedException {
        return loop.awaitDone(timeout) ? loop.termination() : null;
    }

    /**
     * Stops reading, publishes and confirms what was read, then closes the replication stream,
     * NATS, the pool and the HTTP server, in that order. Idempotent.
     *
     * @return how the replication thread ended
     */
    public ReplicationLoop.Termination stop() {
        if (closed.compareAndSet(false, true)) {
            loop.requestStop();
            try {
                if (!loop.awaitDone(Duration.ofSeconds(45))) {
                    LOG.warn("replication thread did not stop in 45 s; interrupting it");
                    thread.interrupt();
                    loop.awaitDone(Duration.ofSeconds(5));
                }
            } catch (InterruptedException e) {
                thread.interrupt();
                Thread.currentThread().interrupt();
            }
            monitor.shutdown();
            try {
                if (!monitor.awaitTermination(5, TimeUnit.SECONDS)) {
                    LOG.warn("slot monitor thread did not stop in 5 s");
                    monitor.shutdownNow();
                }
            } catch (InterruptedException e) {
                monitor.shutdownNow();
                Thread.currentThread().interrupt();
            }
            side.close();
            publisher.close();
            pool.close();
            health.close();
            processMeters.close();
            registry.close();
            ReplicationLoop.Termination t = loop.termination();
            if (t == null) {
                LOG.error("closed, but the replication thread is still running");
            } else {
                LOG.debug("closed; the replication thread ended with exit code {}: {}", t.exitCode(), t.reason());
            }
        }
        return loop.termination();
    }

    @Override
    public void close() {
        stop();
    }
}
