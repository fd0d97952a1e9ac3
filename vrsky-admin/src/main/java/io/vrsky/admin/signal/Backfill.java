package io.vrsky.admin.signal;

import io.vrsky.admin.AdminExit;
import io.vrsky.admin.AdminFailure;
import io.vrsky.admin.AdminSettings;
import io.vrsky.admin.connect.Pg;
import io.vrsky.core.model.TableId;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Asks postgres-consumer for a backfill: one row {@code ('backfill', 'schema.a,schema.b')} in its
 * signal table ({@code POSTGRES_INPUT_SIGNAL_TABLE}), which it reads from the replication stream
 * and then copies those tables again while streaming goes on. Only tables the consumer streams
 * (in the publication, and in {@code POSTGRES_INPUT_TABLES} when that is set) are accepted.
 */
public final class Backfill {

    /** What was asked: the signal row's id, where, and for which tables. */
    public record Request(long id, TableId signalTable, List<TableId> tables) {
        public Request {
            tables = List.copyOf(tables);
        }
    }

    private final AdminSettings.Source source;

    public Backfill(AdminSettings.Source source) {
        this.source = source;
    }

    /**
     * @param tables the tables to copy again; empty means every monitored table (a new snapshot)
     * @throws AdminFailure exit 2 without a signal table, 4 when the publication or the signal table
     *                      does not exist, 1 (nothing inserted) when a table is not streamed
     */
    public Request request(Pg pg, List<TableId> tables) throws AdminFailure {
        TableId signal = source.signalTable();
        if (signal == null) {
            throw new AdminFailure(AdminExit.USAGE, "POSTGRES_INPUT_SIGNAL_TABLE is not set: it names the table postgres-consumer reads"
                    + " backfill requests from (set it for the consumer, and here)");
        }
        try {
            Set<TableId> monitored = monitored(pg, signal);
            List<TableId> wanted = new ArrayList<>();
            List<String> refusals = new ArrayList<>();
            if (tables.isEmpty()) {
                wanted.addAll(monitored);
                if (wanted.isEmpty()) {
                    throw new AdminFailure(AdminExit.REFUSED, "publication " + source.publication() + " streams no table to copy: nothing asked");
                }
            }
            for (TableId t : tables) {
                if (t.equals(signal)) {
                    refusals.add("table " + t + " is the signal table itself: it is never copied");
                } else if (!monitored.contains(t)) {
                    refusals.add("table " + t + " is not streamed by this consumer (not in publication " + source.publication()
                            + (source.tables().isEmpty() ? "" : " or not in POSTGRES_INPUT_TABLES") + "): it cannot be backfilled");
                } else if (!wanted.contains(t)) {
                    wanted.add(t);
                }
            }
            if (!refusals.isEmpty()) {
                refusals.add("nothing asked");
                throw new AdminFailure(AdminExit.REFUSED, refusals);
            }
            if (!exists(pg, signal)) {
                throw new AdminFailure(AdminExit.NOT_FOUND, "signal table " + signal + " does not exist in " + pg.settings().target()
                        + ": postgres-consumer creates it when it starts with POSTGRES_INPUT_SIGNAL_TABLE=" + signal);
            }
            String list = String.join(",", wanted.stream().map(TableId::toString).toList());
            try (PreparedStatement s = pg.connection().prepareStatement("INSERT INTO " + quote(signal.schema()) + "." + quote(signal.table())
                    + " (kind, tables) VALUES ('backfill', ?) RETURNING id")) {
                s.setString(1, list);
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    return new Request(rs.getLong(1), signal, wanted);
                }
            }
        } catch (SQLException e) {
            throw pg.failure("asking for a backfill in " + signal, e);
        }
    }

    /** The tables the consumer streams: the publication's, narrowed to POSTGRES_INPUT_TABLES when set, without the signal table. */
    private Set<TableId> monitored(Pg pg, TableId signal) throws SQLException, AdminFailure {
        try (PreparedStatement s = pg.connection().prepareStatement("SELECT 1 FROM pg_publication WHERE pubname = ?")) {
            s.setString(1, source.publication());
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    throw new AdminFailure(AdminExit.NOT_FOUND, "publication " + source.publication() + " does not exist in "
                            + pg.settings().target() + ": postgres-consumer creates it at its first start");
                }
            }
        }
        Set<TableId> published = new LinkedHashSet<>();
        try (PreparedStatement s = pg.connection().prepareStatement(
                "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = ? ORDER BY schemaname, tablename")) {
            s.setString(1, source.publication());
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    published.add(new TableId(rs.getString(1), rs.getString(2)));
                }
            }
        }
        published.remove(signal);
        if (!source.tables().isEmpty()) {
            published.retainAll(new LinkedHashSet<>(source.tables()));
        }
        return published;
    }

    private static boolean exists(Pg pg, TableId table) throws SQLException {
        try (PreparedStatement s = pg.connection().prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            s.setString(1, quote(table.schema()) + "." + quote(table.table()));
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }
}
