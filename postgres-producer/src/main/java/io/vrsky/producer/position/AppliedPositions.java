package io.vrsky.producer.position;

import io.vrsky.core.model.Change;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.Lsn;
import io.vrsky.producer.lease.LeaseFence;

import io.vrsky.producer.catalog.OwnTables;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The last source transaction applied per source ({@code postgres-consumer/<database>/<slot>}),
 * kept in the sink table {@value #TABLE} and written in the same transaction as the rows it
 * covers. A message published back for replay is tracked under its own key,
 * {@code replay:<replay id>}, so it is applied once per replay id whatever its source's position. A change whose {@code (source, commitLsn)} is at or below the recorded
 * position was applied before and is skipped; the check is per change, since after a restart
 * the consumer may pack transactions into messages differently. Envelopes without a source or
 * commit LSN are not tracked (their exactly-once rests on the JetStream ack). Snapshot rows are
 * never compared with the source's stream position: each (source, snapshot id, table) has a key
 * of its own, {@code <source>#snap:<id>:<table>}, whose position is the last chunk applied
 * (commit LSN {@code 0/0}).
 *
 * <p>A batch works on a copy ({@link #begin()}) that becomes the committed state only after the
 * sink transaction committed ({@link #committed()}). Used by the loop thread only.
 */
public final class AppliedPositions {

    public static final String TABLE = "vrsky_applied_position";

    static final String CREATE_SQL = "CREATE TABLE IF NOT EXISTS public." + TABLE + " ("
            + "source text PRIMARY KEY, commit_lsn pg_lsn NOT NULL, chunk integer NOT NULL, "
            + "updated_at timestamptz NOT NULL DEFAULT now())";
    static final String SELECT_SQL = "SELECT source, commit_lsn::text, chunk FROM public." + TABLE;
    static final String UPSERT_SQL = "INSERT INTO public." + TABLE + " AS p (source, commit_lsn, chunk, updated_at) "
            + "VALUES (?, ?::pg_lsn, ?, now()) ON CONFLICT (source) DO UPDATE SET commit_lsn = EXCLUDED.commit_lsn, "
            + "chunk = EXCLUDED.chunk, updated_at = EXCLUDED.updated_at WHERE p.commit_lsn <= EXCLUDED.commit_lsn";

    /** A recorded position. */
    public record Position(Lsn commitLsn, int chunk) {
    }

    private final LeaseFence fence;
    private Map<String, Position> committed = new HashMap<>();
    private Map<String, Position> working = new HashMap<>();
    private final Set<String> dirty = new LinkedHashSet<>();

    /** Without fencing (a lone producer in tests). */
    public AppliedPositions() {
        this(LeaseFence.NONE);
    }

    /** @param fence run first by every {@link #save(Connection)}: only the lease holder's transactions may commit */
    public AppliedPositions(LeaseFence fence) {
        this.fence = fence;
    }

    /** Creates the position table when it does not exist yet. */
    public static void createTable(Connection connection) throws SQLException {
        OwnTables.createIfMissing(connection, TABLE, CREATE_SQL);
    }

    /** Replaces the committed state with what the table holds. */
    public void load(Connection connection) throws SQLException {
        Map<String, Position> loaded = new HashMap<>();
        try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery(SELECT_SQL)) {
            while (rs.next()) {
                loaded.put(rs.getString(1), new Position(Lsn.parse(rs.getString(2)), rs.getInt(3)));
            }
        }
        committed = loaded;
        begin();
    }

    /** Starts a batch from the committed state. */
    public void begin() {
        working = new HashMap<>(committed);
        dirty.clear();
    }

    /** Whether {@code change} (of {@code envelope}) was applied already, by a committed or by this batch. */
    public boolean applied(Envelope envelope, Change change) {
        Lsn lsn = commitLsn(envelope, change);
        return lsn != null && envelope.source() != null && applied(envelope.source(), lsn);
    }

    public boolean applied(String source, Lsn commitLsn) {
        Position p = working.get(source);
        return p != null && commitLsn.compareTo(p.commitLsn()) <= 0;
    }

    public boolean committedApplied(String source, Lsn commitLsn) {
        Position p = committed.get(source);
        return source != null && commitLsn != null && p != null && commitLsn.compareTo(p.commitLsn()) <= 0;
    }

    /** Moves this batch's position past every transaction of a whole (not chunked) message. */
    public void advancePast(Envelope envelope) {
        if (envelope.source() == null) {
            return;
        }
        Lsn max = envelope.metadata() == null ? null : envelope.metadata().commitLsn();
        for (Change c : envelope.changes()) {
            Lsn lsn = commitLsn(envelope, c);
            if (lsn != null && (max == null || lsn.isAfter(max))) {
                max = lsn;
            }
        }
        if (max != null) {
            advance(envelope.source(), max, envelope.metadata() == null ? 0 : envelope.metadata().chunk());
        }
    }

    /**
     * Whether snapshot chunk {@code chunk} was applied already under {@code key}
     * ({@code <source>#snap:<id>:<table>}): chunk numbers of one snapshot and table only grow, and
     * the position records the last one applied (commit LSN {@code 0/0}).
     */
    public boolean appliedChunk(String key, int chunk) {
        Position p = working.get(key);
        return p != null && chunk <= p.chunk();
    }

    /** Moves the snapshot position {@code key} to {@code chunk} when that is past it. */
    public void advanceChunk(String key, int chunk) {
        Position p = working.get(key);
        if (p == null || chunk > p.chunk()) {
            working.put(key, new Position(Lsn.ZERO, chunk));
            dirty.add(key);
        }
    }

    public void advance(String source, Lsn commitLsn, int chunk) {
        Position p = working.get(source);
        if (p == null || commitLsn.isAfter(p.commitLsn())) {
            working.put(source, new Position(commitLsn, chunk));
            dirty.add(source);
        }
    }

    /**
     * Checks the lease fence, then writes this batch's moved positions, inside the caller's
     * transaction: every sink transaction that applies data calls this right before its commit.
     *
     * @throws io.vrsky.producer.lease.LeaseLostException when another producer instance holds the lease now
     */
    public void save(Connection connection) throws SQLException {
        fence.check(connection);
        if (dirty.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = connection.prepareStatement(UPSERT_SQL)) {
            for (String source : dirty) {
                Position p = working.get(source);
                ps.setString(1, source);
                ps.setString(2, p.commitLsn().toString());
                ps.setInt(3, p.chunk());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** The sink transaction committed: this batch's state is now the committed one. */
    public void committed() {
        committed = working;
        working = new HashMap<>(committed);
        dirty.clear();
    }

    public Position position(String source) {
        return committed.get(source);
    }

    /** The position of {@code key} including this batch's progress, or null. */
    public Position current(String key) {
        return working.get(key);
    }

    public static Lsn commitLsn(Envelope envelope, Change change) {
        if (change.commitLsn() != null) {
            return change.commitLsn();
        }
        return envelope.metadata() == null ? null : envelope.metadata().commitLsn();
    }
}
