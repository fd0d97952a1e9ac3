package io.vrsky.consumer;

import io.vrsky.core.config.ConfigException;
import io.vrsky.core.config.Env;
import io.vrsky.core.config.LogSettings;
import io.vrsky.core.config.NatsSettings;
import io.vrsky.core.config.SslMode;
import io.vrsky.core.model.Operation;
import io.vrsky.core.model.TableId;

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
 * Everything postgres-consumer is configured with, read from environment variables (DESIGN.md).
 * {@code password} is a secret and is left out of {@link #toString()}.
 *
 * @param tables     the monitored tables; empty means every table
 * @param operations the published operations; empty means all of them
 */
public record ConsumerConfig(
        String host,
        int port,
        String user,
        String password,
        String database,
        String slot,
        String publication,
        List<TableId> tables,
        Set<Operation> operations,
        int batchSize,
        Duration batchTimeout,
        SslMode sslMode,
        NatsSettings nats,
        int healthPort) {

    public static final String SERVICE = "postgres-consumer";
    public static final int MAX_BATCH_SIZE = 10_000;

    private static final Pattern SLOT_NAME = Pattern.compile("[a-z0-9_]{1,63}");
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]{0,62}");

    public ConsumerConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(slot, "slot");
        Objects.requireNonNull(publication, "publication");
        Objects.requireNonNull(batchTimeout, "batchTimeout");
        Objects.requireNonNull(sslMode, "sslMode");
        Objects.requireNonNull(nats, "nats");
        password = password == null ? "" : password;
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
        String host = env.required("POSTGRES_INPUT_HOST", "the PostgreSQL host to capture changes from");
        int port = env.intInRange("POSTGRES_INPUT_PORT", 5432, 1, 65_535);
        String user = env.required("POSTGRES_INPUT_USER", "a role with the REPLICATION privilege");
        String password = env.secret("POSTGRES_INPUT_PASSWORD");
        String database = env.required("POSTGRES_INPUT_DATABASE", "the database to capture changes from");
        String db = database == null ? "unknown" : database;
        String slot = env.checked("POSTGRES_INPUT_REPLICATION_SLOT", defaultSlot(db),
                v -> SLOT_NAME.matcher(v).matches() ? null : "is not a replication slot name: allowed 1 to 63 of a-z, 0-9 and _");
        String publication = env.checked("POSTGRES_INPUT_PUBLICATION", "vrsky_pub",
                v -> SLOT_NAME.matcher(v).matches() ? null : "is not a publication name: allowed 1 to 63 of a-z, 0-9 and _");
        List<TableId> tables = new ArrayList<>();
        for (String item : env.list("POSTGRES_INPUT_TABLES")) {
            String[] parts = item.split("\\.", -1);
            boolean valid = parts.length <= 2;
            for (String part : parts) {
                valid &= IDENTIFIER.matcher(part).matches();
            }
            if (!valid) {
                env.problem("POSTGRES_INPUT_TABLES contains '" + item + "': allowed a comma list of schema.table or table,"
                        + " each name 1 to 63 letters, digits, _ or $ (not starting with a digit)");
            } else {
                TableId id = TableId.parse(item);
                if (!tables.contains(id)) {
                    tables.add(id);
                }
            }
        }
        List<Operation> ops = env.enumList("POSTGRES_INPUT_OPERATIONS", Operation.class);
        int batchSize = env.intInRange("POSTGRES_INPUT_BATCH_SIZE", 100, 1, MAX_BATCH_SIZE);
        Duration batchTimeout = env.duration("POSTGRES_INPUT_BATCH_TIMEOUT", Duration.ofSeconds(5), Duration.ZERO, Duration.ofMinutes(10));
        SslMode sslMode = SslMode.read(env, "POSTGRES_INPUT_SSLMODE");
        NatsSettings nats = NatsSettings.read(env, "vrsky.cdc." + db, SERVICE);
        if (nats.subject().contains("*") || nats.subject().contains(">")) {
            env.problem("NATS_SUBJECT=" + nats.subject() + " is not allowed: the consumer publishes to it, so it may not hold wildcards");
        }
        int healthPort = env.intInRange("HEALTH_PORT", 8080, 0, 65_535);
        LogSettings.check(env);
        env.validate();
        return new ConsumerConfig(host, port, user, password, database, slot, publication, tables,
                ops.isEmpty() ? Set.of() : EnumSet.copyOf(ops), batchSize, batchTimeout, sslMode, nats, healthPort);
    }

    /** {@code vrsky_<database>}, lower-cased, other characters as {@code _}, at most 63 characters. */
    static String defaultSlot(String database) {
        String name = "vrsky_" + database.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        return name.length() > 63 ? name.substring(0, 63) : name;
    }

    /** The envelope's {@code source}: {@code postgres-consumer/<database>/<slot>}. */
    public String source() {
        return SERVICE + "/" + database + "/" + slot;
    }

    public String jdbcUrl() {
        String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        return "jdbc:postgresql://" + h + ":" + port + "/" + database;
    }

    @Override
    public String toString() {
        return "ConsumerConfig[host=" + host + ", port=" + port + ", user=" + user + ", database=" + database
                + ", slot=" + slot + ", publication=" + publication + ", tables=" + tables + ", operations=" + operations
                + ", batchSize=" + batchSize + ", batchTimeout=" + batchTimeout + ", sslMode=" + sslMode
                + ", nats=" + nats + ", healthPort=" + healthPort + "]";
    }
}
