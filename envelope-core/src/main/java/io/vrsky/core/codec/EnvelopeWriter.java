package io.vrsky.core.codec;

import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.EnvelopeMetadata;
import io.vrsky.core.model.Lsn;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * Writes a CDC envelope around changes that are already encoded as JSON (postgres-consumer's
 * {@code payload.changes[]} objects), copying their bytes instead of re-encoding them: the
 * envelope's own fields are written into a reused buffer, then the body is allocated once at its
 * exact size and the changes copied in. The layout is byte for byte what {@link EnvelopeCodec}
 * writes for the same envelope (EnvelopeWriterTest checks it), and both readers read it back.
 *
 * <p>Not thread-safe: one writer per thread (postgres-consumer's replication thread).
 */
public final class EnvelopeWriter {

    private static final byte[] ID = ascii("{\"id\":\"");
    private static final byte[] METADATA = ascii("\",\"metadata\":{\"txId\":");
    private static final byte[] COMMIT_LSN = ascii(",\"commitLsn\":\"");
    private static final byte[] COMMIT_TIME = ascii("\",\"commitTime\":\"");
    private static final byte[] CHUNK = ascii("\",\"chunk\":");
    private static final byte[] LAST_CHUNK = ascii(",\"lastChunk\":");
    private static final byte[] TRUE = ascii("true");
    private static final byte[] FALSE = ascii("false");
    private static final byte[] CHANGE_COUNT = ascii(",\"changeCount\":");
    private static final byte[] TRANSACTION_COUNT = ascii(",\"transactionCount\":");
    private static final byte[] SNAPSHOT_ID = ascii(",\"snapshot\":{\"id\":");
    private static final byte[] SNAPSHOT_TABLE = ascii(",\"table\":");
    private static final byte[] SNAPSHOT_CHUNK = ascii(",\"chunk\":");
    private static final byte[] SNAPSHOT_END = ascii("}");
    private static final byte[] PAYLOAD_START = ascii("},\"payload\":{\"changes\":[");
    private static final byte[] COMPACT_START = ascii("},\"payload\":{\"format\":\"compact\",\"tables\":[");
    private static final byte[] COMPACT_TRANSACTIONS = ascii("],\"transactions\":[");
    private static final byte[] COMPACT_CHANGES = ascii("],\"changes\":[");
    private static final byte[] PAYLOAD_END = ascii("]}}");

    /** The value of header {@code Vrsky-Format} and of {@code payload.format} for the compact layout. */
    public static final String COMPACT = "compact";

    /**
     * What an envelope's {@code metadata} says besides its change count: the last transaction in the
     * message and, for a transaction sent in chunks, which chunk this is.
     *
     * @param transactionCount how many transactions have changes in the message (1 for a chunk)
     * @param snapshot         for a message of snapshot rows, which snapshot, table and chunk; else null
     */
    public record Metadata(long txId, Lsn commitLsn, Instant commitTime, int chunk, boolean lastChunk, int transactionCount,
                           EnvelopeMetadata.Snapshot snapshot) {
        /** The metadata of a CDC message (no snapshot part). */
        public Metadata(long txId, Lsn commitLsn, Instant commitTime, int chunk, boolean lastChunk, int transactionCount) {
            this(txId, commitLsn, commitTime, chunk, lastChunk, transactionCount, null);
        }

        public Metadata {
            Objects.requireNonNull(commitLsn, "commitLsn");
            Objects.requireNonNull(commitTime, "commitTime");
            if (chunk < 0) {
                throw new IllegalArgumentException("chunk must be >= 0, was " + chunk);
            }
        }
    }

    private final byte[] typeAndSource;
    private final JsonBuffer head = new JsonBuffer(512);
    private final MessageDigest md5;

    public EnvelopeWriter(String source) {
        this.typeAndSource = new JsonBuffer(64 + source.length()).ascii("\",\"type\":").string(Envelope.CDC_TRANSACTION_TYPE)
                .ascii(",\"source\":").string(source).ascii(",\"time\":\"").toByteArray();
        try {
            this.md5 = MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is missing from this JVM", e);
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** The envelope {@code id} of a message: the name-based (version 3) UUID of its {@code Nats-Msg-Id}, as {@link UUID#nameUUIDFromBytes}. */
    public String id(String messageId) {
        long[] uuid = nameUuid(messageId);
        return new UUID(uuid[0], uuid[1]).toString();
    }

    private long[] nameUuid(String messageId) {
        byte[] hash = md5.digest(messageId.getBytes(StandardCharsets.UTF_8));
        hash[6] = (byte) (hash[6] & 0x0f | 0x30);
        hash[8] = (byte) (hash[8] & 0x3f | 0x80);
        long msb = 0;
        long lsb = 0;
        for (int i = 0; i < 8; i++) {
            msb = msb << 8 | (hash[i] & 0xff);
            lsb = lsb << 8 | (hash[8 + i] & 0xff);
        }
        return new long[] {msb, lsb};
    }

    /**
     * The envelope of {@code changes} (at least one, each a complete JSON object); its {@code id} is
     * {@link #id(String) derived} from {@code messageId}, its {@code time} is {@code time}.
     */
    public byte[] write(Metadata m, List<byte[]> changes, String messageId, Instant time) {
        head(m, changes.size(), messageId, time).raw(PAYLOAD_START);
        return body(List.of(changes));
    }

    /**
     * The envelope of {@code changes} in the compact layout: {@code payload.format} "compact", each
     * table's entry ({@code {"ref":N,"schema":…,"table":…,"columns":[…]}}, see {@code tables}) and
     * each transaction's ({@link #transactionEntry}) once, before the changes that name them by
     * {@code ref} and {@code txId} instead of repeating them.
     */
    public byte[] writeCompact(Metadata m, List<byte[]> tables, List<byte[]> transactions, List<byte[]> changes, String messageId,
                               Instant time) {
        head(m, changes.size(), messageId, time).raw(COMPACT_START);
        return body(List.of(tables, transactions, changes));
    }

    /** A transaction's entry of the compact layout: <code>{"txId":N,"commitLsn":"…","commitTime":"…"}</code>. */
    public static byte[] transactionEntry(long txId, Lsn commitLsn, Instant commitTime) {
        return new JsonBuffer(96).ascii("{\"txId\":").number(txId).ascii(",\"commitLsn\":\"").lsn(commitLsn.value())
                .ascii("\",\"commitTime\":\"").instant(commitTime).ascii("\"}").toByteArray();
    }

    /** Writes the envelope up to its payload into {@link #head}. */
    private JsonBuffer head(Metadata m, int changeCount, String messageId, Instant time) {
        if (changeCount == 0) {
            throw new IllegalArgumentException("an envelope needs at least one change");
        }
        long[] uuid = nameUuid(messageId);
        JsonBuffer h = head;
        h.reset();
        h.raw(ID).uuid(uuid[0], uuid[1]).raw(typeAndSource).instant(time).raw(METADATA).number(m.txId())
                .raw(COMMIT_LSN).lsn(m.commitLsn().value()).raw(COMMIT_TIME).instant(m.commitTime())
                .raw(CHUNK).number(m.chunk()).raw(LAST_CHUNK).raw(m.lastChunk() ? TRUE : FALSE)
                .raw(CHANGE_COUNT).number(changeCount).raw(TRANSACTION_COUNT).number(m.transactionCount());
        EnvelopeMetadata.Snapshot snapshot = m.snapshot();
        if (snapshot != null) {
            h.raw(SNAPSHOT_ID).string(snapshot.id()).raw(SNAPSHOT_TABLE).string(snapshot.table()).raw(SNAPSHOT_CHUNK)
                    .number(snapshot.chunk()).raw(LAST_CHUNK).raw(snapshot.lastChunk() ? TRUE : FALSE).raw(SNAPSHOT_END);
        }
        return h;
    }

    /**
     * The body: {@link #head}, then the arrays' elements comma-separated, the arrays separated by
     * what the compact layout puts between tables, transactions and changes, then the end. The body
     * is allocated once at its exact size.
     */
    private byte[] body(List<List<byte[]>> arrays) {
        JsonBuffer h = head;
        long size = (long) h.length() + PAYLOAD_END.length;
        for (int a = 0; a < arrays.size(); a++) {
            List<byte[]> items = arrays.get(a);
            size += Math.max(0, items.size() - 1) + (a == 0 ? 0 : separator(a, arrays.size()).length);
            for (byte[] item : items) {
                size += item.length;
            }
        }
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("an envelope of " + size + " bytes is too large");
        }
        byte[] body = new byte[(int) size];
        System.arraycopy(h.array(), 0, body, 0, h.length());
        int at = h.length();
        for (int a = 0; a < arrays.size(); a++) {
            if (a > 0) {
                byte[] separator = separator(a, arrays.size());
                System.arraycopy(separator, 0, body, at, separator.length);
                at += separator.length;
            }
            List<byte[]> items = arrays.get(a);
            for (int i = 0; i < items.size(); i++) {
                if (i > 0) {
                    body[at++] = ',';
                }
                byte[] item = items.get(i);
                System.arraycopy(item, 0, body, at, item.length);
                at += item.length;
            }
        }
        System.arraycopy(PAYLOAD_END, 0, body, at, PAYLOAD_END.length);
        return body;
    }

    /** What goes before array {@code a} of the compact layout's three (tables, transactions, changes). */
    private static byte[] separator(int a, int arrays) {
        return a == arrays - 1 ? COMPACT_CHANGES : COMPACT_TRANSACTIONS;
    }
}
