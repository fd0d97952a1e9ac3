package io.vrsky.producer.plan;

import io.vrsky.producer.sql.StatementShape;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Groups consecutive changes into runs that one set-based statement applies. A run holds changes
 * of one table, one statement kind and one column set, and never two changes touching the same
 * primary-key value (a before key or an after key): inside one statement PostgreSQL sees only the
 * rows as they were before it, so a repeated key would not see the earlier change ("cannot affect
 * row a second time", an update that misses a row moved by the one before). Splitting there keeps
 * the result equal to applying every change one by one, in order.
 */
public final class ChangePlanner {

    /** Rows per statement, to keep array parameters a sane size. */
    public static final int MAX_RUN_ROWS = 2_000;

    private ChangePlanner() {
    }

    public static List<Run> plan(List<RowChange> changes) {
        List<Run> runs = new ArrayList<>();
        List<RowChange> current = new ArrayList<>();
        Set<List<String>> touched = new HashSet<>();
        for (RowChange change : changes) {
            if (!current.isEmpty() && !fits(current, touched, change)) {
                runs.add(toRun(current));
                current = new ArrayList<>();
                touched = new HashSet<>();
            }
            current.add(change);
            touched.addAll(change.touchedKeys());
        }
        if (!current.isEmpty()) {
            runs.add(toRun(current));
        }
        return runs;
    }

    private static boolean fits(List<RowChange> run, Set<List<String>> touched, RowChange change) {
        RowChange first = run.get(0);
        if (first.shape().kind() == StatementShape.Kind.TRUNCATE || run.size() >= MAX_RUN_ROWS) {
            return false;
        }
        if ((first.shape() != change.shape() && !first.shape().equals(change.shape())) || first.onMissing() != change.onMissing()) {
            return false;
        }
        for (List<String> key : change.touchedKeys()) {
            if (touched.contains(key)) {
                return false;
            }
        }
        return true;
    }

    private static Run toRun(List<RowChange> rows) {
        return new Run(rows.get(0).shape(), rows.get(0).onMissing(), rows);
    }
}
