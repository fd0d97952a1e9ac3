package io.vrsky.consumer.pgoutput;

import io.vrsky.consumer.json.JsonBuffer;

final class GoldenValues {
    static String render(PgType type, String text) {
        try {
            JsonBuffer out = new JsonBuffer(16);
            new ValueDecoder().write(out, type, text);
            return out.toString();
        } catch (Exception e) {
            return "ERROR " + e.getClass().getSimpleName();
        }
    }
}
