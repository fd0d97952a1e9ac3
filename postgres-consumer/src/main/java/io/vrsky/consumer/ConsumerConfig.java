package io.vrsky.consumer;

import io.vrsky.consumer.snapshot.SnapshotSettings;
import io.vrsky.core.config.ConfigException;
import io.vrsky.core.config.Env;
import io.vrsky.core.config.HealthBind;
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
import java.util.Optional;
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
 * @param healthBind             {@code HEALTH_BIND}: the address the health and metrics endpoint listens on
 * @param heartbeatInterval      {@code POSTGRES_INPUT_HEARTBEAT_INTERVAL}: how often a heartbeat message is written to the
 *                               source's WAL so an idle database still advances the slot; zero = off
 * @param compactEnvelopes       {@code POSTGRES_INPUT_ENVELOPE_FORMAT=compact}: messages in the compact layout (each table's
 *                               column list and each transaction's commit fields once per message) instead of the standard one
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
        SnapshotSettings snapshot,
        String healthBind,
        Duration heartbeatInterval,
        boolean compactEnvelopes) {

    public static final String SERVICE = "postgres-consumer";
    public static final int MAX_BATCH_SIZE = 10_000;
    public static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(10);
    static final Duration MIN_HEARTBEAT = Duration.ofMillis(100);
    static final Duration MAX_HEARTBEAT = Duration.ofHours(1);

    private static final Pattern SLOT_NAME = Pattern.compile("[a-z0-9_]{1,63}");

    public ConsumerConfig {
        Objects.requireNonNull(postgres, "postgres");
        Objects.requireNonNull(slot, "slot");
        Objects.requireNonNull(publication, "publication");
        Objects.requireNonNull(batchTimeout, "batchTimeout");
        Objects.requireNonNull(nats, "nats");
        Objects.requireNonNull(dependencyRetryTimeout, "dependencyRetryTimeout");
        Objects.requireNonNull(snapshot, "snapshot");
        Objects.requireNonNull(healthBind, "healthBind");
        Objects.requireNonNull(heartbeatInterval, "heartbeatInterval");
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
        String healthBind = HealthBind.read(env);
        Duration heartbeat = heartbeat(env);
        String format = env.raw("POSTGRES_INPUT_ENVELOPE_FORMAT").map(String::trim).orElse("standard");
        if (!format.equals("standard") && !format.equals("compact")) {
            env.problem("POSTGRES_INPUT_ENVELOPE_FORMAT=" + format + " is not allowed: use standard or compact");
        }
        LogSettings.check(env);
        env.validate();
        return new ConsumerConfig(postgres, slot, publication, tables, ops.isEmpty() ? Set.of() : EnumSet.copyOf(ops), batchSize,
                batchTimeout, nats, retryTimeout, healthPort, snapshot, healthBind, heartbeat, format.equals("compact"));
    }

    /** {@code POSTGRES_INPUT_HEARTBEAT_INTERVAL}: 0 (off) or 100ms..1h, default 10s. */
    private static Duration heartbeat(Env env) {
        String name = "POSTGRES_INPUT_HEARTBEAT_INTERVAL";
        Optional<String> raw = env.raw(name);
        if (raw.isEmpty()) {
            return DEFAULT_HEARTBEAT;
        }
        Optional<Duration> parsed = raw.get().trim().equals("0") ? Optional.of(Duration.ZERO) : Env.parseDuration(raw.get());
        if (parsed.isEmpty()) {
            env.problem(name + "=" + raw.get() + " is not a duration: allowed 0 (off) or 100ms..1h, written like 500ms, 10s, 1m");
            return DEFAULT_HEARTBEAT;
        }
        Duration d = parsed.get();
        if (!d.isZero() && (d.compareTo(MIN_HEARTBEAT) < 0 || d.compareTo(MAX_HEARTBEAT) > 0)) {
            env.problem(name + "=" + raw.get() + " is out of range: allowed 0 (off) or 100ms..1h");
            return DEFAULT_HEARTBEAT;
        }
        return d;
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
                + ", snapshot=" + snapshot + ", healthBind=" + healthBind + ", heartbeatInterval=" + heartbeatInterval
                + ", envelopeFormat=" + (compactEnvelopes ? "compact" : "standard") + "]";
    }
}
