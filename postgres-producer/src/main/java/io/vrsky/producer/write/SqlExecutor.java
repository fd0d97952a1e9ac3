package io.vrsky.producer.write;

import io.vrsky.core.model.TableId;
import io.vrsky.producer.catalog.TableMeta;
import io.vrsky.producer.plan.MissingRowPolicy;
import io.vrsky.producer.plan.RowChange;
import io.vrsky.producer.plan.Run;
import io.vrsky.producer.sql.CopyText;
import io.vrsky.producer.sql.SqlStatementBuilder;
import io.vrsky.producer.sql.StatementShape.Kind;
import io.vrsky.producer.sql.StatementShape;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Runs planned {@link Run}s on a connection inside the caller's transaction. Set-based runs bind
 * one {@code text[]} per column (one round trip per run whatever its size); runs on tables
 * without a primary key go row by row as a JDBC batch, each statement changing at most one row.
 *
 * <p>Inserts of {@value #COPY_MIN_ROWS} rows or more go through COPY, which costs PostgreSQL less CPU
 * than {@code INSERT ... SELECT FROM unnest} (figures in docs/benchmark.md; {@link TableMeta#copySafe()}
 * tables only).
 * For an INSERT run that is the same operation. For an UPSERT run it is optimistic: when a row
 * exists already COPY fails with 23505, the table goes back to the upsert statement for its next
 * {@value #COPY_PAUSE_RUNS} runs, and {@link CopyConflict} tells the caller to roll back and apply
 * again (the transaction is aborted; the rows COPY wrote are gone with it). Only runs of committed
 * transactions count towards the pause, so applying a transaction again never meets COPY again.
 *
 * <p>Used by the loop thread only.
 */
final class SqlExecutor {

    /** Runs shorter than this use the INSERT statement: COPY costs one more round trip. */
    static final int COPY_MIN_ROWS = 32;
    /** Runs of a table that go back to the upsert statement after a COPY met an existing row. */
    static final int COPY_PAUSE_RUNS = 1_000;
    private static final int COPY_FLUSH_BYTES = 256 * 1024;

    /** A COPY of an UPSERT run met an existing row: roll back and apply again (COPY is now paused for the table). */
    static final class CopyConflict extends SQLException {
        private static final long serialVersionUID = 1L;

        CopyConflict(TableId table, SQLException cause) {
            super("COPY into " + table + " met an existing row", "23505", cause);
        }
    }

    private final SqlStatementBuilder sql;
    private final CopyText copyText = new CopyText(64 * 1024);
    /** Tables whose inserts skip COPY for a while (after a conflict), with the runs left to skip. */
    private final Map<TableId, Integer> copyPaused = new HashMap<>();
    /** Runs that skipped COPY in the current transaction, per table: they count once it commits. */
    private final Map<TableId, Integer> skippedNow = new HashMap<>();

    SqlExecutor(SqlStatementBuilder sql) {
        this.sql = sql;
    }

    void execute(Connection connection, List<Run> runs, WriteStats stats) throws SQLException {
        for (Run run : runs) {
            execute(connection, run, stats);
        }
    }

    private void execute(Connection connection, Run run, WriteStats stats) throws SQLException {
        StatementShape shape = run.shape();
        String table = shape.table().toString();
        switch (shape.kind()) {
            case TRUNCATE -> {
                try (Statement s = connection.createStatement()) {
                    s.execute(sql.sql(shape));
                }
                stats.written(table, "TRUNCATE", 1);
            }
            case INSERT, UPSERT -> {
                if (useCopy(run)) {
                    copy(connection, run);
                } else {
                    try (PreparedStatement ps = connection.prepareStatement(sql.sql(shape))) {
                        bindArrays(connection, ps, run.rows(), shape);
                        ps.executeUpdate();
                    }
                }
                countWritten(run.rows(), stats, null);
            }
            case DELETE_BY_KEY -> {
                try (PreparedStatement ps = connection.prepareStatement(sql.sql(shape))) {
                    bindArrays(connection, ps, run.rows(), shape);
                    ps.executeUpdate();
                }
                countWritten(run.rows(), stats, null);
            }
            case UPDATE_BY_KEY -> updateByKey(connection, run, stats);
            case UPDATE_BY_IDENTITY, DELETE_BY_IDENTITY -> byIdentity(connection, run, stats);
        }
    }

    private boolean useCopy(Run run) {
        TableMeta table = run.rows().get(0).table();
        if (run.rows().size() < COPY_MIN_ROWS || !table.copySafe()) {
            return false;
        }
        if (!copyPaused.containsKey(table.id())) {
            return true;
        }
        skippedNow.merge(table.id(), 1, Integer::sum);
        return false;
    }

    /** The caller's transaction committed: its runs that skipped COPY count towards the pauses. */
    void committed() {
        skippedNow.forEach((table, runs) -> copyPaused.computeIfPresent(table, (t, left) -> left > runs ? left - runs : null));
        skippedNow.clear();
    }

    /** The run's rows through COPY, sent in pieces as they are encoded (PostgreSQL works while the rest is encoded). */
    private void copy(Connection connection, Run run) throws SQLException {
        StatementShape shape = run.shape();
        CopyIn in = connection.unwrap(PGConnection.class).getCopyAPI().copyIn(sql.copy(shape));
        try {
            encode(run.rows(), copyText, in::writeToCopy);
            in.endCopy();
        } catch (SQLException e) {
            if (in.isActive()) {
                try {
                    in.cancelCopy();
                } catch (SQLException ignored) {
                    e.addSuppressed(ignored);
                }
            }
            if (shape.kind() == Kind.UPSERT && "23505".equals(SqlErrors.sqlState(e))) {
                copyPaused.put(shape.table(), COPY_PAUSE_RUNS);
                skippedNow.clear();
                throw new CopyConflict(shape.table(), e);
            }
            throw e;
        } finally {
            copyText.shrink(2 * COPY_FLUSH_BYTES);
        }
    }

    /** Where encoded COPY data goes. */
    @FunctionalInterface
    interface CopySink {
        void write(byte[] data, int offset, int length) throws SQLException;
    }

    /** The rows' values in COPY text format, handed to {@code sink} in pieces of about {@value #COPY_FLUSH_BYTES} bytes. */
    static void encode(List<RowChange> rows, CopyText text, CopySink sink) throws SQLException {
        text.reset();
        for (RowChange row : rows) {
            for (String value : row.values()) {
                text.value(value);
            }
            text.endRow();
            if (text.length() >= COPY_FLUSH_BYTES) {
                sink.write(text.buffer(), 0, text.length());
                text.reset();
            }
        }
        if (text.length() > 0) {
            sink.write(text.buffer(), 0, text.length());
        }
    }

    private void updateByKey(Connection connection, Run run, WriteStats stats) throws SQLException {
        BitSet found = new BitSet(run.rows().size());
        try (PreparedStatement ps = connection.prepareStatement(sql.sql(run.shape()))) {
            bindArrays(connection, ps, run.rows(), run.shape());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    found.set((int) rs.getLong(1) - 1);
                }
            }
        }
        countWritten(run.rows(), stats, found);
        if (found.cardinality() < run.rows().size()) {
            List<RowChange> missing = new ArrayList<>();
            for (int i = 0; i < run.rows().size(); i++) {
                if (!found.get(i)) {
                    missing.add(run.rows().get(i));
                }
            }
            missingRows(connection, run, missing, stats);
        }
    }

    private void missingRows(Connection connection, Run run, List<RowChange> missing, WriteStats stats) throws SQLException {
        switch (run.onMissing()) {
            case FAIL -> throw new MissingRowException(run.shape().table(), missing.size());
            case IGNORE -> missing.forEach(r -> stats.missing(r.table().id().toString(), r.op().name(), 1));
            case INSERT -> {
                List<RowChange> whole = new ArrayList<>();
                for (RowChange r : missing) {
                    if (r.whole()) {
                        whole.add(r);
                    } else {
                        stats.missing(r.table().id().toString(), r.op().name(), 1);
                    }
                }
                if (!whole.isEmpty()) {
                    insertAfterImages(connection, whole, stats);
                }
            }
        }
    }

    /**
     * Inserts the after-images of updates that found no row (UPSERT strategy); with ON CONFLICT
     * unless the table's rules forbid it (then the update just found the row missing, in this
     * transaction).
     */
    private void insertAfterImages(Connection connection, List<RowChange> rows, WriteStats stats) throws SQLException {
        RowChange first = rows.get(0);
        StatementShape shape = first.table().hasPrimaryKey() && first.table().onConflictAllowed()
                ? new StatementShape(Kind.UPSERT, first.table().id(), first.shape().columns(), first.table().primaryKeyColumns())
                : new StatementShape(Kind.INSERT, first.table().id(), first.shape().columns(), List.of());
        try (PreparedStatement ps = connection.prepareStatement(sql.sql(shape))) {
            int p = 1;
            for (int c = 0; c < shape.columns().size(); c++) {
                final int col = c;
                ps.setArray(p++, textArray(connection, rows, r -> r.values().get(col)));
            }
            // an UPSERT binds only its columns: its key is the conflict target
            ps.executeUpdate();
        }
        rows.forEach(r -> stats.written(r.table().id().toString(), r.op().name(), 1));
    }

    private void byIdentity(Connection connection, Run run, WriteStats stats) throws SQLException {
        StatementShape shape = run.shape();
        try (PreparedStatement ps = connection.prepareStatement(sql.sql(shape))) {
            if (run.onMissing() == MissingRowPolicy.INSERT && shape.kind() == Kind.UPDATE_BY_IDENTITY) {
                // one at a time: an inserted after-image must be visible to the next change
                for (RowChange row : run.rows()) {
                    bindRow(ps, row);
                    if (ps.executeUpdate() == 0) {
                        missingRows(connection, run, List.of(row), stats);
                    } else {
                        stats.written(row.table().id().toString(), row.op().name(), 1);
                    }
                }
                return;
            }
            for (RowChange row : run.rows()) {
                bindRow(ps, row);
                ps.addBatch();
            }
            int[] counts = ps.executeBatch();
            List<RowChange> missing = new ArrayList<>();
            for (int i = 0; i < counts.length; i++) {
                RowChange row = run.rows().get(i);
                if (counts[i] == 0 && shape.kind() == Kind.UPDATE_BY_IDENTITY) {
                    missing.add(row);
                } else {
                    stats.written(row.table().id().toString(), row.op().name(), 1);
                }
            }
            if (!missing.isEmpty()) {
                missingRows(connection, run, missing, stats);
            }
        }
    }

    private static void bindRow(PreparedStatement ps, RowChange row) throws SQLException {
        int p = 1;
        for (String v : row.values()) {
            ps.setString(p++, v);
        }
        for (String v : row.keyValues()) {
            ps.setString(p++, v);
        }
    }

    private static void bindArrays(Connection connection, PreparedStatement ps, List<RowChange> rows, StatementShape shape)
            throws SQLException {
        int p = 1;
        for (int c = 0; c < shape.columns().size(); c++) {
            final int col = c;
            ps.setArray(p++, textArray(connection, rows, r -> r.values().get(col)));
        }
        if (shape.kind() == Kind.UPDATE_BY_KEY || shape.kind() == Kind.DELETE_BY_KEY) {
            for (int k = 0; k < shape.key().size(); k++) {
                final int key = k;
                ps.setArray(p++, textArray(connection, rows, r -> r.keyValues().get(key)));
            }
        }
    }

    private static Array textArray(Connection connection, List<RowChange> rows, Function<RowChange, String> value)
            throws SQLException {
        String[] values = new String[rows.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = value.apply(rows.get(i));
        }
        return connection.createArrayOf("text", values);
    }

    private static void countWritten(List<RowChange> rows, WriteStats stats, BitSet found) {
        if (rows.isEmpty()) {
            return;
        }
        String table = rows.get(0).table().id().toString();
        long[] perOp = new long[io.vrsky.core.model.Operation.values().length];
        for (int i = 0; i < rows.size(); i++) {
            if (found == null || found.get(i)) {
                perOp[rows.get(i).op().ordinal()]++;
            }
        }
        for (io.vrsky.core.model.Operation op : io.vrsky.core.model.Operation.values()) {
            if (perOp[op.ordinal()] > 0) {
                stats.written(table, op.name(), perOp[op.ordinal()]);
            }
        }
    }
}
