package io.vrsky.core.codec;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.ColumnInfo;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.EnvelopeMetadata;
import io.vrsky.core.model.ErrorReport;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.Operation;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes and reads the JSON envelope of DESIGN.md. Encoding streams through a {@link JsonGenerator}
 * (no reflection); decoding reads a tree and checks every field, so a bad message is rejected
 * with a reason that names the offending field. {@link #newReader()} gives the fast path for a
 * stream of messages: one streaming pass for the plain shape, this decoder for everything else,
 * same results either way.
 *
 * <p>Thread-safe; one instance can serve a whole service.
 */
public final class EnvelopeCodec {

    private final ObjectMapper mapper;

    public EnvelopeCodec() {
        // json/jsonb values carry numbers that must arrive digit for digit: no double rounding.
        this.mapper = new ObjectMapper()
                .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
                .setNodeFactory(JsonNodeFactory.withExactBigDecimals(true));
    }

    /** The mapper used for value nodes; callers build {@link JsonNode} values with its node factory. */
    public ObjectMapper mapper() {
        return mapper;
    }

    /** A streaming reader for one thread's stream of messages (see {@link EnvelopeReader}). */
    public EnvelopeReader newReader() {
        return new EnvelopeReader(this);
    }

    public byte[] encode(Envelope envelope) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256 + envelope.changes().size() * 256);
        try (JsonGenerator g = mapper.getFactory().createGenerator(out)) {
            writeEnvelope(g, envelope);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode envelope " + envelope.id(), e);
        }
        return out.toByteArray();
    }

    /**
     * The envelope in the compact layout (as postgres-consumer writes it with
     * {@code POSTGRES_INPUT_ENVELOPE_FORMAT=compact}): each distinct table (schema, name and column
     * list) and each transaction once in {@code payload.tables} and {@code payload.transactions},
     * the changes naming them by {@code ref} and {@code txId}. A change whose commit LSN or time
     * differs from its transaction's entry keeps its own. {@link #decode} reads it back to the same
     * envelope.
     */
    public byte[] encodeCompact(Envelope envelope) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256 + envelope.changes().size() * 128);
        try (JsonGenerator g = mapper.getFactory().createGenerator(out)) {
            CompactPayload.Layout layout = CompactPayload.layout(envelope.changes());
            writeHead(g, envelope);
            g.writeObjectFieldStart("payload");
            g.writeStringField("format", EnvelopeWriter.COMPACT);
            g.writeArrayFieldStart("tables");
            for (int ref = 0; ref < layout.tables().size(); ref++) {
                Change c = layout.tables().get(ref);
                g.writeStartObject();
                g.writeNumberField("ref", ref);
                writeStringField(g, "schema", c.schema());
                g.writeStringField("table", c.table());
                writeColumns(g, c);
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeArrayFieldStart("transactions");
            for (Change c : layout.transactions()) {
                g.writeStartObject();
                writeNumberField(g, "txId", c.txId());
                writeStringField(g, "commitLsn", c.commitLsn().toString());
                writeStringField(g, "commitTime", c.commitTime().toString());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeArrayFieldStart("changes");
            for (int i = 0; i < envelope.changes().size(); i++) {
                Change c = envelope.changes().get(i);
                g.writeStartObject();
                g.writeStringField("op", c.op().name());
                g.writeNumberField("ref", layout.refs()[i]);
                writeNumberField(g, "txId", c.txId());
                if (!layout.fromTransaction()[i]) {
                    writeStringField(g, "commitLsn", c.commitLsn() == null ? null : c.commitLsn().toString());
                    writeStringField(g, "commitTime", c.commitTime() == null ? null : c.commitTime().toString());
                }
                writeChangeRest(g, c);
            }
            g.writeEndArray();
            g.writeEndObject();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode envelope " + envelope.id(), e);
        }
        return out.toByteArray();
    }

    private void writeEnvelope(JsonGenerator g, Envelope e) throws IOException {
        writeHead(g, e);
        g.writeObjectFieldStart("payload");
        g.writeArrayFieldStart("changes");
        for (Change c : e.changes()) {
            writeChange(g, c);
        }
        g.writeEndArray();
        g.writeEndObject();
        g.writeEndObject();
    }

    /** Opens the envelope and writes its fields before {@code payload}. */
    private void writeHead(JsonGenerator g, Envelope e) throws IOException {
        g.writeStartObject();
        writeStringField(g, "id", e.id());
        writeStringField(g, "type", e.type());
        writeStringField(g, "source", e.source());
        writeStringField(g, "time", e.time() == null ? null : e.time().toString());
        EnvelopeMetadata m = e.metadata();
        if (m != null) {
            g.writeObjectFieldStart("metadata");
            writeNumberField(g, "txId", m.txId());
            writeStringField(g, "commitLsn", m.commitLsn() == null ? null : m.commitLsn().toString());
            writeStringField(g, "commitTime", m.commitTime() == null ? null : m.commitTime().toString());
            g.writeNumberField("chunk", m.chunk());
            g.writeBooleanField("lastChunk", m.lastChunk());
            g.writeNumberField("changeCount", m.changeCount());
            g.writeNumberField("transactionCount", m.transactionCount());
            if (m.snapshot() != null) {
                writeSnapshot(g, m.snapshot());
            }
            if (m.error() != null) {
                writeError(g, m.error());
            }
            g.writeEndObject();
        }
    }

    private void writeChange(JsonGenerator g, Change c) throws IOException {
        g.writeStartObject();
        g.writeStringField("op", c.op().name());
        writeStringField(g, "schema", c.schema());
        g.writeStringField("table", c.table());
        writeNumberField(g, "txId", c.txId());
        writeStringField(g, "commitLsn", c.commitLsn() == null ? null : c.commitLsn().toString());
        writeStringField(g, "commitTime", c.commitTime() == null ? null : c.commitTime().toString());
        writeStringField(g, "lsn", c.lsn() == null ? null : c.lsn().toString());
        writeColumns(g, c);
        writeImages(g, c);
    }

    /** A compact change after its commit fields: {@code lsn}, then as {@link #writeImages}. */
    private void writeChangeRest(JsonGenerator g, Change c) throws IOException {
        writeStringField(g, "lsn", c.lsn() == null ? null : c.lsn().toString());
        writeImages(g, c);
    }

    private void writeColumns(JsonGenerator g, Change c) throws IOException {
        g.writeArrayFieldStart("columns");
        for (ColumnInfo col : c.columns()) {
            g.writeStartObject();
            g.writeStringField("name", col.name());
            writeStringField(g, "type", col.type());
            g.writeBooleanField("key", col.key());
            writeColumnDetails(g, col);
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    /** A change's images, unchanged-TOAST list and placeholder fields, and the end of its object. */
    private void writeImages(JsonGenerator g, Change c) throws IOException {
        writeRow(g, "before", c.before());
        writeRow(g, "after", c.after());
        g.writeArrayFieldStart("unchangedToast");
        for (String name : c.unchangedToast()) {
            g.writeString(name);
        }
        g.writeEndArray();
        if (c.oversized() != null) {
            g.writeObjectFieldStart("oversized");
            g.writeNumberField("bytes", c.oversized().bytes());
            g.writeNumberField("limit", c.oversized().limit());
            g.writeEndObject();
        }
        if (c.undecodable() != null) {
            g.writeObjectFieldStart("undecodable");
            g.writeStringField("error", c.undecodable().error());
            g.writeEndObject();
        }
        g.writeEndObject();
    }

    private static void writeSnapshot(JsonGenerator g, EnvelopeMetadata.Snapshot s) throws IOException {
        g.writeObjectFieldStart("snapshot");
        g.writeStringField("id", s.id());
        g.writeStringField("table", s.table());
        g.writeNumberField("chunk", s.chunk());
        g.writeBooleanField("lastChunk", s.lastChunk());
        g.writeEndObject();
    }

    /**
     * The optional fields of a column entry, each only when known, in this order: {@code attnum},
     * {@code typmod}, {@code sqlType}, {@code notNull} (only when true), {@code default},
     * {@code existingRowsValue}.
     */
    private void writeColumnDetails(JsonGenerator g, ColumnInfo col) throws IOException {
        if (col.attnum() != null) {
            g.writeNumberField("attnum", col.attnum());
        }
        if (col.typmod() != null) {
            g.writeNumberField("typmod", col.typmod());
        }
        writeOptional(g, "sqlType", col.sqlType());
        if (col.notNull()) {
            g.writeBooleanField("notNull", true);
        }
        writeOptional(g, "default", col.defaultExpression());
        if (col.existingRowsValue() != null) {
            g.writeFieldName("existingRowsValue");
            mapper.writeTree(g, col.existingRowsValue());
        }
    }

    private static void writeError(JsonGenerator g, ErrorReport e) throws IOException {
        g.writeObjectFieldStart("error");
        g.writeStringField("class", e.errorClass());
        g.writeStringField("message", e.message());
        writeOptional(g, "sqlState", e.sqlState());
        writeOptional(g, "constraint", e.constraint());
        writeOptional(g, "schema", e.schema());
        writeOptional(g, "table", e.table());
        writeOptional(g, "column", e.column());
        g.writeEndObject();
    }

    /** A field written only when known (metadata.error leaves unknown fields out). */
    private static void writeOptional(JsonGenerator g, String name, String value) throws IOException {
        if (value != null) {
            g.writeStringField(name, value);
        }
    }

    private void writeRow(JsonGenerator g, String field, Map<String, JsonNode> row) throws IOException {
        if (row == null) {
            g.writeNullField(field);
            return;
        }
        g.writeObjectFieldStart(field);
        for (Map.Entry<String, JsonNode> entry : row.entrySet()) {
            g.writeFieldName(entry.getKey());
            JsonNode value = entry.getValue();
            if (value == null) {
                g.writeNull();
            } else {
                mapper.writeTree(g, value);
            }
        }
        g.writeEndObject();
    }

    private static void writeStringField(JsonGenerator g, String name, String value) throws IOException {
        if (value == null) {
            g.writeNullField(name);
        } else {
            g.writeStringField(name, value);
        }
    }

    private static void writeNumberField(JsonGenerator g, String name, Long value) throws IOException {
        if (value == null) {
            g.writeNullField(name);
        } else {
            g.writeNumberField(name, value);
        }
    }

    /**
     * Reads an envelope. Accepts the full CDC form and the minimal form other components publish
     * (only {@code op}, {@code table}, {@code after}, and {@code before} or {@code key}).
     *
     * @throws EnvelopeFormatException naming what is missing or malformed
     */
    public Envelope decode(byte[] bytes) {
        JsonNode root;
        try {
            root = mapper.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new EnvelopeFormatException("not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new EnvelopeFormatException("cannot read envelope: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new EnvelopeFormatException("envelope must be a JSON object");
        }
        JsonNode payload = root.get("payload");
        if (payload == null || !payload.isObject()) {
            throw new EnvelopeFormatException("envelope has no 'payload' object");
        }
        List<Change> changes = new ArrayList<>();
        JsonNode changesNode = payload.get("changes");
        CompactPayload compact = CompactPayload.of(payload);
        if (changesNode != null) {
            if (!changesNode.isArray()) {
                throw new EnvelopeFormatException("'payload.changes' must be an array");
            }
            int i = 0;
            for (JsonNode change : changesNode) {
                String path = "payload.changes[" + i++ + "]";
                if (compact != null && change.isObject()) {
                    compact.complete((com.fasterxml.jackson.databind.node.ObjectNode) change, path);
                }
                changes.add(readChange(change, path));
            }
        } else if (payload.has("op")) {
            changes.add(readChange(payload, "payload"));
        } else {
            throw new EnvelopeFormatException("'payload' has neither 'changes' nor 'op'");
        }
        EnvelopeMetadata metadata = readMetadata(root.get("metadata"), changes.size());
        return new Envelope(text(root, "id", "id"), text(root, "type", "type"), text(root, "source", "source"),
                instant(root, "time", "time"), metadata, changes);
    }

    private EnvelopeMetadata readMetadata(JsonNode m, int changeCount) {
        if (m == null || m.isNull()) {
            return new EnvelopeMetadata(null, null, null, 0, true, changeCount, 1);
        }
        if (!m.isObject()) {
            throw new EnvelopeFormatException("'metadata' must be an object");
        }
        JsonNode chunk = m.get("chunk");
        JsonNode last = m.get("lastChunk");
        JsonNode count = m.get("changeCount");
        JsonNode txCount = m.get("transactionCount");
        if (chunk != null && !chunk.isNull() && !chunk.canConvertToInt()) {
            throw new EnvelopeFormatException("'metadata.chunk' must be an integer");
        }
        try {
            return new EnvelopeMetadata(
                    longValue(m, "txId", "metadata.txId"),
                    lsn(m, "commitLsn", "metadata.commitLsn"),
                    instant(m, "commitTime", "metadata.commitTime"),
                    chunk == null || chunk.isNull() ? 0 : chunk.asInt(),
                    last == null || last.isNull() || last.asBoolean(),
                    count == null || count.isNull() ? changeCount : count.asInt(),
                    txCount == null || txCount.isNull() ? 1 : txCount.asInt(),
                    snapshot(m.get("snapshot")),
                    errorReport(m.get("error")));
        } catch (IllegalArgumentException e) {
            throw new EnvelopeFormatException("invalid 'metadata': " + e.getMessage(), e);
        }
    }

    private static EnvelopeMetadata.Snapshot snapshot(JsonNode s) {
        if (s == null || s.isNull()) {
            return null;
        }
        if (!s.isObject()) {
            throw new EnvelopeFormatException("'metadata.snapshot' must be an object");
        }
        String id = text(s, "id", "metadata.snapshot.id");
        String table = text(s, "table", "metadata.snapshot.table");
        JsonNode chunk = s.get("chunk");
        JsonNode last = s.get("lastChunk");
        if (id == null || table == null || chunk == null || !chunk.canConvertToInt() || !chunk.isIntegralNumber()) {
            throw new EnvelopeFormatException("'metadata.snapshot' needs 'id', 'table' and an integer 'chunk'");
        }
        return new EnvelopeMetadata.Snapshot(id, table, chunk.intValue(), last != null && last.asBoolean());
    }

    private static ErrorReport errorReport(JsonNode e) {
        if (e == null || e.isNull()) {
            return null;
        }
        if (!e.isObject()) {
            throw new EnvelopeFormatException("'metadata.error' must be an object");
        }
        String errorClass = text(e, "class", "metadata.error.class");
        String message = text(e, "message", "metadata.error.message");
        if (errorClass == null || message == null) {
            throw new EnvelopeFormatException("'metadata.error' needs 'class' and 'message'");
        }
        return new ErrorReport(errorClass, message, text(e, "sqlState", "metadata.error.sqlState"),
                text(e, "constraint", "metadata.error.constraint"), text(e, "schema", "metadata.error.schema"),
                text(e, "table", "metadata.error.table"), text(e, "column", "metadata.error.column"));
    }

    private static Change.Oversized oversized(JsonNode c, String path) {
        JsonNode o = c.get("oversized");
        if (o == null || o.isNull()) {
            return null;
        }
        if (!o.isObject()) {
            throw new EnvelopeFormatException("'" + path + ".oversized' must be an object");
        }
        Long bytes = longValue(o, "bytes", path + ".oversized.bytes");
        Long limit = longValue(o, "limit", path + ".oversized.limit");
        return new Change.Oversized(bytes == null ? 0 : bytes, limit == null ? 0 : limit);
    }

    private static Change.Undecodable undecodable(JsonNode c, String path) {
        JsonNode u = c.get("undecodable");
        if (u == null || u.isNull()) {
            return null;
        }
        if (!u.isObject()) {
            throw new EnvelopeFormatException("'" + path + ".undecodable' must be an object");
        }
        String error = text(u, "error", path + ".undecodable.error");
        return new Change.Undecodable(error == null ? "" : error);
    }

    private Change readChange(JsonNode c, String path) {
        if (!c.isObject()) {
            throw new EnvelopeFormatException("'" + path + "' must be an object");
        }
        String opText = text(c, "op", path + ".op");
        if (opText == null) {
            throw new EnvelopeFormatException("'" + path + ".op' is missing");
        }
        Operation op;
        try {
            op = Operation.valueOf(opText.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new EnvelopeFormatException("'" + path + ".op' must be INSERT, UPDATE, DELETE, TRUNCATE or READ, was '" + opText + "'", e);
        }
        String table = text(c, "table", path + ".table");
        if (table == null || table.isEmpty()) {
            throw new EnvelopeFormatException("'" + path + ".table' is missing");
        }
        List<ColumnInfo> columns = new ArrayList<>();
        JsonNode cols = c.get("columns");
        if (cols != null && !cols.isNull()) {
            if (!cols.isArray()) {
                throw new EnvelopeFormatException("'" + path + ".columns' must be an array");
            }
            for (JsonNode col : cols) {
                String name = text(col, "name", path + ".columns[].name");
                if (name == null) {
                    throw new EnvelopeFormatException("'" + path + ".columns[].name' is missing");
                }
                JsonNode key = col.get("key");
                columns.add(column(col, name, text(col, "type", path + ".columns[].type"), key != null && key.asBoolean()));
            }
        }
        Map<String, JsonNode> before = row(c, "before", path);
        if (before == null) {
            before = row(c, "key", path);
        }
        Map<String, JsonNode> after = row(c, "after", path);
        List<String> toast = new ArrayList<>();
        JsonNode toastNode = c.get("unchangedToast");
        if (toastNode != null && !toastNode.isNull()) {
            if (!toastNode.isArray()) {
                throw new EnvelopeFormatException("'" + path + ".unchangedToast' must be an array");
            }
            toastNode.forEach(n -> toast.add(n.asText()));
        }
        return new Change(op, text(c, "schema", path + ".schema"), table,
                longValue(c, "txId", path + ".txId"), lsn(c, "commitLsn", path + ".commitLsn"),
                instant(c, "commitTime", path + ".commitTime"), lsn(c, "lsn", path + ".lsn"),
                columns, before, after, toast, oversized(c, path), undecodable(c, path));
    }

    /**
     * A column entry with its optional fields. Those are informational extras: one of an unexpected
     * JSON type is left out rather than failing the envelope.
     */
    static ColumnInfo column(JsonNode col, String name, String type, boolean key) {
        JsonNode notNull = col.get("notNull");
        return new ColumnInfo(name, type, key, optionalInt(col.get("attnum")), optionalInt(col.get("typmod")),
                optionalText(col.get("sqlType")), notNull != null && notNull.isBoolean() && notNull.booleanValue(),
                optionalText(col.get("default")), col.get("existingRowsValue"));
    }

    private static Integer optionalInt(JsonNode value) {
        return value != null && value.isIntegralNumber() && value.canConvertToInt() ? value.intValue() : null;
    }

    private static String optionalText(JsonNode value) {
        return value != null && value.isTextual() ? value.textValue() : null;
    }

    private static Map<String, JsonNode> row(JsonNode change, String field, String path) {
        JsonNode node = change.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject()) {
            throw new EnvelopeFormatException("'" + path + "." + field + "' must be an object");
        }
        Map<String, JsonNode> row = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            row.put(f.getKey(), f.getValue());
        }
        return row;
    }

    private static String text(JsonNode node, String field, String path) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (value.getNodeType() != JsonNodeType.STRING) {
            throw new EnvelopeFormatException("'" + path + "' must be a string");
        }
        return value.textValue();
    }

    private static Long longValue(JsonNode node, String field, String path) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.canConvertToLong() || !value.isIntegralNumber()) {
            throw new EnvelopeFormatException("'" + path + "' must be an integer");
        }
        return value.longValue();
    }

    private static Lsn lsn(JsonNode node, String field, String path) {
        String text = text(node, field, path);
        if (text == null) {
            return null;
        }
        try {
            return Lsn.parse(text);
        } catch (IllegalArgumentException e) {
            throw new EnvelopeFormatException("'" + path + "' " + e.getMessage(), e);
        }
    }

    private static Instant instant(JsonNode node, String field, String path) {
        String text = text(node, field, path);
        if (text == null) {
            return null;
        }
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw new EnvelopeFormatException("'" + path + "' is not an ISO-8601 instant: " + text, e);
        }
    }
}
