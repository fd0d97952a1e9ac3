package io.vrsky.consumer.publish;

import io.vrsky.consumer.json.JsonBuffer;
import io.vrsky.consumer.tx.OutgoingMessage;
import io.vrsky.core.model.Envelope;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * Writes the JSON envelope of DESIGN.md around changes that are already encoded, copying their
 * bytes instead of re-encoding them: the envelope's own fields are written into a reused buffer,
 * then the body is allocated once at its exact size and the changes copied in. The layout matches
 * envelope-core's EnvelopeCodec, which reads it back.
 *
 * <p>Used by the replication thread only; not thread-safe.
 */
public final class EnvelopeWriter {

    private static final byte[] PAYLOAD_START = ",\"payload\":{\"changes\":[".getBytes(StandardCharsets.UTF_8);
    private static final byte[] PAYLOAD_END = "]}}".getBytes(StandardCharsets.UTF_8);

    private final byte[] typeAndSource;
    private final JsonBuffer head = new JsonBuffer(512);
    private final MessageDigest md5;

    public EnvelopeWriter(String source) {
        this.typeAndSource = new JsonBuffer(64 + source.length()).ascii(",\"type\":").string(Envelope.CDC_TRANSACTION_TYPE)
                .ascii(",\"source\":").string(source).ascii(",\"time\":\"").toByteArray();
        try {
            this.md5 = MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is missing from this JVM", e);
        }
    }

    /** The envelope {@code id} of a message: the name-based (version 3) UUID of its {@code Nats-Msg-Id}, as {@link UUID#nameUUIDFromBytes}. */
    public String id(String messageId) {
        byte[] hash = md5.digest(messageId.getBytes(StandardCharsets.UTF_8));
        hash[6] = (byte) (hash[6] & 0x0f | 0x30);
        hash[8] = (byte) (hash[8] & 0x3f | 0x80);
        long msb = 0;
        long lsb = 0;
        for (int i = 0; i < 8; i++) {
            msb = msb << 8 | (hash[i] & 0xff);
            lsb = lsb << 8 | (hash[8 + i] & 0xff);
        }
        return new UUID(msb, lsb).toString();
    }

    public byte[] write(OutgoingMessage m, String id, Instant time) {
        JsonBuffer h = head;
        h.reset();
        h.ascii("{\"id\":").string(id).raw(typeAndSource).instant(time).ascii("\",\"metadata\":{\"txId\":").number(m.lastTx().txId())
                .ascii(",\"commitLsn\":\"").lsn(m.lastTx().commitLsn().value()).ascii("\",\"commitTime\":\"").instant(m.lastTx().commitTime())
                .ascii("\",\"chunk\":").number(m.chunk()).ascii(",\"lastChunk\":").bool(m.lastChunk())
                .ascii(",\"changeCount\":").number(m.changes().size()).ascii(",\"transactionCount\":").number(m.transactionCount())
                .raw((byte) '}').raw(PAYLOAD_START);
        List<byte[]> changes = m.changes();
        long size = (long) h.length() + PAYLOAD_END.length + changes.size() - 1;
        for (byte[] change : changes) {
            size += change.length;
        }
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("an envelope of " + size + " bytes is too large");
        }
        byte[] body = new byte[(int) size];
        System.arraycopy(h.array(), 0, body, 0, h.length());
        int at = h.length();
        for (int i = 0; i < changes.size(); i++) {
            if (i > 0) {
                body[at++] = ',';
            }
            byte[] change = changes.get(i);
            System.arraycopy(change, 0, body, at, change.length);
            at += change.length;
        }
        System.arraycopy(PAYLOAD_END, 0, body, at, PAYLOAD_END.length);
        return body;
    }
}
