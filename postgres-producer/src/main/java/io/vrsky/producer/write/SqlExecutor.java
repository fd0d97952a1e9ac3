package io.vrsky.producer.write;

import io.vrsky.producer.sql.SqlStatementBuilder;
import io.vrsky.producer.sql.StatementShape;
import io.vrsky.producer.sql.StatementShape.Kind;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.function.Function;

/**
 * Runs planned {@link Run}s on a connection inside the caller's transaction. Set-based runs bind
 * one {@code text[]} per column (one round trip per run whatever its size); runs on tables
 * without a primary key go row by row as a JDBC batch, each statement changing at most one row.
 */
final class SqlExecutor {

    private final SqlStatementBuilder sql;

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
            case INSERT, UPSERT, DELETE_BY_KEY -> {
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

    /** Inserts the after-images of updates that found no row (UPSERT strategy). */
    private void insertAfterImages(Connection connection, List<RowChange> rows, WriteStats stats) throws SQLException {
        RowChange first = rows.get(0);
        StatementShape shape = first.table().hasPrimaryKey()
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
