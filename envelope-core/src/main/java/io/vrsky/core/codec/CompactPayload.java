package io.vrsky.core.codec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vrsky.core.model.Change;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The compact layout's payload, as the tree decoder reads it: {@code tables} (entries
 * <code>{"ref":N,"schema":…,"table":…,"columns":[…]}</code>) and {@code transactions} (entries
 * <code>{"txId":N,"commitLsn":…,"commitTime":…}</code>) hold once what the changes of the standard
 * layout repeat. {@link #complete} gives a change what it names by {@code ref} and {@code txId}
 * and does not carry itself, so that it then reads as a change of the standard layout.
 */
final class CompactPayload {

    private static final String[] TABLE_FIELDS = {"schema", "table", "columns"};
    private static final String[] TRANSACTION_FIELDS = {"commitLsn", "commitTime"};

    private final Map<Long, JsonNode> tables;
    private final Map<Long, JsonNode> transactions;

    private CompactPayload(Map<Long, JsonNode> tables, Map<Long, JsonNode> transactions) {
        this.tables = tables;
        this.transactions = transactions;
    }

    /** The compact parts of {@code payload}, or null when it has none (the standard layout). */
    static CompactPayload of(JsonNode payload) {
        JsonNode format = payload.get("format");
        if (format == null && !payload.has("tables") && !payload.has("transactions")) {
            return null;
        }
        if (format != null && !EnvelopeWriter.COMPACT.equals(format.textValue())) {
            throw new EnvelopeFormatException("'payload.format' must be \"" + EnvelopeWriter.COMPACT + "\" (the only other layout has no"
                    + " 'format'), was " + format);
        }
        Map<Long, JsonNode> tables = index(payload, "tables", "ref");
        Map<Long, JsonNode> transactions = index(payload, "transactions", "txId");
        return new CompactPayload(tables, transactions);
    }

    /** The entries of {@code payload.<field>} by their integer {@code key}; each must have one, and no two the same. */
    private static Map<Long, JsonNode> index(JsonNode payload, String field, String key) {
        Map<Long, JsonNode> index = new HashMap<>();
        for (JsonNode entry : entries(payload, field)) {
            JsonNode value = entry.get(key);
            if (value == null || !value.isIntegralNumber() || !value.canConvertToLong()) {
                throw new EnvelopeFormatException("an entry of 'payload." + field + "' has no integer '" + key + "'");
            }
            if (index.put(value.longValue(), entry) != null) {
                throw new EnvelopeFormatException("'payload." + field + "' holds " + key + " " + value.longValue() + " twice");
            }
        }
        return index;
    }

    private static List<JsonNode> entries(JsonNode payload, String field) {
        JsonNode array = payload.get(field);
        if (array == null || array.isNull()) {
            return List.of();
        }
        if (!array.isArray()) {
            throw new EnvelopeFormatException("'payload." + field + "' must be an array");
        }
        List<JsonNode> entries = new ArrayList<>(array.size());
        for (JsonNode entry : array) {
            if (!entry.isObject()) {
                throw new EnvelopeFormatException("every entry of 'payload." + field + "' must be an object");
            }
            entries.add(entry);
        }
        return entries;
    }

    /**
     * Adds to {@code change} the fields it does not have itself: schema, table and columns from the
     * table entry its {@code ref} names, commit LSN and time from its transaction's entry.
     *
     * @throws EnvelopeFormatException when {@code ref} is not an integer or names no entry
     */
    void complete(ObjectNode change, String path) {
        JsonNode ref = change.get("ref");
        if (ref != null && !ref.isNull()) {
            if (!ref.isIntegralNumber() || !ref.canConvertToLong()) {
                throw new EnvelopeFormatException("'" + path + ".ref' must be an integer");
            }
            JsonNode table = tables.get(ref.longValue());
            if (table == null) {
                throw new EnvelopeFormatException("'" + path + ".ref' (" + ref.longValue() + ") names no entry of 'payload.tables'");
            }
            copyMissing(table, change, TABLE_FIELDS);
        }
        JsonNode txId = change.get("txId");
        if (txId != null && txId.isIntegralNumber() && txId.canConvertToLong()) {
            JsonNode tx = transactions.get(txId.longValue());
            if (tx != null) {
                copyMissing(tx, change, TRANSACTION_FIELDS);
            }
        }
    }

    private static void copyMissing(JsonNode from, ObjectNode to, String[] fields) {
        for (String field : fields) {
            JsonNode value = from.get(field);
            if (value != null && !to.has(field)) {
                to.set(field, value);
            }
        }
    }

    /**
     * How {@link EnvelopeCodec#encodeCompact} lays out changes: the first change of each distinct
     * table (schema, name, column list) stands for its entry, {@code refs[i]} is change i's; the
     * first change of each transaction with a commit LSN and time stands for its entry, and
     * {@code fromTransaction[i]} says change i's commit fields equal its transaction's (so it leaves
     * them out).
     */
    record Layout(List<Change> tables, int[] refs, List<Change> transactions, boolean[] fromTransaction) {
    }

    static Layout layout(List<Change> changes) {
        List<Change> tables = new ArrayList<>();
        Map<List<Object>, Integer> refOf = new HashMap<>();
        List<Change> transactions = new ArrayList<>();
        Map<Long, Change> txOf = new HashMap<>();
        int[] refs = new int[changes.size()];
        boolean[] fromTransaction = new boolean[changes.size()];
        for (int i = 0; i < changes.size(); i++) {
            Change c = changes.get(i);
            List<Object> table = java.util.Arrays.asList(c.schema(), c.table(), c.columns());
            Integer ref = refOf.get(table);
            if (ref == null) {
                ref = tables.size();
                refOf.put(table, ref);
                tables.add(c);
            }
            refs[i] = ref;
            if (c.txId() != null && c.commitLsn() != null && c.commitTime() != null) {
                Change tx = txOf.get(c.txId());
                if (tx == null) {
                    txOf.put(c.txId(), c);
                    transactions.add(c);
                    tx = c;
                }
                fromTransaction[i] = Objects.equals(tx.commitLsn(), c.commitLsn()) && Objects.equals(tx.commitTime(), c.commitTime());
            }
        }
        return new Layout(tables, refs, transactions, fromTransaction);
    }
}
