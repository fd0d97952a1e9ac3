package io.vrsky.producer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.ColumnInfo;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.EnvelopeMetadata;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.Operation;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Builds envelopes for tests, in the wire shape of DESIGN.md. */
public final class Envelopes {

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private Envelopes() {
    }

    /** A row from name/value pairs; values may be Integer, Long, String, Boolean, BigDecimal, Double, JsonNode or null. */
    public static Map<String, JsonNode> row(Object... namesAndValues) {
        Map<String, JsonNode> row = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            row.put((String) namesAndValues[i], json(namesAndValues[i + 1]));
        }
        return row;
    }

    public static JsonNode json(Object value) {
        if (value == null) {
            return F.nullNode();
        }
        if (value instanceof JsonNode n) {
            return n;
        }
        if (value instanceof Integer i) {
            return F.numberNode(i);
        }
        if (value instanceof Long l) {
            return F.numberNode(l);
        }
        if (value instanceof Double d) {
            return F.numberNode(d);
        }
        if (value instanceof BigDecimal b) {
            return F.numberNode(b);
        }
        if (value instanceof Boolean b) {
            return F.booleanNode(b);
        }
        return F.textNode(value.toString());
    }

    public static Lsn lsn(long value) {
        return new Lsn(value);
    }

    public static Change insert(String table, Lsn commitLsn, Map<String, JsonNode> after) {
        return change(Operation.INSERT, table, commitLsn, null, after, List.of());
    }

    public static Change update(String table, Lsn commitLsn, Map<String, JsonNode> before, Map<String, JsonNode> after,
                                String... unchangedToast) {
        return change(Operation.UPDATE, table, commitLsn, before, after, Arrays.asList(unchangedToast));
    }

    public static Change delete(String table, Lsn commitLsn, Map<String, JsonNode> before) {
        return change(Operation.DELETE, table, commitLsn, before, null, List.of());
    }

    public static Change truncate(String table, Lsn commitLsn) {
        return change(Operation.TRUNCATE, table, commitLsn, null, null, List.of());
    }

    public static Change change(Operation op, String table, Lsn commitLsn, Map<String, JsonNode> before,
                                Map<String, JsonNode> after, List<String> toast) {
        String schema = null;
        String name = table;
        int dot = table.indexOf('.');
        if (dot > 0) {
            schema = table.substring(0, dot);
            name = table.substring(dot + 1);
        }
        Long txId = commitLsn == null ? null : commitLsn.value();
        return new Change(op, schema, name, txId, commitLsn, commitLsn == null ? null : Instant.parse("2026-02-17T10:00:00Z"),
                commitLsn, List.<ColumnInfo>of(), before, after, toast);
    }

    /** The same change with a column list, as postgres-consumer sends it (name and type pairs; the first is the key). */
    public static Change withColumns(Change c, String... namesAndTypes) {
        List<ColumnInfo> columns = new java.util.ArrayList<>();
        for (int i = 0; i < namesAndTypes.length; i += 2) {
            columns.add(new ColumnInfo(namesAndTypes[i], namesAndTypes[i + 1], i == 0));
        }
        return new Change(c.op(), c.schema(), c.table(), c.txId(), c.commitLsn(), c.commitTime(), c.lsn(), columns, c.before(),
                c.after(), c.unchangedToast(), c.oversized(), c.undecodable());
    }

    /** The same change with this column list (columns with attnums, type modifiers, defaults, ... as the consumer sends them). */
    public static Change described(Change c, ColumnInfo... columns) {
        return new Change(c.op(), c.schema(), c.table(), c.txId(), c.commitLsn(), c.commitTime(), c.lsn(), List.of(columns), c.before(),
                c.after(), c.unchangedToast(), c.oversized(), c.undecodable());
    }

    /** A column as postgres-consumer describes it: name, type, attnum and the full type text (the first attnum is the key). */
    public static ColumnInfo column(String name, String type, int attnum, String sqlType) {
        return new ColumnInfo(name, type, attnum == 1, attnum, null, sqlType, attnum == 1, null, null);
    }

    /** The consumer's placeholder for a change too large for one message: only the key. */
    public static Change oversized(String table, Lsn commitLsn, Map<String, JsonNode> key, long bytes) {
        Change c = change(Operation.INSERT, table, commitLsn, key, null, List.of());
        return new Change(c.op(), c.schema(), c.table(), c.txId(), c.commitLsn(), c.commitTime(), c.lsn(), c.columns(), key, null,
                List.of(), new Change.Oversized(bytes, 1024 * 1024), null);
    }

    /** A whole message (one or more whole transactions) from {@code source}; metadata describes the last change's transaction. */
    public static Envelope message(String source, Change... changes) {
        Lsn last = null;
        for (Change c : changes) {
            if (c.commitLsn() != null) {
                last = c.commitLsn();
            }
        }
        EnvelopeMetadata metadata = new EnvelopeMetadata(last == null ? null : last.value(), last, null, 0, true, changes.length, 1);
        return new Envelope(UUID.randomUUID().toString(), Envelope.CDC_TRANSACTION_TYPE, source, Instant.now(), metadata,
                List.of(changes));
    }

    /** A message from another component: no source, no positions. */
    public static Envelope plain(Change... changes) {
        return new Envelope(UUID.randomUUID().toString(), "vrsky.change", null, Instant.now(), null, List.of(changes));
    }

    /** One chunk of a transaction split over several messages. */
    public static Envelope chunk(String source, Lsn commitLsn, int chunk, boolean lastChunk, Change... changes) {
        EnvelopeMetadata metadata = new EnvelopeMetadata(commitLsn.value(), commitLsn, null, chunk, lastChunk, changes.length, 1);
        return new Envelope(UUID.randomUUID().toString(), Envelope.CDC_TRANSACTION_TYPE, source, Instant.now(), metadata,
                List.of(changes));
    }

    /** A row copied by a snapshot: op READ, the whole row in {@code after}, no before-image. */
    public static Change read(String table, Lsn consistentLsn, Map<String, JsonNode> after) {
        return change(Operation.READ, table, consistentLsn, null, after, List.of());
    }

    /** A message of snapshot rows: chunk {@code chunk} of snapshot {@code id} for {@code table} ({@code metadata.snapshot}). */
    public static Envelope snapshotChunk(String source, String id, String table, int chunk, boolean lastChunk, Change... changes) {
        Lsn lsn = changes.length == 0 ? null : changes[0].commitLsn();
        EnvelopeMetadata metadata = new EnvelopeMetadata(0L, lsn, null, 0, true, changes.length, 1,
                new EnvelopeMetadata.Snapshot(id, table, chunk, lastChunk), null);
        return new Envelope(UUID.randomUUID().toString(), Envelope.CDC_TRANSACTION_TYPE, source, Instant.now(), metadata,
                List.of(changes));
    }
}
