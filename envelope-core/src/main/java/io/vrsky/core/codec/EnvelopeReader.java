package io.vrsky.core.codec;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.ColumnInfo;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.EnvelopeMetadata;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.Operation;

import java.io.IOException;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Reads the envelope of DESIGN.md in one streaming pass, straight into the records
 * {@link EnvelopeCodec#decode(byte[])} returns, without building a JSON tree first. What repeats
 * from change to change (schema and table names, the column list, a transaction's commit LSN and
 * commit time) is recognised in the parser's buffer and shared, not parsed again.
 *
 * <p>Only the plain, well-formed shape is read here. Anything else (a field of an unexpected type,
 * a field given twice, a payload without {@code changes}, a float or a big number in metadata, a
 * value that does not parse) is handed to {@link EnvelopeCodec#decode(byte[])}, which stays the
 * reference for both the result and the error message. So for every input this returns exactly
 * what the codec returns, or throws what it throws ({@code EnvelopeReaderTest} compares the two).
 *
 * <p>Not thread-safe (the shared values): one instance per thread, from {@link EnvelopeCodec#newReader()}.
 */
public final class EnvelopeReader {

    /** The input is not the plain shape: let the codec read it. */
    private static final class Irregular extends Exception {
        private static final long serialVersionUID = 1L;
        static final Irregular INSTANCE = new Irregular();

        private Irregular() {
            super(null, null, false, false);
        }
    }

    private static final int ID = 1;
    private static final int TYPE = 1 << 1;
    private static final int SOURCE = 1 << 2;
    private static final int TIME = 1 << 3;
    private static final int METADATA = 1 << 4;
    private static final int PAYLOAD = 1 << 5;

    private final EnvelopeCodec codec;
    private final ObjectMapper mapper;
    private final JsonFactory factory;
    private String lastSchema;
    private String lastTable;
    private String lastInstantText;
    private Instant lastInstant;
    private String lastLsnText;
    private Lsn lastLsn;
    private List<ColumnInfo> lastColumns = List.of();
    /** The JSON text {@link #lastColumns} was read from. */
    private byte[] lastColumnsJson = new byte[0];
    /**
     * The bytes of a change from its {@code txId} value to the end of its {@code commitTime} value
     * (<code>,"commitLsn":"…","commitTime":"…"</code>), the txId and the two values read from them:
     * every change of a transaction repeats them.
     */
    private byte[] lastTxTail = new byte[0];
    private long lastTxTailId;
    private Lsn lastTxTailLsn;
    private Instant lastTxTailTime;
    /** The compact layout's entries of the message being read; null for the standard layout. */
    private List<TableEntry> tablesNow;
    private List<TransactionEntry> transactionsNow;
    private static final int KNOWN_COLUMN_LISTS = 64;
    /** Column lists of the compact layout's table entries by their JSON text, least recently used first. */
    private final Map<java.nio.ByteBuffer, List<ColumnInfo>> knownColumnLists = new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<java.nio.ByteBuffer, List<ColumnInfo>> eldest) {
            return size() > KNOWN_COLUMN_LISTS;
        }
    };
    /** The message being read. */
    private byte[] input;
    private long handedOver;

    EnvelopeReader(EnvelopeCodec codec) {
        this.codec = codec;
        this.mapper = codec.mapper();
        this.factory = new SkippingJsonFactory(mapper.getFactory(), mapper);
    }

    /**
     * @throws EnvelopeFormatException as {@link EnvelopeCodec#decode(byte[])} does
     */
    public Envelope decode(byte[] bytes) {
        input = bytes;
        try (JsonParser p = factory.createParser(bytes)) {
            return envelope(p);
        } catch (Irregular | IOException | RuntimeException e) {
            handedOver++;
            return codec.decode(bytes);
        } finally {
            input = null;
        }
    }

    /** How many inputs were handed to the codec (for tests). */
    long handedOver() {
        return handedOver;
    }

    private Envelope envelope(JsonParser p) throws IOException, Irregular {
        if (p.nextToken() != JsonToken.START_OBJECT) {
            throw Irregular.INSTANCE;
        }
        int seen = 0;
        String id = null;
        String type = null;
        String source = null;
        Instant time = null;
        Metadata metadata = null;
        List<Change> changes = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            p.nextToken();
            switch (name) {
                case "id" -> {
                    seen = once(seen, ID);
                    id = string(p);
                }
                case "type" -> {
                    seen = once(seen, TYPE);
                    type = string(p);
                }
                case "source" -> {
                    seen = once(seen, SOURCE);
                    source = string(p);
                }
                case "time" -> {
                    seen = once(seen, TIME);
                    time = instant(p);
                }
                case "metadata" -> {
                    seen = once(seen, METADATA);
                    metadata = metadata(p);
                }
                case "payload" -> {
                    seen = once(seen, PAYLOAD);
                    changes = payload(p);
                }
                default -> p.skipChildren();
            }
        }
        if (changes == null) {
            throw Irregular.INSTANCE;
        }
        EnvelopeMetadata m = metadata == null ? new EnvelopeMetadata(null, null, null, 0, true, changes.size(), 1)
                : metadata.toMetadata(changes.size());
        return new Envelope(id, type, source, time, m, changes);
    }

    private static int once(int seen, int field) throws Irregular {
        if ((seen & field) != 0) {
            throw Irregular.INSTANCE;
        }
        return seen | field;
    }

    /** The metadata fields as given; the defaults need the change count. */
    private record Metadata(Long txId, Lsn commitLsn, Instant commitTime, Integer chunk, Boolean lastChunk, Integer changeCount,
                            Integer transactionCount, EnvelopeMetadata.Snapshot snapshot) {
        EnvelopeMetadata toMetadata(int changes) {
            return new EnvelopeMetadata(txId, commitLsn, commitTime, chunk == null ? 0 : chunk, lastChunk == null || lastChunk,
                    changeCount == null ? changes : changeCount, transactionCount == null ? 1 : transactionCount, snapshot, null);
        }
    }

    private Metadata metadata(JsonParser p) throws IOException, Irregular {
        if (p.currentToken() == JsonToken.VALUE_NULL) {
            return null;
        }
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw Irregular.INSTANCE;
        }
        int seen = 0;
        Long txId = null;
        Lsn commitLsn = null;
        Instant commitTime = null;
        Integer chunk = null;
        Boolean lastChunk = null;
        Integer changeCount = null;
        Integer transactionCount = null;
        EnvelopeMetadata.Snapshot snapshot = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            p.nextToken();
            switch (name) {
                case "txId" -> {
                    seen = once(seen, 1);
                    txId = longValue(p);
                }
                case "commitLsn" -> {
                    seen = once(seen, 1 << 1);
                    commitLsn = commitLsn(p);
                }
                case "commitTime" -> {
                    seen = once(seen, 1 << 2);
                    commitTime = instant(p);
                }
                case "chunk" -> {
                    seen = once(seen, 1 << 3);
                    chunk = intValue(p);
                }
                case "lastChunk" -> {
                    seen = once(seen, 1 << 4);
                    lastChunk = booleanValue(p);
                }
                case "changeCount" -> {
                    seen = once(seen, 1 << 5);
                    changeCount = intValue(p);
                }
                case "transactionCount" -> {
                    seen = once(seen, 1 << 6);
                    transactionCount = intValue(p);
                }
                case "snapshot" -> {
                    seen = once(seen, 1 << 7);
                    snapshot = snapshot(p);
                }
                // a dead letter's report: rare, the codec reads it
                case "error" -> throw Irregular.INSTANCE;
                default -> p.skipChildren();
            }
        }
        return new Metadata(txId, commitLsn, commitTime, chunk, lastChunk, changeCount, transactionCount, snapshot);
    }

    /** {@code metadata.snapshot}: id, table, chunk and lastChunk; anything unusual goes to the codec. */
    private static EnvelopeMetadata.Snapshot snapshot(JsonParser p) throws IOException, Irregular {
        if (p.currentToken() == JsonToken.VALUE_NULL) {
            return null;
        }
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw Irregular.INSTANCE;
        }
        int seen = 0;
        String id = null;
        String table = null;
        Integer chunk = null;
        Boolean last = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            p.nextToken();
            switch (name) {
                case "id" -> {
                    seen = once(seen, 1);
                    id = string(p);
                }
                case "table" -> {
                    seen = once(seen, 1 << 1);
                    table = string(p);
                }
                case "chunk" -> {
                    seen = once(seen, 1 << 2);
                    chunk = intValue(p);
                }
                case "lastChunk" -> {
                    seen = once(seen, 1 << 3);
                    last = booleanValue(p);
                }
                default -> p.skipChildren();
            }
        }
        if (id == null || table == null || chunk == null || chunk < 0) {
            throw Irregular.INSTANCE;
        }
        return new EnvelopeMetadata.Snapshot(id, table, chunk, last != null && last);
    }

    private List<Change> payload(JsonParser p) throws IOException, Irregular {
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw Irregular.INSTANCE;
        }
        tablesNow = null;
        transactionsNow = null;
        List<Change> changes = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            p.nextToken();
            if (name.equals("changes")) {
                if (changes != null || p.currentToken() != JsonToken.START_ARRAY) {
                    throw Irregular.INSTANCE;
                }
                changes = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    changes.add(change(p));
                }
            } else if (name.equals("format")) { // the compact layout: its entries come before the changes that name them
                if (changes != null || p.currentToken() != JsonToken.VALUE_STRING || !sameText(p, EnvelopeWriter.COMPACT)) {
                    throw Irregular.INSTANCE;
                }
            } else if (name.equals("tables")) {
                if (changes != null || tablesNow != null) {
                    throw Irregular.INSTANCE;
                }
                tablesNow = tableEntries(p);
            } else if (name.equals("transactions")) {
                if (changes != null || transactionsNow != null) {
                    throw Irregular.INSTANCE;
                }
                transactionsNow = transactionEntries(p);
            } else {
                p.skipChildren();
            }
        }
        if (changes == null) {
            throw Irregular.INSTANCE;
        }
        return changes;
    }

    /** An entry of the compact layout's {@code payload.tables}. */
    private record TableEntry(int ref, String schema, String table, List<ColumnInfo> columns) {
    }

    /** An entry of the compact layout's {@code payload.transactions}. */
    private record TransactionEntry(long txId, Lsn commitLsn, Instant commitTime) {
    }

    private List<TableEntry> tableEntries(JsonParser p) throws IOException, Irregular {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw Irregular.INSTANCE;
        }
        List<TableEntry> entries = new ArrayList<>(4);
        while (p.nextToken() == JsonToken.START_OBJECT) {
            int seen = 0;
            Integer ref = null;
            String schema = null;
            String table = null;
            List<ColumnInfo> columns = List.of();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                p.nextToken();
                switch (name) {
                    case "ref" -> {
                        seen = once(seen, 1);
                        ref = intValue(p);
                    }
                    case "schema" -> {
                        seen = once(seen, 1 << 1);
                        schema = schema(p);
                    }
                    case "table" -> {
                        seen = once(seen, 1 << 2);
                        table = table(p);
                    }
                    case "columns" -> {
                        seen = once(seen, 1 << 3);
                        columns = knownColumns(p);
                    }
                    default -> p.skipChildren();
                }
            }
            if (ref == null || table == null || table.isEmpty() || entry(entries, ref) != null) {
                throw Irregular.INSTANCE;
            }
            entries.add(new TableEntry(ref, schema, table, columns));
        }
        if (p.currentToken() != JsonToken.END_ARRAY) {
            throw Irregular.INSTANCE;
        }
        return entries;
    }

    private static TableEntry entry(List<TableEntry> entries, int ref) {
        for (TableEntry e : entries) {
            if (e.ref() == ref) {
                return e;
            }
        }
        return null;
    }

    private List<TransactionEntry> transactionEntries(JsonParser p) throws IOException, Irregular {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw Irregular.INSTANCE;
        }
        List<TransactionEntry> entries = new ArrayList<>(4);
        while (p.nextToken() == JsonToken.START_OBJECT) {
            int seen = 0;
            Long txId = null;
            Lsn commitLsn = null;
            Instant commitTime = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                p.nextToken();
                switch (name) {
                    case "txId" -> {
                        seen = once(seen, 1);
                        txId = longValue(p);
                    }
                    case "commitLsn" -> {
                        seen = once(seen, 1 << 1);
                        commitLsn = commitLsn(p);
                    }
                    case "commitTime" -> {
                        seen = once(seen, 1 << 2);
                        commitTime = instant(p);
                    }
                    default -> p.skipChildren();
                }
            }
            // an entry without both values would fill a change only partly: the codec decides
            if (txId == null || commitLsn == null || commitTime == null || transaction(entries, txId) != null) {
                throw Irregular.INSTANCE;
            }
            entries.add(new TransactionEntry(txId, commitLsn, commitTime));
        }
        if (p.currentToken() != JsonToken.END_ARRAY) {
            throw Irregular.INSTANCE;
        }
        return entries;
    }

    private static TransactionEntry transaction(List<TransactionEntry> entries, long txId) {
        for (TransactionEntry e : entries) {
            if (e.txId() == txId) {
                return e;
            }
        }
        return null;
    }

    /**
     * A table entry's column list, the same list object as for the same JSON text read before (the
     * last {@value #KNOWN_COLUMN_LISTS} kept), so that what checks a list once can tell it again.
     */
    private List<ColumnInfo> knownColumns(JsonParser p) throws IOException, Irregular {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            return columns(p);
        }
        int start = (int) p.currentTokenLocation().getByteOffset();
        p.skipChildren();
        int end = (int) p.currentLocation().getByteOffset();
        if (start < 0 || end <= start || end > input.length) {
            throw Irregular.INSTANCE;
        }
        List<ColumnInfo> known = knownColumnLists.get(java.nio.ByteBuffer.wrap(input, start, end - start));
        if (known != null) {
            return known;
        }
        try (JsonParser columns = factory.createParser(input, start, end - start)) {
            columns.nextToken();
            List<ColumnInfo> list = columns(columns);
            if (columns.nextToken() != null) {
                throw Irregular.INSTANCE;
            }
            knownColumnLists.put(java.nio.ByteBuffer.wrap(java.util.Arrays.copyOfRange(input, start, end)), list);
            return list;
        }
    }

    private Change change(JsonParser p) throws IOException, Irregular {
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw Irregular.INSTANCE;
        }
        int seen = 0;
        Operation op = null;
        String schema = null;
        String table = null;
        Long txId = null;
        Lsn commitLsn = null;
        Instant commitTime = null;
        Lsn lsn = null;
        List<ColumnInfo> columns = List.of();
        Map<String, JsonNode> before = null;
        Map<String, JsonNode> key = null;
        Map<String, JsonNode> after = null;
        List<String> toast = List.of();
        Integer ref = null;
        SkippingJsonFactory.SkippingParser skipping = p instanceof SkippingJsonFactory.SkippingParser s ? s : null;
        int tailStart = -1; // where the bytes after this change's txId value start, while the fields come in the usual order
        int tailFields = 0;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            p.nextToken();
            tailFields = switch (name) {
                case "commitLsn" -> tailFields == 1 ? 2 : 0;
                case "commitTime" -> tailFields == 2 ? 3 : 0;
                default -> 0;
            };
            switch (name) {
                case "op" -> {
                    seen = once(seen, 1);
                    op = operation(p);
                }
                case "schema" -> {
                    seen = once(seen, 1 << 1);
                    schema = schema(p);
                }
                case "table" -> {
                    seen = once(seen, 1 << 2);
                    table = table(p);
                }
                case "txId" -> {
                    seen = once(seen, 1 << 3);
                    txId = longValue(p);
                    if (skipping != null && txId != null && txId == lastTxTailId && skipping.skipIfFollowedBy(lastTxTail)) {
                        seen = once(once(seen, 1 << 4), 1 << 5);
                        commitLsn = lastTxTailLsn;
                        commitTime = lastTxTailTime;
                    } else if (skipping != null && txId != null) {
                        tailStart = skipping.position();
                        tailFields = 1;
                    }
                }
                case "commitLsn" -> {
                    seen = once(seen, 1 << 4);
                    commitLsn = commitLsn(p);
                }
                case "commitTime" -> {
                    seen = once(seen, 1 << 5);
                    commitTime = instant(p);
                    if (tailFields == 3 && commitLsn != null && commitTime != null) {
                        lastTxTail = java.util.Arrays.copyOfRange(input, tailStart, skipping.position());
                        lastTxTailId = txId;
                        lastTxTailLsn = commitLsn;
                        lastTxTailTime = commitTime;
                    }
                }
                case "lsn" -> {
                    seen = once(seen, 1 << 6);
                    lsn = lsn(p);
                }
                case "columns" -> {
                    seen = once(seen, 1 << 7);
                    columns = sameColumns(p);
                }
                case "before" -> {
                    seen = once(seen, 1 << 8);
                    before = row(p);
                }
                case "key" -> {
                    seen = once(seen, 1 << 9);
                    key = row(p);
                }
                case "after" -> {
                    seen = once(seen, 1 << 10);
                    after = row(p);
                }
                case "unchangedToast" -> {
                    seen = once(seen, 1 << 11);
                    toast = toast(p);
                }
                case "ref" -> {
                    seen = once(seen, 1 << 12);
                    ref = intValue(p);
                    if (ref == null) {
                        throw Irregular.INSTANCE;
                    }
                }
                // placeholders for changes the consumer could not carry: rare, the codec reads them
                case "oversized", "undecodable" -> throw Irregular.INSTANCE;
                default -> p.skipChildren();
            }
        }
        if (ref != null) { // the compact layout: schema, table and columns from the entry it names
            TableEntry entry = tablesNow == null || (seen & (1 << 1 | 1 << 2 | 1 << 7)) != 0 ? null : entry(tablesNow, ref);
            if (entry == null) {
                throw Irregular.INSTANCE;
            }
            schema = entry.schema();
            table = entry.table();
            columns = entry.columns();
        }
        if (txId != null && transactionsNow != null) { // the compact layout: what the change leaves out, from its transaction's entry
            TransactionEntry tx = transaction(transactionsNow, txId);
            if (tx != null) {
                commitLsn = (seen & 1 << 4) == 0 ? tx.commitLsn() : commitLsn;
                commitTime = (seen & 1 << 5) == 0 ? tx.commitTime() : commitTime;
            }
        }
        if (op == null || table == null || table.isEmpty()) {
            throw Irregular.INSTANCE;
        }
        return new Change(op, schema, table, txId, commitLsn, commitTime, lsn, columns, before == null ? key : before, after, toast);
    }

    private static Operation operation(JsonParser p) throws IOException, Irregular {
        String text = string(p);
        if (text == null) {
            throw Irregular.INSTANCE;
        }
        return switch (text) {
            case "INSERT" -> Operation.INSERT;
            case "UPDATE" -> Operation.UPDATE;
            case "DELETE" -> Operation.DELETE;
            case "TRUNCATE" -> Operation.TRUNCATE;
            case "READ" -> Operation.READ;
            default -> {
                try {
                    yield Operation.valueOf(text.toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    throw Irregular.INSTANCE;
                }
            }
        };
    }

    private String schema(JsonParser p) throws IOException, Irregular {
        if (p.currentToken() == JsonToken.VALUE_NULL) {
            return null;
        }
        if (p.currentToken() != JsonToken.VALUE_STRING) {
            throw Irregular.INSTANCE;
        }
        if (!sameText(p, lastSchema)) {
            lastSchema = p.getText();
        }
        return lastSchema;
    }

    private String table(JsonParser p) throws IOException, Irregular {
        if (p.currentToken() == JsonToken.VALUE_NULL) {
            return null;
        }
        if (p.currentToken() != JsonToken.VALUE_STRING) {
            throw Irregular.INSTANCE;
        }
        if (!sameText(p, lastTable)) {
            lastTable = p.getText();
        }
        return lastTable;
    }

    /**
     * The column list: every change of a table repeats it, so when its JSON text is the same as the
     * previous change's it is skipped over and the list read then is shared.
     */
    private List<ColumnInfo> sameColumns(JsonParser p) throws IOException, Irregular {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            return columns(p);
        }
        if (p instanceof SkippingJsonFactory.SkippingParser skipping && skipping.skipIfRepeated(lastColumnsJson)) {
            return lastColumns;
        }
        int start = (int) p.currentTokenLocation().getByteOffset();
        p.skipChildren();
        int end = (int) p.currentLocation().getByteOffset();
        byte[] known = lastColumnsJson;
        if (start >= 0 && end > start && end <= input.length
                && java.util.Arrays.equals(input, start, end, known, 0, known.length)) {
            return lastColumns;
        }
        try (JsonParser columns = factory.createParser(input, start, end - start)) {
            columns.nextToken();
            List<ColumnInfo> list = columns(columns);
            if (columns.nextToken() != null) {
                throw Irregular.INSTANCE;
            }
            lastColumnsJson = java.util.Arrays.copyOfRange(input, start, end);
            return list;
        }
    }

    /** The column list, shared with the previous change's when equal. */
    private List<ColumnInfo> columns(JsonParser p) throws IOException, Irregular {
        if (p.currentToken() == JsonToken.VALUE_NULL) {
            return List.of();
        }
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw Irregular.INSTANCE;
        }
        List<ColumnInfo> known = lastColumns;
        List<ColumnInfo> list = new ArrayList<>(Math.max(4, known.size()));
        while (p.nextToken() != JsonToken.END_ARRAY) {
            if (p.currentToken() != JsonToken.START_OBJECT) {
                throw Irregular.INSTANCE;
            }
            ColumnInfo expected = list.size() < known.size() ? known.get(list.size()) : null;
            String name = null;
            String type = null;
            boolean key = false;
            Integer attnum = null;
            Integer typmod = null;
            String sqlType = null;
            boolean notNull = false;
            String defaultExpression = null;
            JsonNode existingRowsValue = null;
            int seen = 0;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                switch (field) {
                    case "name" -> {
                        seen = once(seen, 1);
                        if (t != JsonToken.VALUE_STRING) {
                            throw Irregular.INSTANCE;
                        }
                        name = expected != null && sameText(p, expected.name()) ? expected.name() : p.getText();
                    }
                    case "type" -> {
                        seen = once(seen, 1 << 1);
                        if (t == JsonToken.VALUE_NULL) {
                            type = null;
                        } else if (t != JsonToken.VALUE_STRING) {
                            throw Irregular.INSTANCE;
                        } else {
                            type = expected != null && sameText(p, expected.type()) ? expected.type() : p.getText();
                        }
                    }
                    case "key" -> {
                        seen = once(seen, 1 << 2);
                        Boolean b = booleanValue(p);
                        key = b != null && b;
                    }
                    // the optional fields: anything unexpected is left to the codec, which decides
                    case "attnum" -> {
                        seen = once(seen, 1 << 3);
                        attnum = intValue(p);
                    }
                    case "typmod" -> {
                        seen = once(seen, 1 << 4);
                        typmod = intValue(p);
                    }
                    case "sqlType" -> {
                        seen = once(seen, 1 << 5);
                        String text = string(p);
                        sqlType = text != null && expected != null && text.equals(expected.sqlType()) ? expected.sqlType() : text;
                    }
                    case "notNull" -> {
                        seen = once(seen, 1 << 6);
                        if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
                            throw Irregular.INSTANCE;
                        }
                        notNull = t == JsonToken.VALUE_TRUE;
                    }
                    case "default" -> {
                        seen = once(seen, 1 << 7);
                        defaultExpression = string(p);
                    }
                    case "existingRowsValue" -> {
                        seen = once(seen, 1 << 8);
                        existingRowsValue = value(p);
                    }
                    default -> p.skipChildren();
                }
            }
            if (name == null) {
                throw Irregular.INSTANCE;
            }
            list.add(new ColumnInfo(name, type, key, attnum, typmod, sqlType, notNull, defaultExpression, existingRowsValue));
        }
        if (list.equals(known)) {
            return known;
        }
        lastColumns = List.copyOf(list);
        return lastColumns;
    }

    private Map<String, JsonNode> row(JsonParser p) throws IOException, Irregular {
        if (p.currentToken() == JsonToken.VALUE_NULL) {
            return null;
        }
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw Irregular.INSTANCE;
        }
        LinkedHashMap<String, JsonNode> row = new LinkedHashMap<>(Math.max(8, lastColumns.size() * 2));
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            p.nextToken();
            row.put(name, value(p));
        }
        return Change.image(row);
    }

    /** A value as the tree deserializer builds it (same node types); anything but a plain scalar goes through it. */
    private JsonNode value(JsonParser p) throws IOException {
        return switch (p.currentToken()) {
            case VALUE_STRING -> TextNode.valueOf(p.getText());
            case VALUE_NULL -> NullNode.getInstance();
            case VALUE_TRUE -> BooleanNode.TRUE;
            case VALUE_FALSE -> BooleanNode.FALSE;
            case VALUE_NUMBER_INT -> switch (p.getNumberType()) {
                case INT -> IntNode.valueOf(p.getIntValue());
                case LONG -> LongNode.valueOf(p.getLongValue());
                default -> mapper.readTree(p);
            };
            default -> mapper.readTree(p);
        };
    }

    private static List<String> toast(JsonParser p) throws IOException, Irregular {
        if (p.currentToken() == JsonToken.VALUE_NULL) {
            return List.of();
        }
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw Irregular.INSTANCE;
        }
        List<String> names = null;
        while (p.nextToken() != JsonToken.END_ARRAY) {
            if (p.currentToken() != JsonToken.VALUE_STRING) {
                throw Irregular.INSTANCE;
            }
            if (names == null) {
                names = new ArrayList<>(4);
            }
            names.add(p.getText());
        }
        return names == null ? List.of() : names;
    }

    private static String string(JsonParser p) throws IOException, Irregular {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        if (t != JsonToken.VALUE_STRING) {
            throw Irregular.INSTANCE;
        }
        return p.getText();
    }

    private static Long longValue(JsonParser p) throws IOException, Irregular {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
            throw Irregular.INSTANCE;
        }
        return p.getLongValue();
    }

    private static Integer intValue(JsonParser p) throws IOException, Irregular {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT) {
            throw Irregular.INSTANCE;
        }
        return p.getIntValue();
    }

    private static Boolean booleanValue(JsonParser p) throws Irregular {
        return switch (p.currentToken()) {
            case VALUE_NULL -> null;
            case VALUE_TRUE -> Boolean.TRUE;
            case VALUE_FALSE -> Boolean.FALSE;
            default -> throw Irregular.INSTANCE;
        };
    }

    /** A commit LSN: the same for every change of a transaction, so the last one read is kept. */
    private Lsn commitLsn(JsonParser p) throws IOException, Irregular {
        if (p.currentToken() == JsonToken.VALUE_STRING && lastLsnText != null && sameText(p, lastLsnText)) {
            return lastLsn;
        }
        Lsn lsn = lsn(p);
        if (lsn != null) {
            lastLsnText = p.getText();
            lastLsn = lsn;
        }
        return lsn;
    }

    /** An LSN, read from the parser's characters without making a String when it has the usual form. */
    private static Lsn lsn(JsonParser p) throws IOException, Irregular {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        if (t != JsonToken.VALUE_STRING) {
            throw Irregular.INSTANCE;
        }
        Lsn lsn = fastLsn(p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
        if (lsn == null) {
            try {
                lsn = Lsn.parse(p.getText());
            } catch (IllegalArgumentException e) {
                throw Irregular.INSTANCE;
            }
        }
        return lsn;
    }

    /** {@code X/Y} with 1 to 8 hex digits each, or null for anything else (then {@link Lsn#parse} decides). */
    static Lsn fastLsn(String text) {
        return fastLsn(text.toCharArray(), 0, text.length());
    }

    private static Lsn fastLsn(char[] chars, int offset, int length) {
        int slash = -1;
        for (int i = 0; i < length; i++) {
            if (chars[offset + i] == '/') {
                slash = i;
                break;
            }
        }
        if (slash < 1 || slash > 8 || length - slash - 1 < 1 || length - slash - 1 > 8) {
            return null;
        }
        long high = 0;
        for (int i = 0; i < slash; i++) {
            int d = Character.digit(chars[offset + i], 16);
            if (d < 0) {
                return null;
            }
            high = high << 4 | d;
        }
        long low = 0;
        for (int i = slash + 1; i < length; i++) {
            int d = Character.digit(chars[offset + i], 16);
            if (d < 0) {
                return null;
            }
            low = low << 4 | d;
        }
        return new Lsn(high << 32 | low);
    }

    private Instant instant(JsonParser p) throws IOException, Irregular {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        if (t != JsonToken.VALUE_STRING) {
            throw Irregular.INSTANCE;
        }
        if (lastInstantText != null && sameText(p, lastInstantText)) {
            return lastInstant;
        }
        String text = p.getText();
        Instant instant = fastInstant(text);
        if (instant == null) {
            try {
                instant = Instant.parse(text);
            } catch (DateTimeException e) {
                throw Irregular.INSTANCE;
            }
        }
        lastInstantText = text;
        lastInstant = instant;
        return instant;
    }

    /**
     * {@code yyyy-MM-ddTHH:mm:ss[.f…]Z} (up to 9 fraction digits, seconds below 60), or null for anything
     * else (then {@link Instant#parse} decides: lower case, offsets, leap seconds, other years, errors).
     */
    static Instant fastInstant(String s) {
        int n = s.length();
        if (n < 20 || n > 30 || s.charAt(4) != '-' || s.charAt(7) != '-' || s.charAt(10) != 'T' || s.charAt(13) != ':'
                || s.charAt(16) != ':' || s.charAt(n - 1) != 'Z') {
            return null;
        }
        int year = digits(s, 0, 4);
        int month = digits(s, 5, 2);
        int day = digits(s, 8, 2);
        int hour = digits(s, 11, 2);
        int minute = digits(s, 14, 2);
        int second = digits(s, 17, 2);
        if (year < 0 || month < 0 || day < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
            return null;
        }
        int nanos = 0;
        if (n > 20) {
            int fraction = n - 21;
            if (s.charAt(19) != '.' || fraction < 1 || fraction > 9) {
                return null;
            }
            int f = digits(s, 20, fraction);
            if (f < 0) {
                return null;
            }
            nanos = f;
            for (int i = fraction; i < 9; i++) {
                nanos *= 10;
            }
        }
        long days;
        try {
            days = LocalDate.of(year, month, day).toEpochDay();
        } catch (DateTimeException e) {
            return null;
        }
        return Instant.ofEpochSecond(days * 86_400 + hour * 3_600L + minute * 60L + second, nanos);
    }

    private static int digits(String s, int from, int count) {
        int value = 0;
        for (int i = from; i < from + count; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    /** Whether the current string token equals {@code s}, read from the parser's buffer without making a String. */
    private static boolean sameText(JsonParser p, String s) throws IOException {
        if (s == null) {
            return false;
        }
        int length = p.getTextLength();
        if (length != s.length()) {
            return false;
        }
        char[] chars = p.getTextCharacters();
        int offset = p.getTextOffset();
        for (int i = 0; i < length; i++) {
            if (chars[offset + i] != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
