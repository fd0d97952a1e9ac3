package io.vrsky.admin;

import io.vrsky.core.config.ConfigException;
import io.vrsky.core.config.Env;
import io.vrsky.core.config.NatsSettings;
import io.vrsky.core.config.TableList;
import io.vrsky.core.model.TableId;
import io.vrsky.core.pg.PostgresSettings;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What vrsky-admin works on, read from the services' own variables: the source
 * ({@code POSTGRES_INPUT_*}: database, slot, publication, monitored tables, signal table), the sink
 * ({@code POSTGRES_OUTPUT_*}) and NATS ({@code NATS_*}). Either database may be left out: a side is
 * configured when any of its {@code _HOST}, {@code _USER} or {@code _DATABASE} is set, and then all
 * three are required. Passwords are left out of {@link #toString()}.
 *
 * @param source          the source side; its {@code postgres} is null when not configured
 * @param sink            the sink database, or null when not configured
 * @param durable         {@code NATS_DURABLE} (default {@code postgres-producer})
 * @param dlqSubject      {@code NATS_DLQ_SUBJECT} when set, else null (dead-letter commands then see every subject)
 */
public record AdminSettings(Source source, PostgresSettings sink, NatsSettings nats, String durable, String dlqSubject) {

    /** Every dead-letter subject of the {@code VRSKY_DLQ} stream. */
    public static final String ALL_DLQ_SUBJECTS = NatsSettings.DLQ_SUBJECTS;

    private static final Pattern NAME = Pattern.compile("[a-z0-9_]{1,63}");
    private static final Pattern DURABLE = Pattern.compile("[A-Za-z0-9_-]+");

    /**
     * The source side.
     *
     * @param postgres    the source database, or null when {@code POSTGRES_INPUT_*} is not configured
     * @param slot        {@code POSTGRES_INPUT_REPLICATION_SLOT}, default {@code vrsky_<database>}; null when neither is set
     * @param publication {@code POSTGRES_INPUT_PUBLICATION}, default {@code vrsky_pub}
     * @param tables      {@code POSTGRES_INPUT_TABLES}; empty means every table of the publication
     * @param signalTable {@code POSTGRES_INPUT_SIGNAL_TABLE}, or null when unset
     */
    public record Source(PostgresSettings postgres, String slot, String publication, List<TableId> tables, TableId signalTable) {
        public Source {
            Objects.requireNonNull(publication, "publication");
            tables = List.copyOf(tables);
        }

        /** The envelope {@code source} of this slot's messages: {@code postgres-consumer/<database>/<slot>}. */
        public Optional<String> envelopeSource() {
            return postgres == null || slot == null ? Optional.empty()
                    : Optional.of("postgres-consumer/" + postgres.database() + "/" + slot);
        }
    }

    public AdminSettings {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(nats, "nats");
        Objects.requireNonNull(durable, "durable");
    }

    /**
     * @throws ConfigException one line per problem, each naming the variable
     */
    public static AdminSettings fromEnv(Map<String, String> vars) {
        Env env = new Env(vars);
        PostgresSettings input = configured(env, PostgresSettings.INPUT) ? PostgresSettings.read(env, PostgresSettings.INPUT) : null;
        String database = env.raw("POSTGRES_INPUT_DATABASE").orElse(null);
        String slot = env.checked("POSTGRES_INPUT_REPLICATION_SLOT", database == null ? null : defaultSlot(database),
                v -> NAME.matcher(v).matches() ? null : "is not a replication slot name: allowed 1 to 63 of a-z, 0-9 and _");
        String publication = env.checked("POSTGRES_INPUT_PUBLICATION", "vrsky_pub",
                v -> NAME.matcher(v).matches() ? null : "is not a publication name: allowed 1 to 63 of a-z, 0-9 and _");
        List<TableId> tables = TableList.read(env, "POSTGRES_INPUT_TABLES");
        TableId signal = TableList.readQualified(env, "POSTGRES_INPUT_SIGNAL_TABLE").orElse(null);
        PostgresSettings output = configured(env, PostgresSettings.OUTPUT) ? PostgresSettings.read(env, PostgresSettings.OUTPUT) : null;
        NatsSettings nats = NatsSettings.read(env, database == null ? "vrsky.cdc.>" : "vrsky.cdc." + database, "postgres-producer");
        String durable = env.checked("NATS_DURABLE", "postgres-producer",
                v -> DURABLE.matcher(v).matches() ? null : "is not a durable name: allowed letters, digits, _ and -");
        String dlqSubject = env.raw("NATS_DLQ_SUBJECT").map(v -> nats.dlqSubject()).orElse(null);
        env.validate();
        return new AdminSettings(new Source(input, slot, publication, tables, signal), output, nats, durable, dlqSubject);
    }

    /** The source database, or a usage failure naming the variables to set. */
    public PostgresSettings requireSource() throws AdminFailure {
        if (source.postgres() == null) {
            throw new AdminFailure(AdminExit.USAGE, "this command needs the source database: POSTGRES_INPUT_HOST,"
                    + " POSTGRES_INPUT_USER and POSTGRES_INPUT_DATABASE are not set");
        }
        return source.postgres();
    }

    /** The sink database, or a usage failure naming the variables to set. */
    public PostgresSettings requireSink() throws AdminFailure {
        if (sink == null) {
            throw new AdminFailure(AdminExit.USAGE, "this command needs the sink database: POSTGRES_OUTPUT_HOST,"
                    + " POSTGRES_OUTPUT_USER and POSTGRES_OUTPUT_DATABASE are not set");
        }
        return sink;
    }

    /** The configured slot, or a usage failure naming the variables to set. */
    public String requireSlot() throws AdminFailure {
        if (source.slot() == null) {
            throw new AdminFailure(AdminExit.USAGE, "this command needs the replication slot: set POSTGRES_INPUT_REPLICATION_SLOT"
                    + " (or POSTGRES_INPUT_DATABASE, whose slot is vrsky_<database> by default)");
        }
        return source.slot();
    }

    /** The dead-letter subject the {@code dlq} commands look at by default: NATS_DLQ_SUBJECT, else all of them. */
    public String defaultDlqFilter() {
        return dlqSubject != null ? dlqSubject : ALL_DLQ_SUBJECTS;
    }

    /** The consumer's default slot: {@code vrsky_<database>}, lower-cased, other characters {@code _}, at most 63. */
    static String defaultSlot(String database) {
        String name = "vrsky_" + database.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        return name.length() > 63 ? name.substring(0, 63) : name;
    }

    private static boolean configured(Env env, String direction) {
        String p = "POSTGRES_" + direction + "_";
        return env.raw(p + "HOST").isPresent() || env.raw(p + "USER").isPresent() || env.raw(p + "DATABASE").isPresent();
    }

    @Override
    public String toString() {
        return "AdminSettings[source=" + source.postgres() + ", slot=" + source.slot() + ", publication=" + source.publication()
                + ", sink=" + sink + ", nats=" + nats + ", durable=" + durable + ", dlqSubject=" + dlqSubject + "]";
    }
}
