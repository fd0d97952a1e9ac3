package io.vrsky.core.codec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.ColumnInfo;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.EnvelopeMetadata;
import io.vrsky.core.model.ErrorReport;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.Operation;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EnvelopeCodecTest {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private final EnvelopeCodec codec = new EnvelopeCodec();

    private static Envelope envelopeWith(Map<String, JsonNode> after, List<String> toast) {
        Instant commit = Instant.parse("2026-02-17T10:00:00.120001Z");
        Change change = new Change(Operation.INSERT, "public", "orders", 7412L, Lsn.parse("0/16B3748"), commit,
                Lsn.parse("0/16B3700"), List.of(new ColumnInfo("id", "int8", true)), null, after, toast);
        return new Envelope("0b6c-uuid", Envelope.CDC_TRANSACTION_TYPE, "postgres-consumer/shop/slot",
                Instant.parse("2026-02-17T10:00:00.123456Z"),
                new EnvelopeMetadata(7412L, Lsn.parse("0/16B3748"), commit, 0, true, 1, 1), List.of(change));
    }

    private Map<String, JsonNode> roundTrip(Map<String, JsonNode> after) {
        Envelope decoded = codec.decode(codec.encode(envelopeWith(after, List.of())));
        return decoded.changes().get(0).after();
    }

    @Test
    void shouldRoundTripPlaceholdersAndAnErrorReport() {
        Instant commit = Instant.parse("2026-02-17T10:00:00.120001Z");
        Map<String, JsonNode> key = Map.of("id", NODES.numberNode(7));
        Change oversized = new Change(Operation.INSERT, "public", "docs", 9L, Lsn.parse("0/20"), commit, Lsn.parse("0/18"),
                List.of(new ColumnInfo("id", "int8", true)), key, null, List.of(), new Change.Oversized(5_000_000, 1_048_576), null);
        Change undecodable = new Change(Operation.UPDATE, "public", "docs", 9L, Lsn.parse("0/20"), commit, Lsn.parse("0/19"),
                List.of(), key, null, List.of(), null, new Change.Undecodable("invalid input for numeric"));
        ErrorReport error = new ErrorReport("sql", "new row violates check constraint \"c\"", "23514", "c", "public", "docs", null);
        Envelope original = new Envelope("dl-1", Envelope.CDC_TRANSACTION_TYPE, "postgres-consumer/shop/slot", commit,
                new EnvelopeMetadata(9L, Lsn.parse("0/20"), commit, 0, true, 2, 1, error), List.of(oversized, undecodable));
        byte[] bytes = codec.encode(original);
        assertThat(codec.decode(bytes)).isEqualTo(original);
        assertThat(codec.newReader().decode(bytes)).isEqualTo(original);
        String json = new String(bytes, StandardCharsets.UTF_8);
        assertThat(json).contains("\"oversized\":{\"bytes\":5000000,\"limit\":1048576}", "\"undecodable\":{\"error\":",
                "\"error\":{\"class\":\"sql\",", "\"constraint\":\"c\"").doesNotContain("\"column\"");
        assertThat(oversized.isPlaceholder()).isTrue();
    }

    @Test
    void shouldRoundTripTheOptionalColumnFieldsAndWriteOnlyTheKnownOnes() {
        Instant commit = Instant.parse("2026-02-17T10:00:00.120001Z");
        List<ColumnInfo> columns = List.of(new ColumnInfo("id", "int8", true, 1, null, "bigint", true, null, null),
                new ColumnInfo("name", "varchar", false, 3, 54, "character varying(50)", false, "'n/a'::character varying",
                        NODES.textNode("n/a")),
                new ColumnInfo("tags", "int4[]", false, 4, null, "integer[]", false, null, NODES.arrayNode().add(1).add(2)));
        Change change = new Change(Operation.INSERT, "public", "orders", 7L, Lsn.parse("0/20"), commit, Lsn.parse("0/18"), columns,
                null, Map.of("id", NODES.numberNode(1)), List.of());
        Envelope original = new Envelope("x", Envelope.CDC_TRANSACTION_TYPE, "s", commit,
                new EnvelopeMetadata(7L, Lsn.parse("0/20"), commit, 0, true, 1, 1), List.of(change));

        byte[] bytes = codec.encode(original);

        assertThat(new String(bytes, StandardCharsets.UTF_8)).contains(
                "{\"name\":\"id\",\"type\":\"int8\",\"key\":true,\"attnum\":1,\"sqlType\":\"bigint\",\"notNull\":true}",
                "{\"name\":\"name\",\"type\":\"varchar\",\"key\":false,\"attnum\":3,\"typmod\":54,"
                        + "\"sqlType\":\"character varying(50)\",\"default\":\"'n/a'::character varying\",\"existingRowsValue\":\"n/a\"}",
                "\"existingRowsValue\":[1,2]}");
        assertThat(codec.decode(bytes)).isEqualTo(original);
        assertThat(codec.newReader().decode(bytes)).isEqualTo(original);
        // a column described by name, type and key only has none of them
        assertThat(new String(codec.encode(envelopeWith(Map.of("id", NODES.numberNode(1)), List.of())), StandardCharsets.UTF_8))
                .contains("{\"name\":\"id\",\"type\":\"int8\",\"key\":true}");
    }

    @Test
    void shouldWriteNoPlaceholderOrErrorFieldsForAnOrdinaryEnvelope() {
        String json = new String(codec.encode(envelopeWith(Map.of("id", NODES.numberNode(1)), List.of())), StandardCharsets.UTF_8);
        assertThat(json).doesNotContain("oversized", "undecodable", "\"error\"");
    }

    @Test
    void shouldRoundTripTheWholeEnvelope() {
        Map<String, JsonNode> after = new LinkedHashMap<>();
        after.put("id", NODES.numberNode(1));
        after.put("note", NODES.textNode("new"));
        Envelope original = envelopeWith(after, List.of("big"));
        assertThat(codec.decode(codec.encode(original))).isEqualTo(original);
    }

    @Test
    void shouldKeepNumericAsExactString() {
        String digits = "12345678901234567890.000000000000000000001";
        assertThat(roundTrip(Map.of("amount", NODES.textNode(digits))).get("amount").textValue()).isEqualTo(digits);
    }

    @Test
    void shouldKeepBigIntegersExact() {
        assertThat(roundTrip(Map.of("n", NODES.numberNode(Long.MAX_VALUE))).get("n").longValue()).isEqualTo(Long.MAX_VALUE);
        assertThat(roundTrip(Map.of("n", NODES.numberNode(Long.MIN_VALUE))).get("n").longValue()).isEqualTo(Long.MIN_VALUE);
    }

    @Test
    void shouldCarryFloatSpecialValuesAsStrings() {
        Map<String, JsonNode> after = new LinkedHashMap<>();
        after.put("a", NODES.textNode("NaN"));
        after.put("b", NODES.textNode("Infinity"));
        after.put("c", NODES.textNode("-Infinity"));
        after.put("d", NODES.numberNode(1.5e300));
        Map<String, JsonNode> back = roundTrip(after);
        assertThat(back.get("a").textValue()).isEqualTo("NaN");
        assertThat(back.get("b").textValue()).isEqualTo("Infinity");
        assertThat(back.get("c").textValue()).isEqualTo("-Infinity");
        assertThat(back.get("d").doubleValue()).isEqualTo(1.5e300);
        String json = new String(codec.encode(envelopeWith(after, List.of())), StandardCharsets.UTF_8);
        assertThat(json).contains("\"a\":\"NaN\"").contains("\"b\":\"Infinity\"");
    }

    @Test
    void shouldCarryByteaAsBase64() {
        byte[] bytes = {0, 1, (byte) 0xFF, 0x7F, 10, 13};
        String b64 = Base64.getEncoder().encodeToString(bytes);
        JsonNode back = roundTrip(Map.of("blob", NODES.textNode(b64))).get("blob");
        assertThat(Base64.getDecoder().decode(back.textValue())).isEqualTo(bytes);
    }

    @Test
    void shouldCarryArraysIncludingNullsAndNesting() {
        var arr = NODES.arrayNode().add(1).addNull().add(3);
        var nested = NODES.arrayNode().add(NODES.arrayNode().add("a").add("b")).add(NODES.arrayNode().add("c").add("d"));
        Map<String, JsonNode> after = new LinkedHashMap<>();
        after.put("ints", arr);
        after.put("texts", nested);
        assertThat(roundTrip(after)).isEqualTo(after);
    }

    @Test
    void shouldEmbedJsonAndJsonbAsJson() {
        var doc = NODES.objectNode().put("k", "v").set("list", NODES.arrayNode().add(true).add(2.5));
        JsonNode back = roundTrip(Map.of("doc", doc)).get("doc");
        assertThat(back.isObject()).isTrue();
        assertThat(back.toString()).isEqualTo("{\"k\":\"v\",\"list\":[true,2.5]}");
    }

    @Test
    void shouldKeepTimestampsWithMicrosecondsAndZones() {
        Map<String, JsonNode> after = new LinkedHashMap<>();
        after.put("tstz", NODES.textNode("2026-02-17T10:00:00.123456Z"));
        after.put("ts", NODES.textNode("2026-02-17T10:00:00.000001"));
        after.put("timetz", NODES.textNode("10:00:00.5+02:00"));
        after.put("date", NODES.textNode("2026-02-17"));
        assertThat(roundTrip(after)).isEqualTo(after);
    }

    @Test
    void shouldKeepNullValuesDistinctFromAbsentColumns() {
        Map<String, JsonNode> after = new LinkedHashMap<>();
        after.put("id", NODES.numberNode(1));
        after.put("note", NODES.nullNode());
        Map<String, JsonNode> back = roundTrip(after);
        assertThat(back).containsKey("note");
        assertThat(back.get("note").isNull()).isTrue();
        assertThat(back).doesNotContainKey("missing");
    }

    @Test
    void shouldCarryUnchangedToastColumns() {
        Envelope e = envelopeWith(Map.of("id", NODES.numberNode(1)), List.of("big_text", "big_json"));
        assertThat(codec.decode(codec.encode(e)).changes().get(0).unchangedToast()).containsExactly("big_text", "big_json");
    }

    @Test
    void shouldKeepNumbersInsideJsonDigitForDigit() {
        String json = "{\"payload\":{\"changes\":[{\"op\":\"INSERT\",\"table\":\"t\",\"after\":{\"doc\":"
                + "{\"big\":12345678901234567890.123456789,\"price\":2.50,\"n\":123456789012345678901234567890}}}]}}";
        JsonNode doc = codec.decode(json.getBytes(StandardCharsets.UTF_8)).changes().get(0).after().get("doc");
        assertThat(doc.get("big").decimalValue()).isEqualByComparingTo("12345678901234567890.123456789");
        assertThat(doc.get("price").toString()).isEqualTo("2.50");
        assertThat(doc.get("n").toString()).isEqualTo("123456789012345678901234567890");
        String reencoded = new String(codec.encode(codec.decode(json.getBytes(StandardCharsets.UTF_8))), StandardCharsets.UTF_8);
        assertThat(reencoded).contains("\"big\":12345678901234567890.123456789", "\"price\":2.50");
    }

    @Test
    void shouldKeepBooleansAndUnicodeText() {
        Map<String, JsonNode> after = new LinkedHashMap<>();
        after.put("flag", NODES.booleanNode(true));
        after.put("name", NODES.textNode("Zoë \"quoted\" \\ 日本 \u0000"));
        assertThat(roundTrip(after)).isEqualTo(after);
    }

    @Test
    void shouldWriteTheWireFieldNamesOfTheDesign() {
        String json = new String(codec.encode(envelopeWith(Map.of("id", NODES.numberNode(1)), List.of())), StandardCharsets.UTF_8);
        assertThat(json).contains("\"type\":\"vrsky.cdc.transaction\"", "\"metadata\":{\"txId\":7412,\"commitLsn\":\"0/16B3748\"",
                "\"payload\":{\"changes\":[{\"op\":\"INSERT\"", "\"before\":null", "\"lastChunk\":true", "\"transactionCount\":1");
    }

    @Test
    void shouldReadTheMinimalFormOtherComponentsPublish() {
        String json = "{\"payload\":{\"changes\":[{\"op\":\"insert\",\"table\":\"orders\",\"after\":{\"id\":5}},"
                + "{\"op\":\"DELETE\",\"table\":\"orders\",\"key\":{\"id\":4}}]}}";
        Envelope e = codec.decode(json.getBytes(StandardCharsets.UTF_8));
        assertThat(e.changes()).hasSize(2);
        assertThat(e.changes().get(0).op()).isEqualTo(Operation.INSERT);
        assertThat(e.changes().get(0).tableId().schema()).isEqualTo("public");
        assertThat(e.changes().get(1).before()).containsEntry("id", NODES.numberNode(4));
        assertThat(e.metadata().lastChunk()).isTrue();
        assertThat(e.metadata().changeCount()).isEqualTo(2);
    }

    @Test
    void shouldReadASingleChangePayload() {
        String json = "{\"payload\":{\"op\":\"UPDATE\",\"schema\":\"s\",\"table\":\"t\",\"after\":{\"id\":1}}}";
        Envelope e = codec.decode(json.getBytes(StandardCharsets.UTF_8));
        assertThat(e.changes()).singleElement().satisfies(c -> assertThat(c.tableId().toString()).isEqualTo("s.t"));
    }

    @Test
    void shouldRejectInvalidJsonWithAReason() {
        assertThatThrownBy(() -> codec.decode("{not json".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(EnvelopeFormatException.class).hasMessageStartingWith("not valid JSON");
    }

    @Test
    void shouldRejectAMissingPayload() {
        assertThatThrownBy(() -> codec.decode("{\"id\":\"x\"}".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(EnvelopeFormatException.class).hasMessageContaining("payload");
    }

    @Test
    void shouldRejectAnUnknownOperationNamingTheField() {
        String json = "{\"payload\":{\"changes\":[{\"op\":\"MERGE\",\"table\":\"t\"}]}}";
        assertThatThrownBy(() -> codec.decode(json.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(EnvelopeFormatException.class).hasMessageContaining("payload.changes[0].op").hasMessageContaining("MERGE");
    }

    @Test
    void shouldRejectAMalformedLsn() {
        String json = "{\"payload\":{\"changes\":[{\"op\":\"INSERT\",\"table\":\"t\",\"commitLsn\":\"nope\"}]}}";
        assertThatThrownBy(() -> codec.decode(json.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(EnvelopeFormatException.class).hasMessageContaining("commitLsn");
    }

    @Test
    void shouldRejectARowThatIsNotAnObject() {
        String json = "{\"payload\":{\"changes\":[{\"op\":\"INSERT\",\"table\":\"t\",\"after\":[1,2]}]}}";
        assertThatThrownBy(() -> codec.decode(json.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(EnvelopeFormatException.class).hasMessageContaining("after");
    }
}
