package io.vrsky.consumer.replication;

import io.vrsky.consumer.filter.OperationFilter;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.TableId;
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
import java.util.stream.Collectors;

/**
 * Makes sure PostgreSQL can stream: checks {@code wal_level} and the REPLICATION privilege,
 * creates the publication (for the configured tables, or FOR ALL TABLES) and the pgoutput slot
 * when missing, reuses them when present. Safe to run by several instances at once.
 */
public final class SlotManager {

    private static final Logger LOG = LoggerFactory.getLogger(SlotManager.class);
    private static final String DUPLICATE_OBJECT = "42710";

    private final DataSource dataSource;
    private final String database;
    private final String slot;
    private final String publication;
    private final List<TableId> tables;
    private final OperationFilter operations;

    public SlotManager(DataSource dataSource, String database, String slot, String publication, List<TableId> tables,
                       OperationFilter operations) {
        this.dataSource = dataSource;
        this.database = database;
        this.slot = slot;
        this.publication = publication;
        this.tables = List.copyOf(tables);
        this.operations = operations;
    }

    /**
     * @return the slot's confirmed position (where streaming resumes)
     * @throws SetupException when PostgreSQL is not usable as configured
     * @throws SQLException   when PostgreSQL cannot be reached (retry)
     */
    public Lsn ensure() throws SQLException, SetupException {
        try (Connection c = dataSource.getConnection()) {
            checkServer(c);
            ensurePublication(c);
            return ensureSlot(c);
        }
    }

    private void checkServer(Connection c) throws SQLException, SetupException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT current_setting('wal_level'), r.rolreplication OR r.rolsuper, current_user"
                        + " FROM pg_roles r WHERE r.rolname = current_user")) {
            if (!rs.next()) {
                throw new SetupException(3, "cannot read the current role from pg_roles");
            }
            String walLevel = rs.getString(1);
            String user = rs.getString(3);
            if (!"logical".equals(walLevel)) {
                throw new SetupException(3, "PostgreSQL has wal_level=" + walLevel + "; logical replication needs"
                        + " wal_level=logical (ALTER SYSTEM SET wal_level = logical, then restart PostgreSQL)");
            }
            if (!rs.getBoolean(2)) {
                throw new SetupException(3, "role " + user + " lacks the REPLICATION privilege that logical replication needs"
                        + " (ALTER ROLE " + quote(user) + " WITH REPLICATION)");
            }
        }
    }

    private void ensurePublication(Connection c) throws SQLException, SetupException {
        boolean exists;
        try (PreparedStatement ps = c.prepareStatement("SELECT puballtables FROM pg_publication WHERE pubname = ?")) {
            ps.setString(1, publication);
            try (ResultSet rs = ps.executeQuery()) {
                exists = rs.next();
                if (exists && !rs.getBoolean(1) && !tables.isEmpty()) {
                    warnAboutMissingTables(c);
                }
            }
        }
        if (exists) {
            LOG.info("reusing publication {}", publication);
            return;
        }
        String target;
        if (tables.isEmpty()) {
            target = "FOR ALL TABLES";
        } else {
            List<String> missing = new ArrayList<>();
            for (TableId t : tables) {
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
                throw new SetupException(2, "POSTGRES_INPUT_TABLES names " + String.join(", ", missing)
                        + ", which do(es) not exist in database " + database + ": create the table(s) or fix the list");
            }
            target = "FOR TABLE " + tables.stream().map(SlotManager::qualified).collect(Collectors.joining(", "));
        }
        String sql = "CREATE PUBLICATION " + quote(publication) + " " + target + " WITH (publish = '" + operations.publishOption() + "')";
        try (Statement s = c.createStatement()) {
            s.execute(sql);
            LOG.info("created publication {} {}", publication, target);
        } catch (SQLException e) {
            if (!DUPLICATE_OBJECT.equals(e.getSQLState())) {
                if ("42501".equals(e.getSQLState())) {
                    throw new SetupException(3, "cannot create publication " + publication + ": " + e.getMessage()
                            + " (FOR ALL TABLES needs a superuser; name the tables in POSTGRES_INPUT_TABLES or create the publication yourself)");
                }
                throw e;
            }
            LOG.info("publication {} was created concurrently; reusing it", publication);
        }
    }

    private void warnAboutMissingTables(Connection c) throws SQLException {
        for (TableId t : tables) {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT 1 FROM pg_publication_tables WHERE pubname = ? AND schemaname = ? AND tablename = ?")) {
                ps.setString(1, publication);
                ps.setString(2, t.schema());
                ps.setString(3, t.table());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        LOG.warn("publication {} does not include {}: its changes will not be captured", publication, t);
                    }
                }
            }
        }
    }

    private Lsn ensureSlot(Connection c) throws SQLException, SetupException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT plugin, database, confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    String plugin = rs.getString(1);
                    String db = rs.getString(2);
                    if (!"pgoutput".equals(plugin)) {
                        throw new SetupException(4, "replication slot " + slot + " uses output plugin " + plugin
                                + ", not pgoutput: choose another POSTGRES_INPUT_REPLICATION_SLOT or drop the slot");
                    }
                    if (!database.equals(db)) {
                        throw new SetupException(4, "replication slot " + slot + " belongs to database " + db + ", not "
                                + database + ": choose another POSTGRES_INPUT_REPLICATION_SLOT");
                    }
                    Lsn confirmed = rs.getString(3) == null ? Lsn.ZERO : Lsn.parse(rs.getString(3));
                    LOG.info("reusing replication slot {} (confirmed_flush_lsn {})", slot, confirmed);
                    return confirmed;
                }
            }
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
                return Lsn.ZERO;
            }
            if ("42501".equals(e.getSQLState())) {
                throw new SetupException(3, "cannot create replication slot " + slot + ": " + e.getMessage());
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
