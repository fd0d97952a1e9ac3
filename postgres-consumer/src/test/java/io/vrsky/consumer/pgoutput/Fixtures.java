package io.vrsky.consumer.pgoutput;

import io.vrsky.core.model.Lsn;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** Reads the captured pgoutput fixtures: one {@code <lsn> <hex>} line per message. */
public final class Fixtures {

    /** One captured message. */
    public record Captured(Lsn lsn, byte[] bytes) {
        public ByteBuffer buffer() {
            return ByteBuffer.wrap(bytes);
        }
    }

    private Fixtures() {
    }

    public static List<Captured> load(String name) {
        try (InputStream in = Fixtures.class.getResourceAsStream("/pgoutput/" + name + ".hex")) {
            if (in == null) {
                throw new IllegalArgumentException("no fixture " + name);
            }
            List<Captured> messages = new ArrayList<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank()) {
                    continue;
                }
                String[] parts = line.trim().split(" ");
                messages.add(new Captured(Lsn.parse(parts[0]), HexFormat.of().parseHex(parts[1])));
            }
            return messages;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static List<PgOutputMessage> decodeAll(String name) {
        PgOutputDecoder decoder = new PgOutputDecoder();
        return load(name).stream().map(c -> decoder.decode(c.buffer())).toList();
    }
}
