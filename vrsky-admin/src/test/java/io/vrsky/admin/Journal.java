package io.vrsky.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.UUID;

/**
 * Envelopes as postgres-consumer writes them, for a sink table
 * {@code journal (tx int, qty int, note text)} (no primary key: a row applied twice shows twice).
 */
final class Journal {

    static final String CREATE = "CREATE TABLE journal (tx int, qty int, note text)";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TIME = "2026-02-17T10:00:00.120001Z";

    /** A row: tx, qty and a note. */
    record Row(int tx, int qty, String note) {
    }

    private Journal() {
    }

    /** One source transaction (or one chunk of it) inserting {@code rows}. */
    static String envelope(String source, long txId, String commitLsn, int chunk, boolean last, Row... rows) {
        ObjectNode root = JSON.createObjectNode();
        root.put("id", UUID.randomUUID().toString());
        root.put("type", "vrsky.cdc.transaction");
        root.put("source", source);
        root.put("time", TIME);
        ObjectNode m = root.putObject("metadata");
        m.put("txId", txId);
        m.put("commitLsn", commitLsn);
        m.put("commitTime", TIME);
        m.put("chunk", chunk);
        m.put("lastChunk", last);
        m.put("changeCount", rows.length);
        m.put("transactionCount", 1);
        ArrayNode changes = root.putObject("payload").putArray("changes");
        for (Row r : rows) {
            ObjectNode c = changes.addObject();
            c.put("op", "INSERT");
            c.put("schema", "public");
            c.put("table", "journal");
            c.put("txId", txId);
            c.put("commitLsn", commitLsn);
            c.put("commitTime", TIME);
            c.put("lsn", commitLsn);
            ArrayNode cols = c.putArray("columns");
            cols.addObject().put("name", "tx").put("type", "int4").put("key", false);
            cols.addObject().put("name", "qty").put("type", "int4").put("key", false);
            cols.addObject().put("name", "note").put("type", "text").put("key", false);
            c.putNull("before");
            c.putObject("after").put("tx", r.tx()).put("qty", r.qty()).put("note", r.note());
            c.putArray("unchangedToast");
        }
        return root.toString();
    }
}
