package io.vrsky.consumer.publish;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.vrsky.consumer.tx.OutgoingMessage;
import io.vrsky.core.model.Envelope;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * Writes the JSON envelope of DESIGN.md around changes that are already encoded, copying their
 * bytes instead of re-encoding them. The layout matches envelope-core's EnvelopeCodec, which
 * reads it back. Thread-safe.
 */
public final class EnvelopeWriter {

    private static final byte[] PAYLOAD_START = ",\"payload\":{\"changes\":[".getBytes(StandardCharsets.UTF_8);
    private static final byte[] PAYLOAD_END = "]}}".getBytes(StandardCharsets.UTF_8);

    private final JsonFactory json = new JsonFactory()
            .disable(JsonGenerator.Feature.AUTO_CLOSE_JSON_CONTENT)
            .disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
    private final String source;

    public EnvelopeWriter(String source) {
        this.source = source;
    }

    public byte[] write(OutgoingMessage m, String id, Instant time) {
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 16, m.bytes() + m.changes().size() + 640));
        try {
            JsonGenerator g = json.createGenerator(out);
            g.writeStartObject();
            g.writeStringField("id", id);
            g.writeStringField("type", Envelope.CDC_TRANSACTION_TYPE);
            g.writeStringField("source", source);
            g.writeStringField("time", time.toString());
            g.writeObjectFieldStart("metadata");
            g.writeNumberField("txId", m.lastTx().txId());
            g.writeStringField("commitLsn", m.lastTx().commitLsn().toString());
            g.writeStringField("commitTime", m.lastTx().commitTime().toString());
            g.writeNumberField("chunk", m.chunk());
            g.writeBooleanField("lastChunk", m.lastChunk());
            g.writeNumberField("changeCount", m.changes().size());
            g.writeNumberField("transactionCount", m.transactionCount());
            g.writeEndObject();
            g.flush();
            g.close();
            out.write(PAYLOAD_START);
            boolean first = true;
            for (byte[] change : m.changes()) {
                if (!first) {
                    out.write(',');
                }
                out.write(change);
                first = false;
            }
            out.write(PAYLOAD_END);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
