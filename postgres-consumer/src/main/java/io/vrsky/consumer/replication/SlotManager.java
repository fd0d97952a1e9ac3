package io.vrsky.consumer.replication;

import io.vrsky.consumer.filter.OperationFilter;
import io.vrsky.core.model.Operation;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.TableId;
import io.vrsky.core.pg.PgErrors;
import io.vrsky.core.service.ExitCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/**
 * Makes sure PostgreSQL can stream: checks {@code wal_level} and the REPLICATION privilege,
 * creates the publication (for the configured tables, or FOR ALL TABLES) and the pgoutput slot
 * when missing, reuses them when present. Safe to run by several instances at once.
 *
 * <p>It refuses (exit code 3) rather than harm the source or lose changes silently:
 * <ul>
 *   <li>before creating or altering a publication, when UPDATE or DELETE are published and a
 *       monitored table cannot publish them (no primary key under REPLICA IDENTITY DEFAULT,
 *       NOTHING, or USING INDEX without the index): the source application's own UPDATE and
 *       DELETE on it would fail once it is in a publication;</li>
 *   <li>when the slot is missing although the stream holds messages published through it, or
 *       PostgreSQL invalidated it ({@code wal_status} lost): the changes in between were never
 *       read, and a new slot would silently start from now. This holds on every start until the
 *       operator recovers.</li>
 * </ul>
 */
public final class SlotManager {

    private static final Logger LOG = LoggerFactory.getLogger(SlotManager.class);
    private static final String DUPLICATE_OBJECT = "42710"; // DUPLICATE OBJECT: created by another instance meanwhile
    private static final String INSUFFICIENT_PRIVILEGE = "42501";

    private final DataSource dataSource;
    private final String database;
    private final String slot;
    private final String publication;
    private final List<TableId> tables;
    private final OperationFilter operations;
    private final TableId signalTable;
    private final boolean sessionCreatesSlot;

    public SlotManager(DataSource dataSource, String database, String slot, String publication, List<TableId> tables,
                       OperationFilter operations) {
        this(dataSource, database, slot, publication, tables, operations, null, false);
    }

    /**
     * @param signalTable        the snapshot signal table (created when missing and added to the publication), or null
     * @param sessionCreatesSlot a missing slot is left to the replication session, which creates it with an
     *                           exported snapshot for the initial snapshot ({@link #ensure} returns null then)
     */
    public SlotManager(DataSource dataSource, String database, String slot, String publication, List<TableId> tables,
                       OperationFilter operations, TableId signalTable, boolean sessionCreatesSlot) {
        this.dataSource = dataSource;
        this.database = database;
        this.slot = slot;
        this.publication = publication;
        this.tables = List.copyOf(tables);
        this.operations = operations;
        this.signalTable = signalTable;
        this.sessionCreatesSlot = sessionCreatesSlot;
    }

    /** The CDC stream: its name and subject, and whether it holds messages this slot published. */
    public record Stream(String name, String subject, BooleanSupplier holdsMessagesOfSlot) {
    }

    /**
     * @param stream read only when the slot is missing (whether it published before) and for the
     *               recovery text of a lost slot
     * @return the slot's confirmed position (where streaming resumes); null when the slot is missing and
     *         is to be created by the session (with an exported snapshot)
     * @throws SetupException when PostgreSQL is not usable as configured, or changes were lost
     * @throws SQLException   when PostgreSQL cannot be reached (retry)
     */
    public Lsn ensure(Stream stream) throws SQLException, SetupException {
        try (Connection c = dataSource.getConnection()) {
            checkServer(c);
            SlotRow existing = slotRow(c);
            if (existing == null) {
                if (stream.holdsMessagesOfSlot().getAsBoolean()) {
                    throw new SetupException(ExitCode.DEPENDENCY, missingSlot(slot, stream));
                }
            } else {
                Optional<String> lost = lostSlot(slot, existing.walStatus(), existing.invalidationReason(), stream);
                if (lost.isPresent()) {
                    throw new SetupException(ExitCode.DEPENDENCY, lost.get());
                }
            }
            checkReplicaIdentity(c);
            if (signalTable != null) {
                createSignalTable(c);
            }
            ensurePublication(c);
            return ensureSlot(c, existing);
        }
    }

    /** How to start over once changes are lost: forget this slot's messages, let the consumer create the slot, copy the tables again. */
    private static String recovery(String slot, Stream stream, boolean dropSlotFirst) {
        return "To recover: " + (dropSlotFirst ? "drop the slot (SELECT pg_drop_replication_slot('" + slot + "')), " : "")
                + "purge this slot's messages from the stream (nats stream purge " + stream.name() + " --subject="
                + stream.subject() + ", or drop the stream), start the consumer again so it creates the slot, then re-copy"
                + " the tables into the sink";
    }

    static String missingSlot(String slot, Stream stream) {
        return "replication slot " + slot + " is missing, but stream " + stream.name() + " holds messages published through it:"
                + " the slot was dropped, so the changes made since it last confirmed were never read and changes were lost."
                + " Streaming from now would hide that. " + recovery(slot, stream, false);
    }

    /**
     * Whether PostgreSQL invalidated the slot: {@code wal_status} {@code lost} (the WAL it needed
     * was removed, e.g. past {@code max_slot_wal_keep_size}) or an invalidation reason (PostgreSQL
     * 17 and later). {@code unreserved} is not lost yet: it may still recover.
     */
    static Optional<String> lostSlot(String slot, String walStatus, String invalidationReason, Stream stream) {
        if (!"lost".equals(walStatus) && invalidationReason == null) {
            return Optional.empty();
        }
        String why = invalidationReason != null ? "invalidation reason " + invalidationReason : "wal_status lost";
        return Optional.of("replication slot " + slot + " was invalidated by PostgreSQL (" + why + "): the WAL it still needed"
                + " was removed, so changes were lost. " + recovery(slot, stream, true));
    }

    private void checkServer(Connection c) throws SQLException, SetupException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT current_setting('wal_level'), r.rolreplication OR r.rolsuper OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles g"
                        // Amazon RDS and Aurora grant replication through membership in rds_replication instead
                        + " WHERE g.rolname = 'rds_replication' AND pg_catalog.pg_has_role(current_user, g.oid, 'MEMBER')), current_user"
                        + " FROM pg_catalog.pg_roles r WHERE r.rolname = current_user")) {
            if (!rs.next()) {
                throw new SetupException(ExitCode.DEPENDENCY, "cannot read the current role from pg_roles");
            }
            String walLevel = rs.getString(1);
            String user = rs.getString(3);
            if (!"logical".equals(walLevel)) {
                throw new SetupException(ExitCode.DEPENDENCY, "PostgreSQL has wal_level=" + walLevel + "; logical replication needs"
                        + " wal_level=logical (ALTER SYSTEM SET wal_level = logical, then restart PostgreSQL)");
            }
            if (!rs.getBoolean(2)) {
                throw new SetupException(ExitCode.DEPENDENCY, "role " + user + " lacks the REPLICATION privilege that logical replication needs"
                        + " (ALTER ROLE " + quote(user) + " WITH REPLICATION; on Amazon RDS: GRANT rds_replication TO " + quote(user) + ")");
            }
        }
    }

    /** The monitored tables' replica identity; only when UPDATE or DELETE are published. */
    private void checkReplicaIdentity(Connection c) throws SQLException, SetupException {
        if (!operations.accepts(Operation.UPDATE) && !operations.accepts(Operation.DELETE)) {
            return;
        }
        List<String> problems = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(IDENTITY)) {
            ps.setString(1, publication);
            ps.setArray(2, c.createArrayOf("text", tables.stream().map(SlotManager::qualified).toArray()));
            ps.setBoolean(3, tables.isEmpty());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    identityProblem(new TableId(rs.getString(1), rs.getString(2)), rs.getString(3).charAt(0), rs.getBoolean(4),
                            rs.getBoolean(5)).ifPresent(problems::add);
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new SetupException(ExitCode.DEPENDENCY, String.join("\n", problems));
        }
    }

    /**
     * The monitored tables with their replica identity: the configured ones (parameter 2, an array
     * of qualified names; those that do not exist are left out here and reported when the
     * publication is created), or with none configured (parameter 3) the tables of the existing
     * publication, or every table a FOR ALL TABLES publication would hold.
     */
    private static final String IDENTITY = """
            WITH pub AS (SELECT oid, puballtables FROM pg_catalog.pg_publication WHERE pubname = ?),
            configured AS (SELECT to_regclass(n) AS oid FROM unnest(CAST(? AS text[])) AS n)
            SELECT n.nspname, c.relname, c.relreplident,
                   EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary),
                   EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisreplident)
            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p')
              AND CASE WHEN NOT ? THEN c.oid IN (SELECT oid FROM configured)
                       WHEN EXISTS (SELECT 1 FROM pub WHERE NOT puballtables)
                           THEN c.oid IN (SELECT pr.prrelid FROM pg_catalog.pg_publication_rel pr JOIN pub ON pr.prpubid = pub.oid)
                       ELSE c.relpersistence = 'p' AND NOT c.relispartition
                            AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
                  END
            ORDER BY n.nspname, c.relname""";

    /** Why a table cannot publish UPDATE and DELETE, with the fix; empty when it can. */
    static Optional<String> identityProblem(TableId table, char replicaIdentity, boolean hasPrimaryKey, boolean hasIdentityIndex) {
        String what = switch (replicaIdentity) {
            case 'd' -> hasPrimaryKey ? null : "has no primary key and REPLICA IDENTITY DEFAULT";
            case 'n' -> "has REPLICA IDENTITY NOTHING";
            case 'i' -> hasIdentityIndex ? null : "has REPLICA IDENTITY USING INDEX, but that index no longer exists";
            default -> null; // 'f': FULL
        };
        if (what == null) {
            return Optional.empty();
        }
        String fix = hasPrimaryKey ? "ALTER TABLE " + table + " REPLICA IDENTITY DEFAULT (it has a primary key) or FULL"
                : "ALTER TABLE " + table + " REPLICA IDENTITY FULL (or add a primary key)";
        return Optional.of("table " + table + " " + what + ": its UPDATE and DELETE cannot be published, and adding it to the"
                + " publication would make them fail at the source. Fix: " + fix + ", or set POSTGRES_INPUT_OPERATIONS=INSERT");
    }

    /** The snapshot signal table, when missing. */
    private void createSignalTable(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + qualified(signalTable) + " (id bigserial PRIMARY KEY, kind text NOT NULL,"
                    + " tables text, created_at timestamptz DEFAULT now())");
        } catch (SQLException e) {
            if (!DUPLICATE_OBJECT.equals(e.getSQLState()) && !"23505".equals(e.getSQLState())) { // created concurrently
                throw e;
            }
        }
    }

    /** The tables a FOR TABLE publication must hold: the configured ones and the signal table. */
    private List<TableId> publishedTables() {
        List<TableId> all = new ArrayList<>(tables);
        if (signalTable != null && !tables.isEmpty() && !all.contains(signalTable)) {
            all.add(signalTable);
        }
        return all;
    }

    private void ensurePublication(Connection c) throws SQLException, SetupException {
        boolean exists;
        try (PreparedStatement ps = c.prepareStatement("SELECT puballtables, pubinsert, pubupdate, pubdelete, pubtruncate"
                + " FROM pg_catalog.pg_publication WHERE pubname = ?")) {
            ps.setString(1, publication);
            try (ResultSet rs = ps.executeQuery()) {
                exists = rs.next();
                if (exists) {
                    warnAboutMissingOperations(rs.getBoolean(2), rs.getBoolean(3), rs.getBoolean(4), rs.getBoolean(5));
                    if (!rs.getBoolean(1) && (!tables.isEmpty() || signalTable != null)) {
                        addMissingTables(c);
                    }
                }
            }
        }
        if (exists) {
            warnAboutFilters(c);
            publishViaPartitionRoot(c);
            LOG.info("reusing publication {}", publication);
            return;
        }
        String target;
        if (tables.isEmpty()) {
            target = "FOR ALL TABLES";
        } else {
            List<String> missing = new ArrayList<>();
            for (TableId t : publishedTables()) {
                try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?)")) {
                    ps.setString(1, qualified(t));
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next() || rs.getString(1) == null) {
                            missing.add(t.toString());
                        }
                    }
                }
            }
            if (!missing.isEmpty()) {
                throw new SetupException(ExitCode.BAD_CONFIG, "POSTGRES_INPUT_TABLES names " + String.join(", ", missing)
                        + ", which do(es) not exist in database " + database + ": create the table(s) or fix the list");
            }
            target = "FOR TABLE " + publishedTables().stream().map(SlotManager::qualified).collect(Collectors.joining(", "));
        }
        // partitioned tables publish their changes under the table's own name, not each partition's
        String viaRoot = c.getMetaData().getDatabaseMajorVersion() >= 13 ? ", publish_via_partition_root = true" : "";
        String sql = "CREATE PUBLICATION " + quote(publication) + " " + target + " WITH (publish = '" + operations.publishOption() + "'"
                + viaRoot + ")";
        try (Statement s = c.createStatement()) {
            s.execute(sql);
            LOG.info("created publication {} {}", publication, target);
        } catch (SQLException e) {
            if (!DUPLICATE_OBJECT.equals(e.getSQLState())) {
                if (INSUFFICIENT_PRIVILEGE.equals(e.getSQLState())) {
                    throw new SetupException(ExitCode.DEPENDENCY, "cannot create publication " + publication + ": " + PgErrors.serverMessage(e)
                            + " (FOR ALL TABLES needs a superuser; name the tables in POSTGRES_INPUT_TABLES or create the publication yourself)");
                }
                throw e;
            }
            LOG.info("publication {} was created concurrently; reusing it", publication);
        }
    }

    /**
     * An existing publication that holds a partitioned table but publishes its changes under each
     * partition's name (publish_via_partition_root off) would send the sink tables it does not have:
     * it is switched to the partitioned table's name, or a WARN says what to do.
     */
    private void publishViaPartitionRoot(Connection c) throws SQLException {
        if (c.getMetaData().getDatabaseMajorVersion() < 13) {
            return;
        }
        List<String> partitioned = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT n.nspname, cl.relname FROM pg_catalog.pg_publication p"
                + " CROSS JOIN LATERAL pg_catalog.pg_get_publication_tables(p.pubname) AS t JOIN pg_catalog.pg_class cl"
                + " ON cl.oid = t.relid JOIN pg_catalog.pg_namespace n ON n.oid = cl.relnamespace"
                + " WHERE p.pubname = ? AND NOT p.pubviaroot AND cl.relispartition ORDER BY 1, 2")) {
            ps.setString(1, publication);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    partitioned.add(new TableId(rs.getString(1), rs.getString(2)).toString());
                }
            }
        }
        if (partitioned.isEmpty()) {
            return;
        }
        try (Statement s = c.createStatement()) {
            s.execute("ALTER PUBLICATION " + quote(publication) + " SET (publish_via_partition_root = true)");
            LOG.info("publication {} publishes partitions ({}): set publish_via_partition_root = true, so their changes carry the"
                    + " partitioned table's name", publication, String.join(", ", partitioned));
        } catch (SQLException e) {
            LOG.warn("publication {} publishes the changes of partitions ({}) under their own names, and it cannot be changed ({}):"
                    + " the sink receives tables it may not have; run ALTER PUBLICATION {} SET (publish_via_partition_root = true)",
                    publication, String.join(", ", partitioned), PgErrors.serverMessage(e), publication);
        }
    }

    /** An existing publication that does not publish an operation the consumer is configured for loses those changes. */
    private void warnAboutMissingOperations(boolean insert, boolean update, boolean delete, boolean truncate) {
        List<String> missing = new ArrayList<>();
        boolean[] published = {insert, update, delete, truncate};
        Operation[] ops = {Operation.INSERT, Operation.UPDATE, Operation.DELETE, Operation.TRUNCATE};
        for (int i = 0; i < ops.length; i++) {
            if (operations.accepts(ops[i]) && !published[i]) {
                missing.add(ops[i].name());
            }
        }
        if (!missing.isEmpty()) {
            LOG.warn("publication {} does not publish {}: those changes are not captured although POSTGRES_INPUT_OPERATIONS asks for"
                    + " them (ALTER PUBLICATION {} SET (publish = '{}'), or leave them out of POSTGRES_INPUT_OPERATIONS)",
                    publication, String.join(", ", missing), publication, operations.publishOption());
        }
    }

    /** Row filters and column lists (PostgreSQL 15 and later) of an existing publication: rows or columns not captured. */
    private void warnAboutFilters(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT n.nspname, cl.relname, to_jsonb(pr) ->> 'prqual' IS NOT NULL,"
                + " to_jsonb(pr) ->> 'prattrs' IS NOT NULL FROM pg_catalog.pg_publication_rel pr"
                + " JOIN pg_catalog.pg_publication p ON p.oid = pr.prpubid JOIN pg_catalog.pg_class cl ON cl.oid = pr.prrelid"
                + " JOIN pg_catalog.pg_namespace n ON n.oid = cl.relnamespace WHERE p.pubname = ? ORDER BY 1, 2")) {
            ps.setString(1, publication);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    TableId t = new TableId(rs.getString(1), rs.getString(2));
                    if ((tables.isEmpty() || tables.contains(t)) && (rs.getBoolean(3) || rs.getBoolean(4))) {
                        LOG.warn("publication {} publishes {} of table {} only: {} not captured, so the sink will not hold"
                                + " them (drop the filter with ALTER PUBLICATION {} SET TABLE ..., or use a publication of your own"
                                + " for other subscribers)", publication, rs.getBoolean(3) ? "the rows matching a WHERE filter"
                                : "a column list", t, rs.getBoolean(3) ? "changes of the other rows are" : "the other columns are",
                                publication);
                    }
                }
            }
        }
    }

    /**
     * A configured table (or the signal table) that an existing FOR TABLE publication lacks is added to
     * it (its replica identity was checked before); one that does not exist is reported.
     */
    private void addMissingTables(Connection c) throws SQLException {
        List<TableId> wanted = new ArrayList<>(publishedTables());
        if (tables.isEmpty() && signalTable != null) {
            wanted.add(signalTable);
        }
        for (TableId t : wanted) {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT 1 FROM pg_publication_tables WHERE pubname = ? AND schemaname = ? AND tablename = ?")) {
                ps.setString(1, publication);
                ps.setString(2, t.schema());
                ps.setString(3, t.table());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        continue;
                    }
                }
            }
            try (Statement s = c.createStatement()) {
                s.execute("ALTER PUBLICATION " + quote(publication) + " ADD TABLE " + qualified(t));
                LOG.info("added table {} to publication {}", t, publication);
            } catch (SQLException e) {
                if (DUPLICATE_OBJECT.equals(e.getSQLState())) {
                    continue; // added concurrently
                }
                LOG.warn("publication {} does not include {} and it cannot be added ({}): its changes will not be captured",
                        publication, t, PgErrors.serverMessage(e));
            }
        }
    }

    /** The slot as pg_replication_slots shows it. */
    private record SlotRow(String plugin, String database, Lsn confirmed, String walStatus, String invalidationReason) {
    }

    /** The slot, or null when it does not exist. wal_status (PostgreSQL 13+) and invalidation_reason (17+) are read when there. */
    private SlotRow slotRow(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT s.plugin, s.database, s.confirmed_flush_lsn::text,"
                + " to_jsonb(s) ->> 'wal_status', to_jsonb(s) ->> 'invalidation_reason'"
                + " FROM pg_catalog.pg_replication_slots s WHERE s.slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                return new SlotRow(rs.getString(1), rs.getString(2), rs.getString(3) == null ? Lsn.ZERO : Lsn.parse(rs.getString(3)),
                        rs.getString(4), rs.getString(5));
            }
        }
    }

    private Lsn ensureSlot(Connection c, SlotRow existing) throws SQLException, SetupException {
        if (existing != null) {
            if (!"pgoutput".equals(existing.plugin())) {
                throw new SetupException(ExitCode.DATA, "replication slot " + slot + " uses output plugin " + existing.plugin()
                        + ", not pgoutput: choose another POSTGRES_INPUT_REPLICATION_SLOT or drop the slot");
            }
            if (!database.equals(existing.database())) {
                throw new SetupException(ExitCode.DATA, "replication slot " + slot + " belongs to database " + existing.database() + ", not "
                        + database + ": choose another POSTGRES_INPUT_REPLICATION_SLOT");
            }
            LOG.info("reusing replication slot {} (confirmed_flush_lsn {})", slot, existing.confirmed());
            return existing.confirmed();
        }
        if (sessionCreatesSlot) {
            return null; // the replication session creates it with an exported snapshot, for the initial snapshot
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT lsn::text FROM pg_create_logical_replication_slot(?, 'pgoutput')")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                Lsn lsn = Lsn.parse(rs.getString(1));
                LOG.info("created replication slot {} at LSN {}", slot, lsn);
                return lsn;
            }
        } catch (SQLException e) {
            if (DUPLICATE_OBJECT.equals(e.getSQLState())) {
                LOG.info("replication slot {} was created concurrently; reusing it", slot);
                SlotRow raced = slotRow(c);
                return raced == null ? Lsn.ZERO : raced.confirmed();
            }
            if (INSUFFICIENT_PRIVILEGE.equals(e.getSQLState())) {
                throw new SetupException(ExitCode.DEPENDENCY, "cannot create replication slot " + slot + ": " + PgErrors.serverMessage(e));
            }
            throw e;
        }
    }

    static String qualified(TableId t) {
        return quote(t.schema()) + "." + quote(t.table());
    }

    static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }
}
