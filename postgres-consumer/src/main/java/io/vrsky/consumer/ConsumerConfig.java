package io.vrsky.consumer;

import io.vrsky.consumer.snapshot.SnapshotSettings;
import io.vrsky.core.config.ConfigException;
import io.vrsky.core.config.Env;
import io.vrsky.core.config.LogSettings;
import io.vrsky.core.config.NatsSettings;
import io.vrsky.core.config.SslMode;
import io.vrsky.core.config.TableList;
import io.vrsky.core.model.Operation;
import io.vrsky.core.model.TableId;
import io.vrsky.core.pg.PostgresSettings;
import io.vrsky.core.retry.DependencyRetry;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Everything postgres-consumer is configured with, read from environment variables. The password
 * (in {@code postgres}) is a secret and is left out of {@link #toString()}.
 *
 * @param postgres               the source database: {@code POSTGRES_INPUT_HOST}, {@code _PORT}, {@code _USER},
 *                               {@code _PASSWORD}, {@code _DATABASE}, {@code _SSLMODE}
 * @param tables                 the monitored tables; empty means every table
 * @param operations             the published operations; empty means all of them
 * @param dependencyRetryTimeout how long PostgreSQL or NATS may stay unreachable before the consumer exits 3
 * @param snapshot               how existing rows are copied (snapshot mode, signal table, parallelism, chunk size)
 */
public record ConsumerConfig(
        PostgresSettings postgres,
        String slot,
        String publication,
        List<TableId> tables,
        Set<Operation> operations,
        int batchSize,
        Duration batchTimeout,
        NatsSettings nats,
        Duration dependencyRetryTimeout,
        int healthPort,
        SnapshotSettings snapshot) {

    public static final String SERVICE = "postgres-consumer";
    public static final int MAX_BATCH_SIZE = 10_000;

    private static final Pattern SLOT_NAME = Pattern.compile("[a-z0-9_]{1,63}");

    public ConsumerConfig {
        Objects.requireNonNull(postgres, "postgres");
        Objects.requireNonNull(slot, "slot");
        Objects.requireNonNull(publication, "publication");
        Objects.requireNonNull(batchTimeout, "batchTimeout");
        Objects.requireNonNull(nats, "nats");
        Objects.requireNonNull(dependencyRetryTimeout, "dependencyRetryTimeout");
        Objects.requireNonNull(snapshot, "snapshot");
        tables = List.copyOf(tables);
        operations = operations.isEmpty() ? Set.of() : Set.copyOf(operations);
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1, was " + batchSize);
        }
    }

    /**
     * Reads the configuration; every problem is collected and reported at once.
     *
     * @throws ConfigException one line per problem, each naming the variable
     */
    public static ConsumerConfig fromEnv(Map<String, String> vars) {
        Env env = new Env(vars);
        PostgresSettings postgres = PostgresSettings.read(env, PostgresSettings.INPUT);
        String db = env.raw("POSTGRES_INPUT_DATABASE").orElse("unknown");
        String slot = env.checked("POSTGRES_INPUT_REPLICATION_SLOT", defaultSlot(db),
                v -> SLOT_NAME.matcher(v).matches() ? null : "is not a replication slot name: allowed 1 to 63 of a-z, 0-9 and _");
        String publication = env.checked("POSTGRES_INPUT_PUBLICATION", "vrsky_pub",
                v -> SLOT_NAME.matcher(v).matches() ? null : "is not a publication name: allowed 1 to 63 of a-z, 0-9 and _");
        List<TableId> tables = TableList.read(env, "POSTGRES_INPUT_TABLES");
        List<Operation> ops = new ArrayList<>(env.enumList("POSTGRES_INPUT_OPERATIONS", Operation.class));
        if (ops.remove(Operation.READ)) {
            env.problem("POSTGRES_INPUT_OPERATIONS contains 'READ': allowed a comma list of INSERT, UPDATE, DELETE, TRUNCATE"
                    + " (snapshot rows are controlled by POSTGRES_INPUT_SNAPSHOT_MODE)");
        }
        int batchSize = env.intInRange("POSTGRES_INPUT_BATCH_SIZE", 100, 1, MAX_BATCH_SIZE);
        Duration batchTimeout = env.duration("POSTGRES_INPUT_BATCH_TIMEOUT", Duration.ofSeconds(5), Duration.ZERO, Duration.ofMinutes(10));
        NatsSettings nats = NatsSettings.read(env, "vrsky.cdc." + db, SERVICE);
        if (nats.subject().contains("*") || nats.subject().contains(">")) {
            env.problem("NATS_SUBJECT=" + nats.subject() + " is not allowed: the consumer publishes to it, so it may not hold wildcards");
        }
        SnapshotSettings snapshot = SnapshotSettings.read(env, batchSize);
        Duration retryTimeout = DependencyRetry.readTimeout(env);
        int healthPort = env.intInRange("HEALTH_PORT", 8080, 0, 65_535);
        LogSettings.check(env);
        env.validate();
        return new ConsumerConfig(postgres, slot, publication, tables, ops.isEmpty() ? Set.of() : EnumSet.copyOf(ops), batchSize,
                batchTimeout, nats, retryTimeout, healthPort, snapshot);
    }

    /** {@code vrsky_<database>}, lower-cased, other characters as {@code _}, at most 63 characters. */
    static String defaultSlot(String database) {
        String name = "vrsky_" + database.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        return name.length() > 63 ? name.substring(0, 63) : name;
    }

    /** The envelope's {@code source}: {@code postgres-consumer/<database>/<slot>}. */
    public String source() {
        return SERVICE + "/" + database() + "/" + slot;
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
        return "ConsumerConfig[host=" + host() + ", port=" + port() + ", user=" + user() + ", database=" + database()
                + ", slot=" + slot + ", publication=" + publication + ", tables=" + tables + ", operations=" + operations
                + ", batchSize=" + batchSize + ", batchTimeout=" + batchTimeout + ", sslMode=" + sslMode()
                + ", nats=" + nats + ", dependencyRetryTimeout=" + dependencyRetryTimeout + ", healthPort=" + healthPort
                + ", snapshot=" + snapshot + "]";
    }
}
