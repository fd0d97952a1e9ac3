package io.vrsky.producer.plan;

import com.fasterxml.jackson.databind.JsonNode;
import io.vrsky.core.model.Change;
import io.vrsky.producer.Envelopes;
import io.vrsky.producer.sql.StatementShape.Kind;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Changes to {@code orders(id pk, note, qty)} over a handful of keys, with two in-memory
 * appliers: the reference applies them one by one in order, as PostgreSQL would statement by
 * statement; the other executes the planner's set-based runs with PostgreSQL's semantics for one
 * statement (every row matched against the table as it was before the statement, an UPSERT may
 * not touch a row twice, an UPDATE target matched by two source rows is an error).
 */
public final class OrderingModel {

    /** A generated change. {@code note == TOAST} marks an unchanged-TOAST note. */
    public sealed interface Op permits Ins, Upd, Del {
        Change toChange();
    }

    public static final String TOAST = "<toast>";

    public record Ins(int key, String note, Integer qty) implements Op {
        @Override
        public Change toChange() {
            return Envelopes.insert("orders", Envelopes.lsn(1), Envelopes.row("id", key, "note", note, "qty", qty));
        }
    }

    public record Upd(int before, int after, String note, Integer qty, boolean noBefore) implements Op {
        @Override
        public Change toChange() {
            int newKey = noBefore ? before : after;
            Map<String, JsonNode> afterImage = note == TOAST ? Envelopes.row("id", newKey, "qty", qty)
                    : Envelopes.row("id", newKey, "note", note, "qty", qty);
            Map<String, JsonNode> beforeImage = noBefore ? null : Envelopes.row("id", before);
            return note == TOAST ? Envelopes.update("orders", Envelopes.lsn(1), beforeImage, afterImage, "note")
                    : Envelopes.update("orders", Envelopes.lsn(1), beforeImage, afterImage);
        }
    }

    public record Del(int key) implements Op {
        @Override
        public Change toChange() {
            return Envelopes.delete("orders", Envelopes.lsn(1), Envelopes.row("id", key));
        }
    }

    /** The table's content (key → column values) or the fact that applying failed. */
    public record Outcome(boolean failed, Map<String, Map<String, String>> rows) {
        public static Outcome failure() {
            return new Outcome(true, Map.of());
        }
    }

    private OrderingModel() {
    }

    public static Map<String, Map<String, String>> initial(Set<Integer> keys) {
        Map<String, Map<String, String>> rows = new TreeMap<>();
        for (int k : keys) {
            Map<String, String> row = new HashMap<>();
            row.put("note", "init");
            row.put("qty", "0");
            rows.put(Integer.toString(k), row);
        }
        return rows;
    }

    /** Applies the changes one by one. */
    public static Outcome sequential(Map<String, Map<String, String>> initial, List<Op> ops, ConflictStrategy strategy) {
        Map<String, Map<String, String>> rows = copy(initial);
        for (Op op : ops) {
            if (op instanceof Ins ins) {
                String k = Integer.toString(ins.key());
                boolean exists = rows.containsKey(k);
                if (strategy == ConflictStrategy.INSERT && exists || strategy == ConflictStrategy.UPDATE && !exists) {
                    return Outcome.failure();
                }
                rows.put(k, values(ins.note(), ins.qty()));
            } else if (op instanceof Upd upd) {
                String from = Integer.toString(upd.before());
                String to = Integer.toString(upd.noBefore() ? upd.before() : upd.after());
                Map<String, String> row = rows.get(from);
                if (row != null) {
                    if (!to.equals(from) && rows.containsKey(to)) {
                        return Outcome.failure();
                    }
                    Map<String, String> updated = new HashMap<>(row);
                    updated.put("qty", text(upd.qty()));
                    if (upd.note() != TOAST) {
                        updated.put("note", upd.note());
                    }
                    rows.remove(from);
                    rows.put(to, updated);
                } else if (strategy == ConflictStrategy.UPDATE) {
                    return Outcome.failure();
                } else if (strategy == ConflictStrategy.UPSERT && upd.note() != TOAST) {
                    rows.put(to, values(upd.note(), upd.qty()));
                }
            } else if (op instanceof Del del) {
                rows.remove(Integer.toString(del.key()));
            }
        }
        return new Outcome(false, rows);
    }

    /** Executes the planned runs with one-statement semantics. */
    public static Outcome planned(Map<String, Map<String, String>> initial, List<Run> runs) {
        Map<String, Map<String, String>> rows = copy(initial);
        for (Run run : runs) {
            if (!execute(rows, run)) {
                return Outcome.failure();
            }
        }
        return new Outcome(false, rows);
    }

    private static boolean execute(Map<String, Map<String, String>> rows, Run run) {
        Kind kind = run.shape().kind();
        switch (kind) {
            case UPSERT -> {
                Set<String> seen = new HashSet<>();
                for (RowChange r : run.rows()) {
                    if (!seen.add(r.keyValues().get(0))) {
                        return false; // ON CONFLICT DO UPDATE command cannot affect row a second time
                    }
                }
                for (RowChange r : run.rows()) {
                    Map<String, String> set = columns(r);
                    String key = set.remove("id");
                    rows.computeIfAbsent(key, k -> new HashMap<>(Map.of())).putAll(set);
                    fill(rows.get(key));
                }
                return true;
            }
            case INSERT -> {
                for (RowChange r : run.rows()) {
                    Map<String, String> set = columns(r);
                    String key = set.remove("id");
                    if (rows.containsKey(key)) {
                        return false; // unique violation
                    }
                    rows.put(key, set);
                    fill(set);
                }
                return true;
            }
            case UPDATE_BY_KEY -> {
                Map<String, Map<String, String>> snapshot = copy(rows);
                Map<String, Integer> matches = new HashMap<>();
                List<RowChange> missing = new ArrayList<>();
                for (RowChange r : run.rows()) {
                    String target = r.keyValues().get(0);
                    if (snapshot.containsKey(target)) {
                        if (matches.merge(target, 1, Integer::sum) > 1) {
                            return false; // one target row matched by two source rows: undefined
                        }
                    } else {
                        missing.add(r);
                    }
                }
                for (RowChange r : run.rows()) {
                    String target = r.keyValues().get(0);
                    if (!snapshot.containsKey(target)) {
                        continue;
                    }
                    Map<String, String> set = columns(r);
                    String newKey = set.containsKey("id") ? set.remove("id") : target;
                    Map<String, String> row = new HashMap<>(snapshot.get(target));
                    row.putAll(set);
                    rows.remove(target);
                    if (rows.containsKey(newKey)) {
                        return false; // unique violation
                    }
                    rows.put(newKey, row);
                }
                for (RowChange r : missing) {
                    switch (r.onMissing()) {
                        case FAIL -> {
                            return false;
                        }
                        case IGNORE -> { }
                        case INSERT -> {
                            if (r.whole()) {
                                Map<String, String> set = columns(r);
                                String key = set.remove("id");
                                rows.computeIfAbsent(key, k -> new HashMap<>()).putAll(set);
                                fill(rows.get(key));
                            }
                        }
                    }
                }
                return true;
            }
            case DELETE_BY_KEY -> {
                for (RowChange r : run.rows()) {
                    rows.remove(r.keyValues().get(0));
                }
                return true;
            }
            default -> throw new IllegalStateException("not modelled: " + kind);
        }
    }

    private static Map<String, String> columns(RowChange r) {
        Map<String, String> set = new LinkedHashMap<>();
        for (int i = 0; i < r.shape().columns().size(); i++) {
            set.put(r.shape().columns().get(i).name(), r.values().get(i));
        }
        return set;
    }

    /** A column an insert does not name gets its default, null. */
    private static void fill(Map<String, String> row) {
        row.putIfAbsent("note", null);
        row.putIfAbsent("qty", null);
    }

    private static Map<String, String> values(String note, Integer qty) {
        Map<String, String> row = new HashMap<>();
        row.put("note", note);
        row.put("qty", text(qty));
        return row;
    }

    private static String text(Integer i) {
        return i == null ? null : i.toString();
    }

    private static Map<String, Map<String, String>> copy(Map<String, Map<String, String>> rows) {
        Map<String, Map<String, String>> copy = new TreeMap<>();
        rows.forEach((k, v) -> copy.put(k, new HashMap<>(v)));
        return copy;
    }
}
