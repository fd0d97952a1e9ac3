package io.vrsky.producer;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.vrsky.core.config.Env;
import io.vrsky.core.config.NatsSettings;
import io.vrsky.core.codec.EnvelopeCodec;
import io.vrsky.core.health.HealthServer;
import io.vrsky.core.health.ReadinessCheck;
import io.vrsky.core.metrics.ProcessMeters;
import io.vrsky.core.nats.DeadLetterPublisher;
import io.vrsky.core.nats.JetStreamSetup;
import io.vrsky.core.nats.NatsConnector;
import io.vrsky.core.pg.PgDataSources;
import io.vrsky.core.pg.PgErrors;
import io.vrsky.core.pg.PostgresLogin;
import io.vrsky.core.retry.Backoff;
import io.vrsky.core.retry.DependencyRetry;
import io.vrsky.core.retry.RateLimitedLog;
import io.vrsky.core.retry.Retrier;
import io.vrsky.core.retry.RetriesExhaustedException;
import io.vrsky.core.retry.RetryClassifier;
import io.vrsky.core.retry.Sleeper;
import io.vrsky.core.service.ExitCode;
import io.vrsky.core.service.ServiceFailure;
import io.vrsky.core.service.ServiceRunner;
import io.vrsky.core.service.ServiceRunner.Outcome;
import io.vrsky.producer.catalog.SchemaCatalog;
import io.vrsky.producer.dlq.DeadLetterSink;
import io.vrsky.producer.lease.LeaseLostException;
import io.vrsky.producer.lease.ProducerLease;
import io.vrsky.producer.metrics.ProducerMetrics;
import io.vrsky.producer.sql.SqlStatementBuilder;
import io.vrsky.producer.position.AppliedPositions;
import io.vrsky.producer.schema.EvolutionMode;
import io.vrsky.producer.schema.SchemaEvolution;
import io.vrsky.producer.subscribe.InboundMessage;
import io.vrsky.producer.subscribe.InFlight;
import io.vrsky.producer.subscribe.JetStreamSource;
import io.vrsky.producer.subscribe.NatsCalls;
import io.vrsky.producer.subscribe.Prefetcher;
import io.vrsky.producer.subscribe.StoredMessages;
import io.vrsky.producer.write.BatchWriter;
import io.vrsky.producer.write.ChunkedTransactionWriter;
import io.vrsky.producer.write.RefusedStatementOverride;
import io.vrsky.producer.write.SqlErrors;
import io.vrsky.producer.write.WriterContext;
import org.postgresql.ds.PGSimpleDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.DoubleSupplier;

/**
 * The producer, assembled: PostgreSQL pool, NATS connection and durable consumer, writers, the
 * loop thread, in-progress heartbeats, readiness probes and the health/metrics endpoint. Usable
 * in-process (integration tests build it from a map with {@code HEALTH_PORT=0}).
 *
 * <p>Lifecycle: {@link #start()}, then {@link #awaitExit()} returns the exit code when the loop
 * ends by itself (a failure it cannot get past); {@link #close()} drains (writes, commits and
 * acknowledges what is held), then closes everything in a fixed order. {@code close()} is
 * idempotent and thread-safe.
 */
public final class ProducerService implements ServiceRunner.Running, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ProducerService.class);
    /** How long close() waits for the loop to write what it holds before interrupting it. */
    static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(30);
    /**
     * Raw bytes pulled and decoded ahead of the writer at most (a decoded message takes about twice
     * its raw size). More does not help: what is held is copied by every young collection.
     */
    static final long MAX_PREFETCH_BYTES = 2L * 1024 * 1024;
    /** How often a standby looks at the lease. */
    static final Duration LEASE_POLL = Duration.ofSeconds(1);

    private final ProducerConfig config;
    /** How long a gap in a source's messages may stay unfilled before the service stops (exit 4). */
    private final Duration gapTimeout;
    private final Clock clock;
    private final PrometheusMeterRegistry registry;
    private final ProducerMetrics metrics;
    private final ProcessMeters processMeters;
    private final RateLimitedLog keepaliveFailures;
    private final DoubleSupplier random;
    private final Sleeper sleeper;
    private final CompletableFuture<Outcome> exit = new CompletableFuture<>();
    private final AtomicReference<String> postgresProblem = new AtomicReference<>("not connected yet");
    /** Waits for an unreachable PostgreSQL at start; readiness shows its problem meanwhile. */
    private final DependencyRetry postgresRetry;
    /** Waits for an unreachable NATS at start; readiness shows its problem meanwhile. */
    private final DependencyRetry natsRetry;
    private final Object lifecycle = new Object();
    private HikariDataSource dataSource;
    private volatile NatsConnector natsConnector;
    private Connection nats;
    private JetStreamSource source;
    private HealthServer health;
    private ScheduledExecutorService scheduler;
    private volatile ProducerLoop loop;
    private volatile ProducerLease lease;
    private volatile InFlight inFlight;
    /** Set by the renewal thread when another instance took the lease over. */
    private final AtomicReference<String> leaseLostReason = new AtomicReference<>();
    /** Why this instance does not apply (standby, lease lost), or null while it holds the lease. */
    private final AtomicReference<String> leaseProblem = new AtomicReference<>("standby: not started yet");
    private Thread loopThread;
    private volatile boolean closed;
    private Outcome closeResult;

    public ProducerService(ProducerConfig config, Clock clock, PrometheusMeterRegistry registry) {
        this(config, clock, registry, config.dependencyRetryTimeout());
    }

    /**
     * @param gapTimeout how long a gap in a source's messages may stay unfilled before the service stops
     *                   (exit 4): DEPENDENCY_RETRY_TIMEOUT, shorter in tests
     */
    ProducerService(ProducerConfig config, Clock clock, PrometheusMeterRegistry registry, Duration gapTimeout) {
        this(config, clock, registry, () -> java.util.concurrent.ThreadLocalRandom.current().nextDouble(), Sleeper.SYSTEM, gapTimeout);
    }

    ProducerService(ProducerConfig config, Clock clock, PrometheusMeterRegistry registry, DoubleSupplier random, Sleeper sleeper,
                    Duration gapTimeout) {
        this.config = config;
        this.gapTimeout = gapTimeout;
        this.clock = clock;
        this.registry = registry;
        registry.config().commonTags("durable", config.durable());
        this.processMeters = ProcessMeters.bind(registry);
        this.keepaliveFailures = new RateLimitedLog(LOG, DependencyRetry.LOG_INTERVAL, clock);
        this.metrics = new ProducerMetrics(registry, clock);
        metrics.expect(config.tables().tables().stream().map(Object::toString).toList());
        this.random = random;
        this.sleeper = sleeper;
        Logger retryLog = LoggerFactory.getLogger(DependencyRetry.class);
        this.postgresRetry = new DependencyRetry(config.postgres().target(), config.dependencyRetryTimeout(), DependencyRetry.BACKOFF,
                clock, sleeper, random, retryLog);
        this.natsRetry = new DependencyRetry(config.nats().target(), config.dependencyRetryTimeout(), DependencyRetry.BACKOFF, clock,
                sleeper, random, retryLog);
    }

    /**
     * Starts, in this order: the health endpoint; one direct login to PostgreSQL (a refused login
     * or a missing database ends the start with PostgreSQL's own message); the position table; the
     * NATS connection; the streams (created with the configured limits); the durable consumer;
     * then consuming. An unreachable PostgreSQL or NATS is retried for DEPENDENCY_RETRY_TIMEOUT,
     * readiness naming it meanwhile. On failure, whatever was opened is closed again.
     *
     * @throws ServiceFailure       with the exit code when a dependency stays down or refuses us
     * @throws InterruptedException when interrupted while waiting for a dependency
     */
    public void start() throws ServiceFailure, InterruptedException {
        try {
            startUp();
        } catch (ServiceFailure | InterruptedException | RuntimeException | Error e) {
            shutdown();
            throw e;
        }
    }

    private void startUp() throws ServiceFailure, InterruptedException {
        LOG.info("starting {}: {}", ProducerConfig.SERVICE, config);
        try {
            health = HealthServer.start(config.healthBind(), config.healthPort(), List.of(
                    ReadinessCheck.of("postgres", () -> postgresRetry.problem().or(() -> Optional.ofNullable(postgresProblem.get()))),
                    ReadinessCheck.of("nats", this::natsProblem),
                    ReadinessCheck.of("lease", () -> Optional.ofNullable(leaseProblem.get())),
                    ReadinessCheck.of("consumer", this::consumerProblem)), registry);
        } catch (IOException e) {
            throw new ServiceFailure(ExitCode.DEPENDENCY, "cannot listen on HEALTH_BIND=" + config.healthBind() + " HEALTH_PORT="
                    + config.healthPort() + ": " + e.getMessage(), e);
        }
        postgresRetry.call(() -> {
            PostgresLogin.check(config.postgres(), ProducerConfig.SERVICE);
            return null;
        });
        dataSource = pool();
        postgresRetry.call(() -> {
            try (java.sql.Connection c = dataSource.getConnection()) {
                AppliedPositions.createTable(c);
                ProducerLease.createTable(c);
                if (config.schemaEvolution() == EvolutionMode.ADDITIVE) {
                    SchemaEvolution.createTable(c);
                }
                c.commit();
            } catch (SQLException e) {
                if (!PgErrors.isRetryable(e)) {
                    throw new ServiceFailure(ExitCode.DEPENDENCY, config.postgres().target() + " is not usable: "
                            + PgErrors.serverMessage(e), e);
                }
                throw e;
            }
            return null;
        });
        awaitLease();
        // read only now: whatever the former holder committed is in
        AppliedPositions positions = new AppliedPositions(lease.fence());
        postgresRetry.call(() -> {
            try (java.sql.Connection c = dataSource.getConnection()) {
                positions.load(c);
                c.commit();
            } catch (SQLException e) {
                if (!PgErrors.isRetryable(e)) {
                    throw new ServiceFailure(ExitCode.DEPENDENCY, config.postgres().target() + " is not usable: "
                            + PgErrors.serverMessage(e), e);
                }
                throw e;
            }
            return null;
        });
        postgresProblem.set(null);
        LOG.info("connected to {} as {}", config.postgres().target(), config.user());

        natsConnector = new NatsConnector(config.nats(), ProducerConfig.SERVICE, natsRetry, clock);
        nats = natsConnector.connect();
        natsRetry.call(() -> {
            try {
                JetStreamSetup.provision(nats, config.nats(), config.nats().subject());
            } catch (JetStreamApiException e) {
                throw new ServiceFailure(ExitCode.DEPENDENCY, "JetStream refused to set up stream " + config.nats().stream()
                        + " or " + NatsSettings.DLQ_STREAM + ": " + e.getMessage(), e);
            }
            return null;
        });
        EnvelopeCodec codec = new EnvelopeCodec();
        source = new JetStreamSource(nats, codec, config.nats().stream(), config.nats().subject(), config.durable(),
                config.ackWait());
        try {
            source.open();
        } catch (Exception e) {
            throw new ServiceFailure(ExitCode.DEPENDENCY, "cannot set up the durable consumer " + config.durable()
                    + " on stream " + config.nats().stream() + ": " + e.getMessage(), e);
        }
        InFlight inFlight = new InFlight(nats);
        this.inFlight = inFlight;
        // a NATS failure that outlasts DEPENDENCY_RETRY_TIMEOUT (ServiceFailure) is never a reason to retry the batch
        Retrier sqlRetrier = retrier(new Backoff(Duration.ofMillis(100), Duration.ofSeconds(10), 2.0, 0.2, 60),
                failure -> !(failure instanceof RetriesExhaustedException) && !(failure instanceof ServiceFailure)
                        && SqlErrors.isRetryable(failure));
        // NATS while running: retried for DEPENDENCY_RETRY_TIMEOUT (readiness names the server), then exit 3
        NatsCalls natsCalls = new NatsCalls(natsRetry, sleeper, metrics);
        DeadLetterSink deadLetters;
        try {
            deadLetters = new DeadLetterSink(new DeadLetterPublisher(nats.jetStream(), config.nats().dlqSubject()), config.durable(),
                    nats.getServerInfo().getMaxPayload(), codec, natsCalls, metrics);
        } catch (IOException e) {
            throw new ServiceFailure(ExitCode.DEPENDENCY, "JetStream is not available: " + e.getMessage(), e);
        }
        SchemaCatalog catalog = new SchemaCatalog(clock, Duration.ofMinutes(1));
        WriterContext context = new WriterContext(dataSource, catalog, config.tables(), config.conflictStrategy(),
                new SqlStatementBuilder(1024), positions, sqlRetrier, deadLetters, metrics,
                new SchemaEvolution(config.schemaEvolution(), catalog, metrics));
        BatchWriter writer = new BatchWriter(context);
        StoredMessages stored = seq -> natsCalls.call("read a message back", () -> source.load(seq));
        ChunkedTransactionWriter chunks = new ChunkedTransactionWriter(context, stored, inFlight, clock);
        Prefetcher prefetcher = new Prefetcher(source, inFlight, metrics, config.batchSize(), MAX_PREFETCH_BYTES, natsRetry, sleeper,
                lease::surelyHeld);
        loop = new ProducerLoop(config, prefetcher, inFlight, writer, chunks, stored, metrics, clock);
        Stalls.LookAhead lookAhead = new Stalls.LookAhead() {
            @Override
            public InboundMessage next(String subject, long fromSeq) throws Exception {
                return natsCalls.call("look ahead in the stream", () -> source.next(subject, fromSeq));
            }

            @Override
            public long ackFloor() throws Exception {
                return natsCalls.call("read the durable's ack floor", source::ackFloor);
            }
        };
        loop.stalls(new Stalls(writer, positions, catalog, lookAhead, loop::pause, metrics, clock, config.nats().stream(), gapTimeout));

        AtomicInteger threads = new AtomicInteger();
        scheduler = new ScheduledThreadPoolExecutor(3, r -> {
            Thread t = new Thread(r, "producer-keepalive-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        long beat = Math.max(200, config.ackWait().toMillis() / 3);
        scheduler.scheduleWithFixedDelay(() -> guarded("heartbeat", inFlight::heartbeat), beat, beat, TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(() -> guarded("postgres probe", this::probePostgres), 2, 2, TimeUnit.SECONDS);
        long renew = Math.max(500, config.leaseTtl().toMillis() / 3);
        scheduler.scheduleWithFixedDelay(() -> guarded("lease renewal", this::renewLease), renew, renew, TimeUnit.MILLISECONDS);

        loopThread = new Thread(this::runLoop, "producer-loop");
        loopThread.start();
        LOG.info("consuming {} on stream {} as durable {} (batch {} messages, flush interval {}, strategy {})",
                config.nats().subject(), config.nats().stream(), config.durable(), config.batchSize(), Env.format(config.flushInterval()),
                config.conflictStrategy());
    }

    /**
     * Stands by until this instance holds the lease of its durable (see {@link ProducerLease}):
     * readiness says {@code standby} and {@code vrsky_producer_standby} is 1 meanwhile. Interrupted
     * by a stop signal.
     */
    private void awaitLease() throws ServiceFailure, InterruptedException {
        PGSimpleDataSource pg = PgDataSources.dataSource(config.postgres(), ProducerConfig.SERVICE + "-lease", Duration.ofSeconds(5));
        pg.setSocketTimeout((int) Math.max(30, config.leaseTtl().toSeconds() * 3));
        lease = new ProducerLease(pg::getConnection, config.durable(), holderName(), config.leaseTtl());
        leaseProblem.set("standby: waiting for the lease of durable " + config.durable());
        metrics.standby(true);
        boolean announced = false;
        while (!postgresRetry.call(lease::tryAcquire)) {
            ProducerLease.Holder holder = lease.current().orElse(new ProducerLease.Holder("?", 0));
            leaseProblem.set("standby: durable " + config.durable() + " is applied by " + holder.holder() + " (epoch " + holder.epoch()
                    + "); this instance takes over when that one stops or its lease expires (" + Env.format(config.leaseTtl()) + ")");
            if (!announced) {
                LOG.info("standby: durable {} is applied by {} (epoch {}); taking over when that one stops or its lease of {} expires",
                        config.durable(), holder.holder(), holder.epoch(), Env.format(config.leaseTtl()));
                announced = true;
            }
            sleeper.sleep(LEASE_POLL);
        }
        metrics.standby(false);
        leaseProblem.set(null);
        LOG.info("active: holding the lease of durable {} as {} (epoch {}, TTL {})", config.durable(), lease.holder(), lease.epoch(),
                Env.format(config.leaseTtl()));
    }

    private void renewLease() {
        ProducerLease l = lease;
        if (l == null || l.epoch() < 0 || closed) {
            return;
        }
        try {
            if (!l.renew()) {
                String why = "lost the lease of durable " + config.durable() + " (epoch " + l.epoch()
                        + "): another producer instance applies now; stopping (restarted, this instance waits as a standby)";
                leaseProblem.set(why);
                LOG.error("{}", why);
                ProducerLoop running = loop;
                if (running != null && leaseLostReason.compareAndSet(null, why)) {
                    // the loop stops by itself: what it still tries to commit is fenced, what it holds is NAKed (runLoop)
                    running.stop();
                } else if (running == null) {
                    exit.complete(new Outcome(ExitCode.DEPENDENCY, why));
                }
            }
        } catch (SQLException e) {
            LOG.warn("could not renew the lease of durable {} (epoch {}): {}", config.durable(), l.epoch(), e.getMessage());
        }
    }

    /** Who this instance is in the lease table: host, process id and a random tag (never shared by two instances). */
    private static String holderName() {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "unknown-host";
        }
        return host + "/" + ProcessHandle.current().pid() + "/"
                + Integer.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextInt(0x10000, 0x100000));
    }

    private Retrier retrier(Backoff backoff, RetryClassifier classifier) {
        return new Retrier(backoff, classifier, sleeper, random, (operation, attempt, failure, delay) -> {
            metrics.retry(operation);
            if (SqlErrors.isPostgresFailure(failure)) {
                postgresProblem.set(operation + " failing: " + failure.getMessage());
            }
        });
    }

    private HikariDataSource pool() {
        PGSimpleDataSource pg = PgDataSources.dataSource(config.postgres(), ProducerConfig.SERVICE, Duration.ofSeconds(5));
        pg.setSocketTimeout(300);
        // a paused former lease holder's open transaction (holding the fence's share lock) ends after the TTL
        pg.setOptions("-c idle_in_transaction_session_timeout=" + config.leaseTtl().toMillis());
        HikariConfig hikari = PgDataSources.pool(pg, ProducerConfig.SERVICE, config.poolSize(), Duration.ofSeconds(5));
        hikari.setMinimumIdle(1);
        hikari.setAutoCommit(false);
        hikari.setValidationTimeout(2_000);
        hikari.setKeepaliveTime(60_000);
        hikari.setExceptionOverrideClassName(RefusedStatementOverride.class.getName());
        return new HikariDataSource(processMeters.track(hikari));
    }

    private void runLoop() {
        org.slf4j.MDC.put("durable", config.durable());
        Outcome outcome = new Outcome(ExitCode.CLEAN, "stopped after a clean drain");
        try {
            loop.run();
            String lost = leaseLostReason.get();
            if (lost != null) {
                InFlight held = inFlight;
                if (held != null) {
                    held.nakEverything();
                }
                outcome = new Outcome(ExitCode.DEPENDENCY, lost);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.warn("stopped before the drain finished: a dependency is still down");
            outcome = new Outcome(ExitCode.DEPENDENCY, "stopped before the drain finished: a dependency is still down");
        } catch (Exception | Error e) {
            if (leaseLost(e)) {
                // whatever this instance was delivered (even by a pull made after the takeover) goes to the new holder now
                InFlight held = inFlight;
                if (held != null) {
                    held.nakEverything();
                }
            }
            ExitCode code = exitCodeOf(e);
            if (code == ExitCode.UNEXPECTED) {
                LOG.error("stopping on an unexpected failure", e);
                outcome = new Outcome(code, "unexpected failure: " + e);
            } else {
                LOG.error("stopping (exit {}): {}", code.code(), e.getMessage());
                outcome = new Outcome(code, String.valueOf(e.getMessage()));
            }
        }
        exit.complete(outcome);
    }

    private static boolean leaseLost(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof LeaseLostException) {
                return true;
            }
        }
        return false;
    }

    /** The exit code for a failure that stopped the loop. */
    static ExitCode exitCodeOf(Throwable failure) {
        if (failure instanceof ServiceFailure f) {
            return f.exitCode();
        }
        if (failure instanceof RetriesExhaustedException || leaseLost(failure)) {
            return ExitCode.DEPENDENCY;
        }
        if (failure instanceof JetStreamApiException) {
            return ExitCode.DATA;
        }
        String state = PgErrors.sqlState(failure);
        if (state != null) {
            return state.startsWith("22") || state.startsWith("23") ? ExitCode.DATA : ExitCode.DEPENDENCY;
        }
        return ExitCode.UNEXPECTED;
    }

    private void probePostgres() {
        try (java.sql.Connection c = dataSource.getConnection()) {
            if (c.isValid(2)) {
                postgresProblem.set(null);
            } else {
                postgresProblem.set("connection not valid");
            }
        } catch (SQLException e) {
            postgresProblem.set(e.getMessage());
        }
    }

    private Optional<String> natsProblem() {
        Optional<String> retrying = natsRetry.problem();
        if (retrying.isPresent()) {
            return retrying;
        }
        NatsConnector connector = natsConnector;
        return connector == null ? Optional.of(config.nats().target() + ": not connected yet") : connector.problem();
    }

    private Optional<String> consumerProblem() {
        if (loopThread == null) {
            return Optional.of("not consuming yet");
        }
        return exit.isDone() ? Optional.of("stopped") : loop.problem();
    }

    /** A keepalive task's failure must not end its schedule; it repeats each beat, so it is logged rate-limited. */
    private void guarded(String what, Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            keepaliveFailures.warn("{} failed: {}", what, e.toString());
        }
    }

    /** The bound health/metrics port (useful with {@code HEALTH_PORT=0}). */
    public int healthPort() {
        return health.port();
    }

    public ProducerMetrics metrics() {
        return metrics;
    }

    /**
     * How long the NATS connection has been down while jnats keeps reconnecting, empty while it is
     * up (or before it ever was): past DEPENDENCY_RETRY_TIMEOUT the producer should give up (exit 3).
     */
    public Optional<Duration> natsDownFor() {
        NatsConnector connector = natsConnector;
        return connector == null ? Optional.empty() : connector.downFor();
    }

    /** Waits until the loop ends by itself (or after {@link #close()}) and returns the exit code. */
    public int awaitExit() throws InterruptedException {
        return awaitEnd().exitCode().code();
    }

    /** Waits until the loop ends by itself (or after {@link #close()}) and says how it ended. */
    @Override
    public Outcome awaitEnd() throws InterruptedException {
        try {
            return exit.get();
        } catch (ExecutionException e) {
            return new Outcome(ExitCode.UNEXPECTED, "unexpected failure: " + e.getCause());
        }
    }

    /**
     * Stops consuming, writes and acknowledges what is held (an open chunked transaction is rolled
     * back and its messages redelivered), then closes the NATS connection, the pool and the health
     * endpoint.
     *
     * @return the exit code: 0 after a clean drain
     */
    public int shutdown() {
        return stop().exitCode().code();
    }

    /**
     * {@link #shutdown()}, saying how the producer ended.
     */
    @Override
    public Outcome stop() {
        synchronized (lifecycle) {
            if (closeResult != null) {
                return closeResult;
            }
            closed = true;
            Outcome outcome = new Outcome(ExitCode.CLEAN, loop == null ? "stopped before consuming" : "stopped after a clean drain");
            if (loop != null) {
                loop.stop();
                try {
                    outcome = exit.get(DRAIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    LOG.warn("the loop did not drain in {}; interrupting it", DRAIN_TIMEOUT);
                    loopThread.interrupt();
                    try {
                        outcome = exit.get(5, TimeUnit.SECONDS);
                    } catch (Exception again) {
                        outcome = new Outcome(ExitCode.UNEXPECTED, "the loop did not stop after an interrupt");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    outcome = new Outcome(ExitCode.UNEXPECTED, "interrupted while draining");
                } catch (ExecutionException e) {
                    outcome = new Outcome(ExitCode.UNEXPECTED, "unexpected failure: " + e.getCause());
                }
            }
            if (scheduler != null) {
                scheduler.shutdown();
                try {
                    if (!scheduler.awaitTermination(5, TimeUnit.SECONDS)) {
                        LOG.warn("keepalive threads did not stop in 5 s");
                        scheduler.shutdownNow();
                    }
                } catch (InterruptedException e) {
                    scheduler.shutdownNow();
                    Thread.currentThread().interrupt();
                }
            }
            if (source != null) {
                source.close();
            }
            if (nats != null) {
                try {
                    nats.flush(Duration.ofSeconds(5));
                } catch (TimeoutException | InterruptedException | RuntimeException e) {
                    LOG.warn("could not flush acknowledgements to NATS: {}", e.toString());
                    if (e instanceof InterruptedException) {
                        Thread.currentThread().interrupt();
                    }
                }
                try {
                    nats.close();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (lease != null) {
                lease.release();
                lease.close();
            }
            if (dataSource != null) {
                dataSource.close();
            }
            if (health != null) {
                health.close();
            }
            processMeters.close();
            LOG.debug("closed (exit {}): {}", outcome.exitCode().code(), outcome.reason());
            closeResult = outcome;
            return outcome;
        }
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        shutdown();
    }
}
