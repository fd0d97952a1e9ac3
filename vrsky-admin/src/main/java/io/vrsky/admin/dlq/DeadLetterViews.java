package io.vrsky.admin.dlq;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vrsky.admin.text.TextTable;

import java.io.PrintWriter;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;

import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/** Dead letters for people (tables, headers with their escapes undone, pretty JSON) and for scripts (JSON). */
public final class DeadLetterViews {

    private static final int ERROR_WIDTH = 100;

    private DeadLetterViews() {
    }

    public static void table(List<DeadLetter> letters, PrintWriter out) {
        TextTable t = new TextTable("SEQ", "TIME", "SUBJECT", "CLASS", "SQLSTATE", "TX ID", "COMMIT LSN", "ERROR");
        for (DeadLetter d : letters) {
            t.row(d.seq(), d.time() == null ? null : d.time().truncatedTo(ChronoUnit.SECONDS), d.subject(), d.errorClass(), d.sqlState(),
                    d.txId(), d.commitLsn(), HeaderText.firstLine(d.error(), ERROR_WIDTH));
        }
        t.print(out, "");
    }

    public static String listJson(DeadLetterStore.Listing listing) {
        ObjectNode root = BodyShape.JSON.createObjectNode();
        root.put("stream", DeadLetterStore.STREAM);
        root.put("subject", listing.filter());
        root.put("total", listing.total());
        ArrayNode letters = root.putArray("deadLetters");
        listing.letters().forEach(d -> summary(letters.addObject(), d));
        return pretty(root);
    }

    public static void show(DeadLetter d, PrintWriter out) {
        out.println("dead letter " + d.seq() + " in " + DeadLetterStore.STREAM);
        out.println("subject: " + d.subject());
        out.println("time:    " + d.time());
        out.println("headers:");
        d.headers().forEach((name, values) -> values.forEach(v -> out.println("  " + name + ": " + HeaderText.unescape(v))));
        BodyShape shape = BodyShape.of(d.body());
        if (d.body().length == 0) {
            out.println("body: empty" + (d.bodyOmitted() != null ? " (left out: " + d.bodyOmitted() + ")" : ""));
        } else if (shape.json() != null) {
            out.println("body (" + d.body().length + " bytes, " + (shape.envelope() ? "an envelope of " + shape.changes()
                    + (shape.changes() == 1 ? " change" : " changes") + (shape.multiPart() ? ", part " + shape.chunk()
                    + (shape.last() ? ", the last" : "") : "") : "JSON") + "):");
            out.println(pretty(shape.json()));
        } else if (utf8(d.body()) != null) {
            out.println("body (" + d.body().length + " bytes, text, not JSON):");
            out.println(utf8(d.body()));
        } else {
            out.println("body (" + d.body().length + " bytes, binary, hex):");
            String hex = HexFormat.of().formatHex(d.body());
            for (int i = 0; i < hex.length(); i += 64) {
                out.println("  " + hex.substring(i, Math.min(hex.length(), i + 64)));
            }
        }
    }

    /** The body alone: pretty JSON when it is JSON (to edit and replay with --edit), else the bytes as text. */
    public static String body(DeadLetter d) {
        BodyShape shape = BodyShape.of(d.body());
        return shape.json() != null ? pretty(shape.json()) : new String(d.body(), StandardCharsets.UTF_8);
    }

    public static String showJson(DeadLetter d) {
        ObjectNode root = BodyShape.JSON.createObjectNode();
        summary(root, d);
        ObjectNode headers = root.putObject("headers");
        for (Map.Entry<String, List<String>> e : d.headers().entrySet()) {
            ArrayNode values = headers.putArray(e.getKey());
            e.getValue().forEach(values::add);
        }
        BodyShape shape = BodyShape.of(d.body());
        root.put("bodyBytes", d.body().length);
        root.set("body", shape.json());
        root.put("bodyBase64", shape.json() == null && d.body().length > 0 ? Base64.getEncoder().encodeToString(d.body()) : null);
        return pretty(root);
    }

    private static void summary(ObjectNode n, DeadLetter d) {
        n.put("sequence", d.seq());
        n.put("time", d.time() == null ? null : d.time().toString());
        n.put("subject", d.subject());
        n.put("errorClass", d.errorClass());
        n.put("sqlState", d.sqlState());
        n.put("txId", d.txId());
        n.put("commitLsn", d.commitLsn());
        n.put("error", d.error());
        n.put("sourceSubject", d.sourceSubject());
        n.put("sourceSequence", d.sourceSequence());
        n.put("msgId", d.msgId());
    }

    private static String pretty(Object node) {
        try {
            return BodyShape.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
    }

    private static String utf8(byte[] bytes) {
        try {
            String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
            return text.chars().anyMatch(c -> c < 0x20 && c != '\n' && c != '\r' && c != '\t') ? null : text;
        } catch (CharacterCodingException e) {
            return null;
        }
    }

}
