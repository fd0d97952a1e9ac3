package io.vrsky.producer;

import io.vrsky.core.config.ConfigException;
import io.vrsky.core.config.Env;
import io.vrsky.core.config.HealthBind;
import io.vrsky.core.config.LogSettings;
import io.vrsky.core.config.NatsSettings;
import io.vrsky.core.config.SslMode;
import io.vrsky.core.model.TableId;
import io.vrsky.core.pg.PostgresSettings;
import io.vrsky.core.retry.DependencyRetry;
import io.vrsky.producer.catalog.TableWhitelist;
import io.vrsky.producer.plan.ConflictStrategy;
import io.vrsky.producer.lease.ProducerLease;
import io.vrsky.producer.position.AppliedPositions;
import io.vrsky.producer.schema.EvolutionMode;
import io.vrsky.producer.schema.SchemaEvolution;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The producer's configuration, from environment variables:
 * {@code POSTGRES_OUTPUT_HOST}, {@code _PORT} (5432), {@code _USER}, {@code _PASSWORD},
 * {@code _DATABASE}, {@code _SSLMODE} (prefer) in {@code postgres}; {@code _BATCH_SIZE} (100,
 * 1..1000 messages), {@code _FLUSH_INTERVAL} (5s), {@code _CONFLICT_STRATEGY} (UPSERT | INSERT |
 * UPDATE), {@code _TABLES} (required whitelist), {@code _POOL_SIZE} (4), {@code _SCHEMA_EVOLUTION} (additive |
 * none; additive), {@code _LEASE_TTL} (10s, 3s..10m: how long a standby waits for a silent active instance); {@code NATS_*} (subject
 * filter default {@code vrsky.cdc.>}), {@code NATS_DURABLE} (postgres-producer),
 * {@code NATS_ACK_WAIT} (60s), {@code DEPENDENCY_RETRY_TIMEOUT} (5m), {@code HEALTH_PORT} (8080),
 * {@code HEALTH_BIND} (0.0.0.0),
 * {@code LOG_FORMAT}, {@code LOG_LEVEL}. The password is left out of {@link #toString()}.
 */
public record ProducerConfig(
        PostgresSettings postgres,
        int batchSize,
        Duration flushInterval,
        ConflictStrategy conflictStrategy,
        TableWhitelist tables,
        int poolSize,
        NatsSettings nats,
        String durable,
        Duration ackWait,
        Duration dependencyRetryTimeout,
        int healthPort,
        EvolutionMode schemaEvolution,
        String healthBind,
        Duration leaseTtl) {

    public static final String SERVICE = "postgres-producer";
    public static final String DEFAULT_SUBJECT = "vrsky.cdc.>";

    public ProducerConfig {
        Objects.requireNonNull(postgres, "postgres");
        Objects.requireNonNull(tables, "tables");
        Objects.requireNonNull(nats, "nats");
        Objects.requireNonNull(dependencyRetryTimeout, "dependencyRetryTimeout");
        Objects.requireNonNull(schemaEvolution, "schemaEvolution");
        Objects.requireNonNull(healthBind, "healthBind");
        Objects.requireNonNull(leaseTtl, "leaseTtl");
    }

    /**
     * @throws ConfigException listing every problem, one line each naming the variable
     */
    public static ProducerConfig fromEnv(Map<String, String> vars) {
        Env env = new Env(vars);
        PostgresSettings postgres = PostgresSettings.read(env, PostgresSettings.OUTPUT);
        int batchSize = env.intInRange("POSTGRES_OUTPUT_BATCH_SIZE", 100, 1, 1000);
        Duration flushInterval = env.duration("POSTGRES_OUTPUT_FLUSH_INTERVAL", Duration.ofSeconds(5), Duration.ofMillis(1),
                Duration.ofMinutes(10));
        ConflictStrategy strategy = env.enumValue("POSTGRES_OUTPUT_CONFLICT_STRATEGY", ConflictStrategy.class,
                ConflictStrategy.UPSERT);
        TableWhitelist tables = tables(env);
        int poolSize = env.intInRange("POSTGRES_OUTPUT_POOL_SIZE", 4, 2, 64);
        EvolutionMode schemaEvolution = env.enumValue("POSTGRES_OUTPUT_SCHEMA_EVOLUTION", EvolutionMode.class, EvolutionMode.ADDITIVE);
        NatsSettings nats = NatsSettings.read(env, DEFAULT_SUBJECT, SERVICE);
        String durable = env.checked("NATS_DURABLE", SERVICE,
                v -> v.matches("[A-Za-z0-9_-]+") ? null : "is not a durable name: allowed letters, digits, _ and -");
        Duration ackWait = env.duration("NATS_ACK_WAIT", Duration.ofSeconds(60), Duration.ofSeconds(1), Duration.ofHours(1));
        Duration retryTimeout = DependencyRetry.readTimeout(env);
        int healthPort = env.intInRange("HEALTH_PORT", 8080, 0, 65535);
        String healthBind = HealthBind.read(env);
        Duration leaseTtl = env.duration("POSTGRES_OUTPUT_LEASE_TTL", Duration.ofSeconds(10), Duration.ofSeconds(3), Duration.ofMinutes(10));
        LogSettings.check(env);
        env.validate();
        return new ProducerConfig(postgres, batchSize, flushInterval, strategy, tables, poolSize, nats, durable, ackWait,
                retryTimeout, healthPort, schemaEvolution, healthBind, leaseTtl);
    }

    private static TableWhitelist tables(Env env) {
        String name = TableWhitelist.VARIABLE;
        if (env.raw(name).isEmpty()) {
            env.problem(name + " is required (comma list of schema.table or table: the tables the producer may write)");
            return TableWhitelist.of();
        }
        List<String> problems = new ArrayList<>();
        TableWhitelist tables = TableWhitelist.parse(env.list(name), problems);
        problems.forEach(env::problem);
        if (tables.allows(new TableId("public", AppliedPositions.TABLE))) {
            env.problem(name + " contains " + AppliedPositions.TABLE + ": the producer's own position table cannot be a target");
        }
        if (tables.allows(new TableId("public", ProducerLease.TABLE))) {
            env.problem(name + " contains " + ProducerLease.TABLE + ": the producer's own lease table cannot be a target");
        }
        if (tables.allows(new TableId("public", SchemaEvolution.table()))) {
            env.problem(name + " contains " + SchemaEvolution.table() + ": the producer's own table of source columns cannot be a target");
        }
        if (problems.isEmpty() && tables.isEmpty()) {
            env.problem(name + " is required (comma list of schema.table or table: the tables the producer may write)");
        }
        return tables;
    }

    public String host() {
        return postgres.host();
    }

    public int port() {
        return postgres.port();
    }

    public String user() {
        return postgres.user();
    }

    public String password() {
        return postgres.password();
    }

    public String database() {
        return postgres.database();
    }

    public SslMode sslMode() {
        return postgres.sslMode();
    }

    public String jdbcUrl() {
        return postgres.jdbcUrl();
    }

    @Override
    public String toString() {
        return "ProducerConfig[host=" + host() + ", port=" + port() + ", user=" + user() + ", database=" + database()
                + ", batchSize=" + batchSize + ", flushInterval=" + Env.format(flushInterval) + ", conflictStrategy=" + conflictStrategy
                + ", tables=" + tables + ", poolSize=" + poolSize + ", sslMode=" + sslMode() + ", nats=" + nats
                + ", durable=" + durable + ", ackWait=" + Env.format(ackWait) + ", dependencyRetryTimeout=" + Env.format(dependencyRetryTimeout)
                + ", healthPort=" + healthPort + ", healthBind=" + healthBind + ", schemaEvolution=" + schemaEvolution
                + ", leaseTtl=" + Env.format(leaseTtl) + "]";
    }
}
