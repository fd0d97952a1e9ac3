package io.vrsky.consumer.snapshot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vrsky.core.model.Lsn;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * What the consumer keeps about snapshots in the JetStream key-value bucket {@code VRSKY_SNAPSHOTS}
 * under its slot's name: the tables that were copied already ({@code known}, so a table that
 * becomes monitored later is recognised), the snapshot under way (or the last one) with each
 * table's progress, and the backfills asked for but not started yet ({@code queue}).
 *
 * <pre>{@code
 * {"known":["public.a"],
 *  "snapshot":{"id":"s1k2...","kind":"initial","consistentLsn":"0/16B3748","startedAt":"2026-...Z",
 *              "tables":[{"table":"public.a","state":"copying","lastKey":["1042"],"nextChunk":1000,"rows":1042}]},
 *  "queue":[["public.b","public.c"]]}
 * }</pre>
 *
 * Immutable; the {@code with...} methods return changed copies.
 */
record SnapshotRecord(Set<String> known, Run snapshot, List<List<String>> queue) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Why a snapshot runs: the first start with a new slot, a signal row, or tables that became monitored later. */
    enum Kind { INITIAL, BACKFILL, ADDED }

    /** Where a table's copy stands. */
    enum State { PENDING, COPYING, DONE, SKIPPED }

    /**
     * One table's progress.
     *
     * @param lastKey   the text values of the key of the last row whose chunk JetStream acknowledged; null before the first
     * @param nextChunk chunk numbers below it may be in the stream already: a resume numbers on from here
     * @param rows      rows published and acknowledged so far
     */
    record TableProgress(String table, State state, List<String> lastKey, int nextChunk, long rows) {
        TableProgress {
            Objects.requireNonNull(table, "table");
            Objects.requireNonNull(state, "state");
            lastKey = lastKey == null ? null : java.util.Collections.unmodifiableList(new ArrayList<>(lastKey));
        }

        TableProgress with(State s) {
            return new TableProgress(table, s, lastKey, nextChunk, rows);
        }

        boolean finished() {
            return state == State.DONE || state == State.SKIPPED;
        }
    }

    /**
     * A snapshot: its id (in message ids and the producer's positions), why it runs, the position
     * the copied rows are consistent with when known (an initial snapshot's slot consistent point),
     * and its tables in the order they are copied.
     */
    record Run(String id, Kind kind, Lsn consistentLsn, Instant startedAt, List<TableProgress> tables) {
        Run {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(kind, "kind");
            tables = List.copyOf(tables);
        }

        boolean finished() {
            return tables.stream().allMatch(TableProgress::finished);
        }

        TableProgress table(String name) {
            return tables.stream().filter(t -> t.table().equals(name)).findFirst().orElse(null);
        }

        Run with(TableProgress progress) {
            List<TableProgress> changed = new ArrayList<>(tables);
            for (int i = 0; i < changed.size(); i++) {
                if (changed.get(i).table().equals(progress.table())) {
                    changed.set(i, progress);
                }
            }
            return new Run(id, kind, consistentLsn, startedAt, changed);
        }

        long tablesRemaining() {
            return tables.stream().filter(t -> !t.finished()).count();
        }
    }

    static final SnapshotRecord EMPTY = new SnapshotRecord(Set.of(), null, List.of());

    SnapshotRecord {
        known = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(known));
        queue = queue.stream().map(List::copyOf).toList();
    }

    SnapshotRecord withSnapshot(Run run) {
        return new SnapshotRecord(known, run, queue);
    }

    SnapshotRecord withKnown(String table) {
        Set<String> k = new LinkedHashSet<>(known);
        k.add(table);
        return new SnapshotRecord(k, snapshot, queue);
    }

    SnapshotRecord withKnown(java.util.Collection<String> tables) {
        Set<String> k = new LinkedHashSet<>(known);
        k.addAll(tables);
        return new SnapshotRecord(k, snapshot, queue);
    }

    SnapshotRecord enqueue(List<String> tables) {
        List<List<String>> q = new ArrayList<>(queue);
        q.add(tables);
        return new SnapshotRecord(known, snapshot, q);
    }

    SnapshotRecord dequeue() {
        return new SnapshotRecord(known, snapshot, queue.isEmpty() ? queue : queue.subList(1, queue.size()));
    }

    byte[] toJson() {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode k = root.putArray("known");
        known.forEach(k::add);
        if (snapshot == null) {
            root.putNull("snapshot");
        } else {
            ObjectNode s = root.putObject("snapshot");
            s.put("id", snapshot.id());
            s.put("kind", snapshot.kind().name().toLowerCase(Locale.ROOT));
            s.put("consistentLsn", snapshot.consistentLsn() == null ? null : snapshot.consistentLsn().toString());
            s.put("startedAt", snapshot.startedAt() == null ? null : snapshot.startedAt().toString());
            ArrayNode tables = s.putArray("tables");
            for (TableProgress t : snapshot.tables()) {
                ObjectNode n = tables.addObject();
                n.put("table", t.table());
                n.put("state", t.state().name().toLowerCase(Locale.ROOT));
                if (t.lastKey() == null) {
                    n.putNull("lastKey");
                } else {
                    ArrayNode key = n.putArray("lastKey");
                    t.lastKey().forEach(key::add);
                }
                n.put("nextChunk", t.nextChunk());
                n.put("rows", t.rows());
            }
        }
        ArrayNode q = root.putArray("queue");
        for (List<String> request : queue) {
            ArrayNode r = q.addArray();
            request.forEach(r::add);
        }
        try {
            return JSON.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write a snapshot record", e);
        }
    }

    /**
     * Reads a record; fields it does not know are ignored.
     *
     * @throws IllegalArgumentException when the bytes are not such a record
     */
    static SnapshotRecord fromJson(byte[] bytes) {
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("a snapshot record must be a JSON object");
        }
        Set<String> known = new LinkedHashSet<>();
        root.path("known").forEach(n -> known.add(n.asText()));
        Run run = null;
        JsonNode s = root.get("snapshot");
        if (s != null && s.isObject()) {
            List<TableProgress> tables = new ArrayList<>();
            for (JsonNode n : s.path("tables")) {
                List<String> lastKey = null;
                if (n.path("lastKey").isArray()) {
                    lastKey = new ArrayList<>();
                    for (JsonNode v : n.get("lastKey")) {
                        lastKey.add(v.isNull() ? null : v.asText());
                    }
                }
                tables.add(new TableProgress(text(n, "table"), State.valueOf(text(n, "state").toUpperCase(Locale.ROOT)), lastKey,
                        n.path("nextChunk").asInt(0), n.path("rows").asLong(0)));
            }
            String lsn = s.path("consistentLsn").isTextual() ? s.get("consistentLsn").asText() : null;
            String started = s.path("startedAt").isTextual() ? s.get("startedAt").asText() : null;
            run = new Run(text(s, "id"), Kind.valueOf(text(s, "kind").toUpperCase(Locale.ROOT)), lsn == null ? null : Lsn.parse(lsn),
                    started == null ? null : Instant.parse(started), tables);
        }
        List<List<String>> queue = new ArrayList<>();
        for (JsonNode r : root.path("queue")) {
            List<String> request = new ArrayList<>();
            r.forEach(n -> request.add(n.asText()));
            queue.add(request);
        }
        return new SnapshotRecord(known, run, queue);
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) {
            throw new IllegalArgumentException("a snapshot record lacks '" + field + "'");
        }
        return v.asText();
    }
}
