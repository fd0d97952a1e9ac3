package io.vrsky.producer.write;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.vrsky.core.codec.EnvelopeCodec;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.ColumnInfo;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.EnvelopeMetadata;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.Operation;
import io.vrsky.core.model.TableId;
import io.vrsky.producer.catalog.ColumnMeta;
import io.vrsky.producer.catalog.SchemaCatalog;
import io.vrsky.producer.catalog.TableMeta;
import io.vrsky.producer.catalog.TableWhitelist;
import io.vrsky.producer.catalog.ValueKind;
import io.vrsky.producer.sql.CopyText;
import io.vrsky.producer.sql.SqlStatementBuilder;
import io.vrsky.producer.subscribe.InboundMessage;

import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Runs the per-row work of the write path (decoding an envelope, the applied-position check,
 * validation and conversion, planning, COPY encoding) on synthetic messages in memory, before the
 * service reports ready, so the JIT has compiled it when the first real backlog arrives: a fresh
 * JVM otherwise spends more CPU compiling than applying during its first few hundred thousand rows.
 * Touches neither PostgreSQL nor NATS.
 *
 * <p>It stops once the time per row no longer improves (at least {@value #MIN_ROWS} rows, at most
 * {@value #MAX_ROWS} or {@link #MAX_TIME}): in a JVM that is warm already that is a few tens of
 * milliseconds.
 */
public final class Warmup {

    static final int MIN_ROWS = 200_000;
    static final int MAX_ROWS = 400_000;
    static final Duration MAX_TIME = Duration.ofSeconds(5);
    private static final int PER_MESSAGE = 1_000;
    /** Two tables in two schemas, and two sources, taking turns: real streams change between them too. */
    private static final TableId TABLE = new TableId("vrsky_warmup", "rows");
    private static final TableId OTHER = new TableId("vrsky_warmup_b", "other_rows");

    /** What the warm-up did. */
    public record Result(long rows, Duration took, double lastMicrosPerRow) {
    }

    private Warmup() {
    }

    /**
     * @param decode the service's own decoder (raw bytes to a message)
     * @param stop   asked between messages: true ends the warm-up at once (shutdown)
     */
    public static Result run(Function<byte[], InboundMessage> decode, ConflictStrategy strategy, BooleanSupplier stop) {
        TableMeta table = new TableMeta(TABLE, List.of(
                new ColumnMeta("id", 1, "pg_catalog.int8", "int8", ValueKind.SCALAR, null, false),
                new ColumnMeta("k", 2, "pg_catalog.int4", "int4", ValueKind.SCALAR, null, false),
                new ColumnMeta("amount", 3, "pg_catalog.\"numeric\"", "numeric", ValueKind.SCALAR, null, false),
                new ColumnMeta("flag", 4, "pg_catalog.bool", "bool", ValueKind.SCALAR, null, false),
                new ColumnMeta("at", 5, "pg_catalog.timestamptz", "timestamptz", ValueKind.SCALAR, null, false),
                new ColumnMeta("note", 6, "pg_catalog.text", "text", ValueKind.SCALAR, null, false),
                new ColumnMeta("doc", 7, "pg_catalog.jsonb", "jsonb", ValueKind.JSON, null, false)), List.of("id"));
        // the service's own classes, on a catalog that knows only the synthetic table, without a pool or NATS
        TableMeta other = new TableMeta(OTHER, List.of(
                new ColumnMeta("id", 1, "pg_catalog.int4", "int4", ValueKind.SCALAR, null, false),
                new ColumnMeta("k", 2, "pg_catalog.int8", "int8", ValueKind.SCALAR, null, false),
                new ColumnMeta("amount", 3, "pg_catalog.\"numeric\"", "numeric", ValueKind.SCALAR, null, false),
                new ColumnMeta("flag", 4, "pg_catalog.bool", "bool", ValueKind.SCALAR, null, false),
                new ColumnMeta("at", 5, "pg_catalog.timestamptz", "timestamptz", ValueKind.SCALAR, null, false),
                new ColumnMeta("note", 6, "pg_catalog.text", "text", ValueKind.SCALAR, null, false),
                new ColumnMeta("doc", 7, "pg_catalog.jsonb", "jsonb", ValueKind.JSON, null, false)), List.of("id"));
        WriterContext context = new WriterContext(null, SchemaCatalog.fixed(List.of(table, other)), TableWhitelist.of(TABLE, OTHER), strategy,
                new SqlStatementBuilder(16), new AppliedPositions(), null, null, null);
        BatchWriter writer = new BatchWriter(context);
        EnvelopeCodec codec = new EnvelopeCodec();
        List<byte[]> messages = new ArrayList<>();
        for (int m = 0; m < 12; m++) {
            messages.add(codec.encode(message(m)));
        }
        CopyText text = new CopyText(64 * 1024);
        long[] bytes = {0};
        long start = System.nanoTime();
        long rows = 0;
        double best = Double.MAX_VALUE;
        double last = 0;
        int flat = 0;
        for (int i = 0; rows < MAX_ROWS && System.nanoTime() - start < MAX_TIME.toNanos() && !stop.getAsBoolean(); i++) {
            long t0 = System.nanoTime();
            int n = once(writer, decode, messages.get(i % messages.size()), text, bytes);
            rows += n;
            last = (System.nanoTime() - t0) / 1e3 / n;
            // compiled code shows as a time per row that stops falling
            flat = last <= best * 1.1 ? flat + 1 : 0;
            best = Math.min(best, last);
            if (rows >= MIN_ROWS && flat >= 5) {
                break;
            }
        }
        if (bytes[0] < 0) {
            throw new AssertionError("unreachable: keeps the encoding from being optimized away");
        }
        return new Result(rows, Duration.ofNanos(System.nanoTime() - start), last);
    }

    /** One message through decoding, the batch writer's checks and planning, and COPY encoding; returns its rows. */
    private static int once(BatchWriter writer, Function<byte[], InboundMessage> decode, byte[] raw, CopyText text, long[] bytes) {
        InboundMessage message = decode.apply(raw);
        if (message.envelope() == null) {
            throw new IllegalStateException("the warm-up message does not decode: " + message.decodeError());
        }
        try {
            for (Run run : writer.plan(List.of(message))) {
                SqlExecutor.encode(run.rows(), text, (data, offset, length) -> bytes[0] += length);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("the warm-up message does not apply", e);
        }
        return message.changeCount();
    }

    /**
     * Mostly inserts of the usual column types, with updates and deletes between them; every other
     * message holds single-row transactions (each change with its own commit LSN and time), the
     * others transactions of ten rows.
     */
    private static Envelope message(int m) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        List<ColumnInfo> columns = List.of(new ColumnInfo("id", "int8", true), new ColumnInfo("k", "int4", false),
                new ColumnInfo("amount", "numeric", false), new ColumnInfo("flag", "bool", false),
                new ColumnInfo("at", "timestamptz", false), new ColumnInfo("note", "text", false), new ColumnInfo("doc", "jsonb", false));
        Instant time = Instant.parse("2026-02-17T10:00:00.120001Z");
        boolean single = m % 2 == 1;
        int size = single ? PER_MESSAGE / 10 : PER_MESSAGE;
        List<Change> changes = new ArrayList<>(size);
        long lsn = 0x1000_0000L + (long) m * PER_MESSAGE * 200;
        for (int i = 0; i < size; i++) {
            long id = (long) m * PER_MESSAGE + i;
            long tx = single ? id : id - id % 10;
            Lsn commit = new Lsn(lsn + (tx - (long) m * PER_MESSAGE) * 200 + 190);
            Instant committed = single ? time.plusNanos(i * 1_000L) : time;
            Map<String, JsonNode> after = new LinkedHashMap<>();
            after.put("id", f.numberNode(id));
            after.put("k", f.numberNode(i));
            after.put("amount", f.textNode(id + ".25"));
            after.put("flag", f.booleanNode(i % 2 == 0));
            after.put("at", f.textNode(time.plusMillis(i).toString()));
            after.put("note", f.textNode("warm-up row " + id + " with some text of a usual length, \"quoted\" and\ttabbed"));
            after.put("doc", f.objectNode().put("n", i).put("s", "x"));
            Map<String, JsonNode> key = new LinkedHashMap<>();
            key.put("id", f.numberNode(id - 1));
            Operation op = i % 50 == 7 ? Operation.UPDATE : i % 50 == 9 ? Operation.DELETE : Operation.INSERT;
            TableId target = m % 3 == 2 ? OTHER : TABLE;
            changes.add(new Change(op, target.schema(), target.table(), tx, commit, committed, new Lsn(lsn + i * 200L), columns,
                    op == Operation.INSERT ? null : key, op == Operation.DELETE ? null : after, List.of()));
        }
        Change last = changes.get(changes.size() - 1);
        return new Envelope("warm-up-" + m, Envelope.CDC_TRANSACTION_TYPE, m % 4 < 2 ? "warm-up" : "warm-up-b", time,
                new EnvelopeMetadata(last.txId(), last.commitLsn(), last.commitTime(), 0, true, changes.size(),
                        single ? size : size / 10), changes);
    }
}
