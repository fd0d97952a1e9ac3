package io.vrsky.consumer.snapshot;

import io.vrsky.consumer.encode.ChangeEncoder.TxStrings;
import io.vrsky.consumer.encode.RelationInfo;
import io.vrsky.consumer.pgoutput.TupleView;
import io.vrsky.consumer.snapshot.SnapshotRecord.TableProgress;
import io.vrsky.consumer.tx.TxInfo;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.Operation;
import io.vrsky.core.model.TableId;
import io.vrsky.core.pg.PgDataSources;
import io.vrsky.core.pg.PgErrors;
import org.postgresql.PGProperty;
import org.postgresql.copy.CopyManager;
import org.postgresql.copy.CopyOut;
import org.postgresql.core.BaseConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * The copy of one table while streaming goes on. Runs on the replication thread: it starts steps
 * between reads of the stream, and sees the stream through {@link Snapshots}' observer methods.
 *
 * <ul>
 *   <li>{@link Keyset} (a table with a key), chunk by chunk as in DBLog: a low watermark
 *       ({@code pg_logical_emit_message(true, 'vrsky', ...)}, its own transaction), the next
 *       {@code chunkRows} rows after the last key read ({@code WHERE (key) > (last) ORDER BY key
 *       LIMIT n}), a high watermark. When the stream reaches the low watermark the window opens and
 *       the keys of the table's rows changed inside it are collected; at the high watermark those
 *       rows are dropped from the chunk (the stream carries their newer state) and the rest is
 *       published right there, after every transaction committed before it. Memory: one chunk.</li>
 *   <li>{@link Keyless} (no key to tell rows apart): a temporary slot is created with an exported
 *       snapshot (consistent point L) while the stream is not read, a copying transaction imports
 *       that snapshot, and at the first transaction that commits at or after L (a watermark written
 *       right after makes sure one comes) the table's TRUNCATE and its whole copy are published,
 *       before that transaction. The stream waits meanwhile (status updates go on).</li>
 * </ul>
 */
abstract sealed class Backfill {

    private static final Logger LOG = LoggerFactory.getLogger(Backfill.class);
    static final String UNDEFINED_TABLE = "42P01";

    final Snapshots owner;
    final SnapshotTable table;
    final String name;
    final RowEncoder encoder;
    boolean exhausted;

    Backfill(Snapshots owner, SnapshotTable table) {
        this.owner = owner;
        this.table = table;
        this.name = table.id().toString();
        this.encoder = new RowEncoder(owner.maxChangeBytes(), owner.config().compactEnvelopes());
    }

    String table() {
        return name;
    }

    TableId tableId() {
        return table.id();
    }

    /** Whether no step is under way (the next one may start). */
    abstract boolean idle();

    /** Whether the table's last rows were handed out (it finishes with their acknowledgement). */
    boolean exhausted() {
        return exhausted;
    }

    abstract void startChunk() throws Exception;

    void begin(TxInfo tx) throws Exception {
    }

    void changed(RelationInfo rel, Operation op, TupleView before, TupleView after) {
    }

    void watermark(String kind, String id, Lsn lsn) throws Exception {
    }

    abstract void close();

    /** Writes a watermark into the WAL in a transaction of its own. */
    static void emit(Connection c, String kind, String id, String table) throws SQLException {
        String content = "{\"wm\":\"" + kind + "\",\"id\":\"" + id + "\",\"table\":\"" + table.replace("\\", "\\\\").replace("\"", "\\\"")
                + "\"}";
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_logical_emit_message(true, ?, ?)")) {
            ps.setString(1, Snapshots.MESSAGE_PREFIX);
            ps.setString(2, content);
            ps.execute();
        }
    }

    static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.debug("closing: {}", e.toString());
            }
        }
    }

    /** Publishes cut messages, carrying the checked exceptions of publishing out of the chunker's callback. */
    final class Publishing implements java.util.function.Consumer<Chunker.Cut> {
        boolean any;

        @Override
        public void accept(Chunker.Cut cut) {
            any = true;
            try {
                owner.publishCut(cut);
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new PublishFailure(e);
            }
        }
    }

    static final class PublishFailure extends RuntimeException {
        PublishFailure(Exception cause) {
            super(cause.getMessage(), cause);
        }

        Exception unwrap() {
            return (Exception) getCause();
        }
    }

    // ------------------------------------------------------------------------------------------------------------ keyset

    /** A table with a key, chunk by chunk between watermarks. */
    static final class Keyset extends Backfill {

        private enum Phase { IDLE, AWAIT_LOW, WINDOW }

        private final CopyRows copyRows = new CopyRows();
        private final TupleView view = new TupleView();
        private Connection connection;
        private Phase phase = Phase.IDLE;
        private List<String> lastKey;
        private int nextChunk;
        private int sequence;
        private String watermarkId;
        private List<WatermarkWindow.Row> rows;
        private boolean more;
        private WatermarkWindow window;
        private RelationInfo keyOf;
        private int[] streamKey;

        Keyset(Snapshots owner, SnapshotTable table, TableProgress progress) {
            super(owner, table);
            this.lastKey = progress.lastKey();
            this.nextChunk = owner.firstChunk(name);
        }

        @Override
        boolean idle() {
            return phase == Phase.IDLE;
        }

        @Override
        void startChunk() throws Exception {
            if (connection == null) {
                connection = owner.copySource().getConnection();
                connection.setAutoCommit(true);
                try (Statement s = connection.createStatement()) {
                    s.execute("SET standard_conforming_strings = on");
                }
            }
            watermarkId = owner.snapshotId() + ":" + name + ":" + sequence++;
            int limit = owner.config().snapshot().chunkRows();
            emit(connection, "low", watermarkId, name);
            List<WatermarkWindow.Row> read = new ArrayList<>();
            try {
                CopyOut out = new CopyManager(connection.unwrap(BaseConnection.class)).copyOut(KeysetSql.chunk(table, lastKey, limit + 1));
                byte[] row;
                while ((row = out.readFromCopy()) != null) {
                    copyRows.read(row, table.relation().columns().size(), view);
                    read.add(new WatermarkWindow.Row(RowEncoder.key(table, view), row));
                }
            } catch (SQLException e) {
                if (UNDEFINED_TABLE.equals(e.getSQLState())) {
                    owner.tableGone(name, "it was dropped during its copy");
                    return;
                }
                throw e;
            }
            more = read.size() > limit;
            rows = more ? read.subList(0, limit) : read;
            emit(connection, "high", watermarkId, name);
            window = new WatermarkWindow();
            phase = Phase.AWAIT_LOW;
        }

        @Override
        void changed(RelationInfo rel, Operation op, TupleView before, TupleView after) {
            if (window == null || !window.isOpen()) {
                return;
            }
            if (op == Operation.TRUNCATE) {
                window.truncated();
                return;
            }
            int[] idx = streamKey(rel);
            if (idx == null) { // the key columns are not where they were: count every row of the chunk as changed
                window.truncated();
                return;
            }
            window.changed(key(idx, after));
            if (before != after) {
                window.changed(key(idx, before));
            }
        }

        private int[] streamKey(RelationInfo rel) {
            if (rel != keyOf) {
                keyOf = rel;
                streamKey = new int[table.key().size()];
                for (int k = 0; k < streamKey.length; k++) {
                    streamKey[k] = -1;
                    for (int i = 0; i < rel.columns().size(); i++) {
                        if (rel.columns().get(i).name().equals(table.key().get(k))) {
                            streamKey[k] = i;
                        }
                    }
                    if (streamKey[k] < 0) {
                        streamKey = null;
                        break;
                    }
                }
            }
            return streamKey;
        }

        private static List<String> key(int[] idx, TupleView tuple) {
            if (tuple == null) {
                return null;
            }
            List<String> key = new ArrayList<>(idx.length);
            for (int i : idx) {
                if (i >= tuple.size() || tuple.kind(i) != TupleView.TEXT) {
                    return null;
                }
                key.add(new String(tuple.data(), tuple.offset(i), tuple.length(i), java.nio.charset.StandardCharsets.UTF_8));
            }
            return key;
        }

        @Override
        void watermark(String kind, String id, Lsn lsn) throws Exception {
            if (!id.equals(watermarkId)) {
                return;
            }
            if (kind.equals("low") && phase == Phase.AWAIT_LOW) {
                window.open();
                phase = Phase.WINDOW;
            } else if (kind.equals("high") && phase == Phase.WINDOW) {
                publish(lsn);
            }
        }

        /** At the high watermark: what the window did not touch is published here, in commit order. */
        private void publish(Lsn lsn) throws Exception {
            List<WatermarkWindow.Row> keep = window.keep(rows);
            List<String> chunkLastKey = rows.isEmpty() ? lastKey : rows.get(rows.size() - 1).key();
            owner.hooks().flushPending();
            TxStrings tx = Snapshots.txStrings(lsn, owner.clock().instant());
            Publishing publishing = new Publishing();
            Chunker chunker = new Chunker(owner.snapshotId(), table.id(), nextChunk, owner.config().batchSize(), owner.maxChangeBytes(),
                    lsn, encoder.tableEntry(table), encoder.transactionEntry(tx), publishing);
            try {
                for (WatermarkWindow.Row row : keep) {
                    chunker.add(encoder.encode(table, tx, lsn.value(), row.json()), row.key(), owner.clock().instant());
                }
                chunker.finish(!more);
            } catch (PublishFailure e) {
                throw e.unwrap();
            }
            if (!publishing.any) {
                owner.progressWithoutMessage(name, chunkLastKey, !more);
            } else if (more && !java.util.Objects.equals(keep.get(keep.size() - 1).key(), chunkLastKey)) {
                owner.progressWithoutMessage(name, chunkLastKey, false); // the chunk's last rows were dropped: go on after them
            }
            LOG.debug("backfill chunk of {} at {}: {} row(s) read, {} dropped (changed in the window), {} published", name, lsn,
                    rows.size(), rows.size() - keep.size(), keep.size());
            nextChunk = chunker.nextChunk();
            lastKey = chunkLastKey;
            exhausted = !more;
            rows = null;
            window = null;
            phase = Phase.IDLE;
        }

        @Override
        void close() {
            closeQuietly(connection);
            connection = null;
            phase = Phase.IDLE;
        }
    }

    // ----------------------------------------------------------------------------------------------------------- keyless

    /** A table without a key: its whole copy under a temporary slot's exported snapshot, at that slot's consistent point. */
    static final class Keyless extends Backfill {

        private Connection copy;
        private Lsn consistentPoint;
        private boolean waiting;
        private final int firstChunk;

        Keyless(Snapshots owner, SnapshotTable table, TableProgress progress) {
            super(owner, table);
            this.firstChunk = owner.firstChunk(name);
        }

        @Override
        boolean idle() {
            return !waiting;
        }

        @Override
        void startChunk() throws Exception {
            if (exhausted) {
                return;
            }
            Properties props = PgDataSources.properties(owner.config().postgres(), "vrsky-postgres-consumer-snapshot", Duration.ofSeconds(10));
            PGProperty.REPLICATION.set(props, "database");
            PGProperty.PREFER_QUERY_MODE.set(props, "simple");
            PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "10");
            String slot = "vrsky_tmp_" + Integer.toHexString(owner.config().slot().hashCode()) + "_"
                    + Long.toHexString(System.nanoTime() & 0xffffffffL);
            try (Connection replication = new org.postgresql.Driver().connect(owner.config().jdbcUrl(), props)) {
                if (replication == null) {
                    throw new SQLException("PgJDBC did not accept " + owner.config().jdbcUrl(), "08001");
                }
                String snapshotName;
                try (Statement s = replication.createStatement(); ResultSet rs = s.executeQuery(
                        "CREATE_REPLICATION_SLOT " + slot + " TEMPORARY LOGICAL pgoutput (SNAPSHOT 'export')")) {
                    rs.next();
                    consistentPoint = Lsn.parse(rs.getString(2));
                    snapshotName = rs.getString(3);
                }
                copy = owner.copySource().getConnection();
                copy.setAutoCommit(true);
                try (Statement s = copy.createStatement()) {
                    s.execute("SET synchronize_seqscans = off");
                    s.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
                    s.execute("SET TRANSACTION SNAPSHOT " + KeysetSql.literal(snapshotName));
                }
            } // the temporary slot goes with its connection; the imported snapshot stays with the copying transaction
            try (Connection c = owner.copySource().getConnection()) {
                c.setAutoCommit(true);
                emit(c, "keyless", owner.snapshotId() + ":" + name, name); // commits after the consistent point: a trigger
            }
            LOG.info("backfill of {} (no key): copied whole under an exported snapshot consistent with LSN {}, published when the"
                    + " stream reaches it", name, consistentPoint);
            waiting = true;
        }

        @Override
        void begin(TxInfo tx) throws Exception {
            if (!waiting || consistentPoint.isAfter(tx.commitLsn())) {
                return;
            }
            waiting = false;
            owner.hooks().flushPending();
            TxStrings strings = Snapshots.txStrings(consistentPoint, owner.clock().instant());
            Publishing publishing = new Publishing();
            Chunker chunker = new Chunker(owner.snapshotId(), table.id(), firstChunk, owner.config().batchSize(), owner.maxChangeBytes(),
                    consistentPoint, encoder.tableEntry(table), encoder.transactionEntry(strings), publishing);
            try {
                chunker.add(encoder.truncate(table, strings, consistentPoint.value()), null, owner.clock().instant());
                CopyOut out = new CopyManager(copy.unwrap(BaseConnection.class)).copyOut(KeysetSql.wholeTable(table));
                byte[] row;
                long n = 0;
                while ((row = out.readFromCopy()) != null) {
                    chunker.add(encoder.encode(table, strings, consistentPoint.value(), row), null, owner.clock().instant());
                    if ((++n & 1023) == 0) {
                        owner.breathe();
                    }
                }
                chunker.finish(true);
            } catch (PublishFailure e) {
                throw e.unwrap();
            } catch (SQLException e) {
                if (UNDEFINED_TABLE.equals(e.getSQLState())) {
                    owner.tableGone(name, "it was dropped during its copy");
                    return;
                }
                throw new SQLException("copying " + name + ": " + PgErrors.serverMessage(e), e.getSQLState(), e);
            } finally {
                closeQuietly(copy);
                copy = null;
            }
            exhausted = true;
        }

        @Override
        void close() {
            closeQuietly(copy);
            copy = null;
            waiting = false;
        }
    }
}
