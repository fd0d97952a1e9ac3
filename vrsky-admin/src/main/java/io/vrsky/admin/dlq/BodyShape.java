package io.vrsky.admin.dlq;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;

import java.io.IOException;

/**
 * What a dead letter's body is: an envelope (a JSON object with {@code payload.changes}) and then
 * which part of its transaction ({@code metadata.chunk}, {@code metadata.lastChunk}), or something
 * else (a consumer's raw pgoutput bytes, a body that never was an envelope). Read as a JSON tree,
 * so every field the body holds survives untouched.
 *
 * @param json the parsed body, or null when it is not JSON
 */
public record BodyShape(boolean envelope, int chunk, boolean last, int changes, JsonNode json) {

    /** Keeps every digit of numbers (json documents, numeric) when pretty-printing. */
    static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false);

    public static BodyShape of(byte[] body) {
        JsonNode root;
        try {
            root = body.length == 0 ? null : JSON.readTree(body);
        } catch (IOException e) {
            root = null;
        }
        if (root == null || !root.isObject() || !root.path("payload").path("changes").isArray()) {
            return new BodyShape(false, 0, true, 0, root);
        }
        JsonNode m = root.path("metadata");
        int chunk = m.path("chunk").asInt(0);
        boolean last = !m.has("lastChunk") || m.path("lastChunk").asBoolean(true);
        return new BodyShape(true, chunk, last, root.path("payload").path("changes").size(), root);
    }

    /** One part of a transaction dead-lettered in several messages. */
    public boolean multiPart() {
        return envelope && !(chunk == 0 && last);
    }
}
