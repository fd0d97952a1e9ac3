package io.vrsky.core.codec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.ColumnInfo;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.EnvelopeMetadata;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.Operation;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The streaming reader returns exactly what {@link EnvelopeCodec#decode(byte[])} returns (or fails
 * with the same message), for envelopes of every shape and for arbitrarily damaged ones. One reader
 * serves every try, so the values it shares between messages are exercised too.
 */
class EnvelopeReaderTest {

    private static final EnvelopeCodec CODEC = new EnvelopeCodec();
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private final EnvelopeReader reader = new EnvelopeReader(CODEC);

    @Property(tries = 300)
    void readsWhatTheCodecReads(@ForAll("envelopes") Envelope envelope) {
        byte[] bytes = CODEC.encode(envelope);
        long handedOver = reader.handedOver();
        assertSameOutcome(bytes);
        assertThat(reader.handedOver()).as("read without the codec").isEqualTo(handedOver);
    }

    @Property(tries = 600)
    void agreesWithTheCodecOnDamagedEnvelopes(@ForAll("envelopes") Envelope envelope, @ForAll long seed) throws Exception {
        assertSameOutcomeWhenDamaged(CODEC.encode(envelope), seed);
    }

    /** Damages the envelope at random (1 to 3 mutations, sometimes a field twice): reader and codec still agree. */
    private void assertSameOutcomeWhenDamaged(byte[] envelope, long seed) throws Exception {
        Random random = new Random(seed);
        JsonNode root = CODEC.mapper().readTree(envelope);
        int mutations = 1 + random.nextInt(3);
        for (int i = 0; i < mutations; i++) {
            mutate(root, random);
        }
        String json = CODEC.mapper().writeValueAsString(root);
        if (random.nextInt(4) == 0) {
            json = duplicateAField(json, random);
        }
        assertSameOutcome(json.getBytes(StandardCharsets.UTF_8));
    }

    @Property(tries = 300)
    void readsTheCompactLayoutAsTheStandardOne(@ForAll("envelopes") Envelope envelope) {
        byte[] compact = CODEC.encodeCompact(envelope);
        assertThat(CODEC.decode(compact)).isEqualTo(CODEC.decode(CODEC.encode(envelope)));
        long handedOver = reader.handedOver();
        assertSameOutcome(compact);
        assertThat(reader.handedOver()).as("read without the codec").isEqualTo(handedOver);
    }

    @Property(tries = 400)
    void agreesWithTheCodecOnDamagedCompactEnvelopes(@ForAll("envelopes") Envelope envelope, @ForAll long seed) throws Exception {
        assertSameOutcomeWhenDamaged(CODEC.encodeCompact(envelope), seed);
    }

    @Test
    void readsOtherForms() {
        for (String json : List.of(
                // another component's minimal envelope, a key instead of a before-image
                "{\"payload\":{\"changes\":[{\"op\":\"DELETE\",\"table\":\"t\",\"key\":{\"id\":1}}]}}",
                "{\"payload\":{\"changes\":[{\"op\":\"delete\",\"table\":\"t\",\"before\":null,\"key\":{\"id\":1}}]}}",
                "{\"payload\":{\"op\":\"INSERT\",\"table\":\"t\",\"after\":{\"id\":1}}}",
                "{\"payload\":{\"changes\":[]},\"metadata\":null,\"extra\":[1,{\"a\":2}]}",
                // fields in another order, unknown fields, nested values, numbers of every size
                "{\"metadata\":{\"lastChunk\":false,\"chunk\":2,\"x\":{}},\"payload\":{\"x\":1,\"changes\":[{\"after\":{\"a\":1.5,"
                        + "\"b\":12345678901,\"c\":123456789012345678901234567890,\"d\":[1,[2]],\"e\":{\"f\":null},\"g\":-0.0,"
                        + "\"h\":1e400,\"i\":true,\"a\":2},\"table\":\"t\",\"op\":\"UPDATE\",\"unknown\":[{}]}]},\"source\":\"s\"}",
                // instants and LSNs the fast paths leave to the JDK
                "{\"time\":\"2026-02-17t10:00:00z\",\"payload\":{\"changes\":[{\"op\":\"INSERT\",\"table\":\"t\","
                        + "\"commitTime\":\"2016-12-31T23:59:60Z\",\"commitLsn\":\"+1/2\",\"lsn\":\"000000001/0\"}]}}",
                "{\"time\":\"2026-02-17T10:00:00+01:00\",\"payload\":{\"changes\":[]}}",
                "{\"time\":\"2026-02-17T10:00:00.Z\",\"payload\":{\"changes\":[]}}",
                "{\"time\":\"2026-02-17T10:00:00.1234567891Z\",\"payload\":{\"changes\":[]}}",
                "{\"time\":\"2026-02-30T10:00:00Z\",\"payload\":{\"changes\":[]}}",
                "{\"time\":\"2024-02-29T24:00:00Z\",\"payload\":{\"changes\":[]}}",
                "{\"time\":\"+12026-02-17T10:00:00Z\",\"payload\":{\"changes\":[]}}",
                // placeholders and a dead letter's error report (the codec reads them)
                "{\"payload\":{\"changes\":[{\"op\":\"INSERT\",\"table\":\"t\",\"key\":{\"id\":1},"
                        + "\"oversized\":{\"bytes\":5,\"limit\":4}}]}}",
                "{\"payload\":{\"changes\":[{\"op\":\"INSERT\",\"table\":\"t\",\"undecodable\":{\"error\":\"x\"}}]}}",
                "{\"metadata\":{\"error\":{\"class\":\"sql\",\"message\":\"m\",\"table\":\"t\"}},\"payload\":{\"changes\":[]}}",
                "{\"metadata\":{\"error\":{\"message\":\"m\"}},\"payload\":{\"changes\":[]}}",
                "{\"payload\":{\"changes\":[{\"op\":\"INSERT\",\"table\":\"t\",\"oversized\":1}]}}",
                // optional column fields of unexpected types are left out; unknown ones are ignored
                "{\"payload\":{\"changes\":[{\"op\":\"INSERT\",\"table\":\"t\",\"columns\":[{\"name\":\"a\",\"attnum\":\"2\","
                        + "\"typmod\":1.5,\"sqlType\":7,\"notNull\":\"yes\",\"default\":{},\"existingRowsValue\":null,\"future\":[1]},"
                        + "{\"name\":\"b\",\"attnum\":12345678901,\"typmod\":-1,\"existingRowsValue\":{\"x\":[1.50]}}]}]}}",
                // broken ones: the codec's message
                "", "[]", "{", "{\"payload\":{}}", "{\"payload\":{\"changes\":null}}", "{\"id\":1,\"payload\":{\"changes\":[]}}",
                "{\"id\":\"a\",\"id\":\"b\",\"payload\":{\"changes\":[]}}",
                "{\"payload\":{\"changes\":[{\"op\":\"MERGE\",\"table\":\"t\"}]}}",
                "{\"payload\":{\"changes\":[{\"op\":\"INSERT\",\"table\":\"\"}]}}",
                "{\"payload\":{\"changes\":[{\"op\":\"INSERT\",\"table\":\"t\",\"lsn\":\"1/100000000\"}]}}",
                "{\"payload\":{\"changes\":[{\"op\":\"INSERT\",\"table\":\"t\",\"columns\":[{\"type\":\"int4\"}]}]}}",
                "{\"metadata\":{\"chunk\":-1},\"payload\":{\"changes\":[]}}",
                "{\"metadata\":{\"chunk\":1.0,\"changeCount\":\"3\"},\"payload\":{\"changes\":[]}}")) {
            assertSameOutcome(json.getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void sharesRepeatedValuesOnlyWhenEqual() {
        List<ColumnInfo> a = List.of(new ColumnInfo("id", "int8", true), new ColumnInfo("v", "text", false));
        List<ColumnInfo> b = List.of(new ColumnInfo("id", "int8", true), new ColumnInfo("v", "text", true));
        List<ColumnInfo> c = List.of(new ColumnInfo("id", "int8", true), new ColumnInfo("v", null, false));
        List<ColumnInfo> d = List.of(new ColumnInfo("id", "int8", true));
        Instant t1 = Instant.parse("2026-02-17T10:00:00.120001Z");
        Instant t2 = Instant.parse("2026-02-17T10:00:00.120002Z");
        List<Change> changes = List.of(
                change("s", "t", new Lsn(5), t1, a), change("s", "t", new Lsn(5), t1, a), change("s", "u", new Lsn(6), t2, b),
                change(null, "u", new Lsn(6), t2, c), change("s2", "t", new Lsn(7), t1, d), change("s2", "t", new Lsn(7), t1, a),
                change("s2", "t", new Lsn(7), t1, List.of()));
        Envelope envelope = new Envelope("x", "y", "z", t1, new EnvelopeMetadata(1L, new Lsn(7), t1, 0, true, 7, 3), changes);
        byte[] bytes = CODEC.encode(envelope);
        assertThat(reader.decode(bytes)).isEqualTo(envelope);
        assertThat(reader.decode(bytes)).isEqualTo(envelope);
        assertThat(reader.handedOver()).isZero();
    }

    /**
     * The column list and the transaction's fields that repeat byte for byte are stepped over, not
     * read again: a difference of one byte (same length) must still be read.
     */
    @Test
    void readsRepeatedBytesAgainWhenOneByteDiffers() {
        List<ColumnInfo> int4 = List.of(new ColumnInfo("id", "int4", true), new ColumnInfo("v", "text", false));
        List<ColumnInfo> int8 = List.of(new ColumnInfo("id", "int8", true), new ColumnInfo("v", "text", false));
        Instant t1 = Instant.parse("2026-02-17T10:00:00.120001Z");
        Instant t2 = Instant.parse("2026-02-17T10:00:00.120002Z");
        List<Change> changes = List.of(
                change("s", "t", new Lsn(5), t1, int4), change("s", "t", new Lsn(5), t1, int4),
                change("s", "t", new Lsn(5), t2, int8), change("s", "t", new Lsn(6), t2, int8),
                change("s", "t", new Lsn(6), t2, int4), change("s", "t", new Lsn(6), t2, int4));
        Envelope envelope = new Envelope("x", "y", "z", t1, new EnvelopeMetadata(7L, new Lsn(6), t2, 0, true, 6, 1), changes);
        Envelope decoded = reader.decode(CODEC.encode(envelope));
        assertThat(decoded).isEqualTo(envelope);
        assertThat(decoded.changes()).extracting(Change::commitTime).containsExactly(t1, t1, t2, t2, t2, t2);
        assertThat(decoded.changes()).extracting(ch -> ch.columns().get(0).type()).containsExactly("int4", "int4", "int8", "int8", "int4", "int4");
        assertThat(reader.handedOver()).isZero();
    }

    @Test
    void fastInstantEqualsInstantParse() {
        for (String s : List.of("2026-02-17T10:00:00Z", "2026-02-17T10:00:00.1Z", "2026-02-17T10:00:00.123456789Z",
                "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z", "2024-02-29T12:30:45.000001Z", "1969-12-31T23:59:59.5Z")) {
            assertThat(EnvelopeReader.fastInstant(s)).as(s).isEqualTo(Instant.parse(s));
        }
        assertThat(EnvelopeReader.fastInstant("2023-02-29T12:30:45Z")).isNull();
        assertThat(EnvelopeReader.fastLsn("16/B374D848")).isEqualTo(Lsn.parse("16/B374D848"));
        assertThat(EnvelopeReader.fastLsn("ffffffff/ffffffff")).isEqualTo(Lsn.parse("FFFFFFFF/FFFFFFFF"));
        assertThat(EnvelopeReader.fastLsn("1/123456789")).isNull();
    }

    private static Change change(String schema, String table, Lsn lsn, Instant time, List<ColumnInfo> columns) {
        Map<String, JsonNode> after = new LinkedHashMap<>();
        after.put("id", F.numberNode(1));
        return new Change(Operation.INSERT, schema, table, 7L, lsn, time, lsn, columns, null, after, List.of());
    }

    private void assertSameOutcome(byte[] bytes) {
        Object expected;
        try {
            expected = CODEC.decode(bytes);
        } catch (EnvelopeFormatException e) {
            expected = "error: " + e.getMessage();
        }
        Object actual;
        try {
            actual = reader.decode(bytes);
        } catch (EnvelopeFormatException e) {
            actual = "error: " + e.getMessage();
        }
        assertThat(actual).as(new String(bytes, StandardCharsets.UTF_8)).isEqualTo(expected);
    }

    // ---------------------------------------------------------------------------------------- data

    @Provide
    static Arbitrary<Envelope> envelopes() {
        Arbitrary<EnvelopeMetadata> metadata = Combinators.combine(longs(), lsns(), instants(), Arbitraries.integers().between(0, 3),
                Arbitraries.of(true, false), Arbitraries.integers().between(0, 5), Arbitraries.integers().between(1, 3))
                .as(EnvelopeMetadata::new).injectNull(0.2);
        return Combinators.combine(Arbitraries.of("e1", "e2").injectNull(0.2), Arbitraries.of(Envelope.CDC_TRANSACTION_TYPE).injectNull(0.2),
                        Arbitraries.of("postgres-consumer/db/slot", "other").injectNull(0.3), instants(), metadata,
                        changes().list().ofMaxSize(6))
                .as(Envelope::new);
    }

    private static Arbitrary<Change> changes() {
        Arbitrary<List<ColumnInfo>> columns = Arbitraries.of(List.of(), List.of(new ColumnInfo("id", "int8", true)),
                List.of(new ColumnInfo("id", "int8", true), new ColumnInfo("note", "text", false)),
                List.of(new ColumnInfo("id", "int4", true), new ColumnInfo("note", null, false)),
                List.of(new ColumnInfo("id", "int8", false), new ColumnInfo("note", "text", false)),
                List.of(new ColumnInfo("id", "int8", true, 1, null, "bigint", true, null, null),
                        new ColumnInfo("note", "varchar", false, 3, 54, "character varying(50)", false, "'x'::character varying",
                                F.textNode("x"))),
                List.of(new ColumnInfo("id", "int8", true, 1, null, "bigint", true, null, null),
                        new ColumnInfo("note", "numeric", false, 4, 786438, "numeric(12,2)", true, "0", F.textNode("0.00"))),
                List.of(new ColumnInfo("id", "int4", true, 1, null, null, false, "nextval('s'::regclass)", null),
                        new ColumnInfo("note", "int4[]", false, 2, null, "integer[]", false, "'{1,2}'::integer[]",
                                F.arrayNode().add(1).add(2))));
        Arbitrary<Map<String, JsonNode>> row = Combinators.combine(values(), values(), Arbitraries.integers().between(0, 3))
                .as((a, b, n) -> {
                    Map<String, JsonNode> m = new LinkedHashMap<>();
                    if (n > 0) {
                        m.put("id", a);
                    }
                    if (n > 1) {
                        m.put("note", b);
                    }
                    if (n > 2) {
                        m.put("other", a);
                    }
                    return m;
                }).injectNull(0.3);
        Arbitrary<List<String>> toast = Arbitraries.of(List.of(), List.of("note"), List.of("note", "other"));
        return Combinators.combine(Arbitraries.of(Operation.class), Arbitraries.of("public", "s1").injectNull(0.3),
                        Arbitraries.of("orders", "t2"), longs(), lsns(), instants(), lsns(), columns)
                .flatAs((op, schema, table, txId, commitLsn, commitTime, lsn, cols) -> Combinators.combine(row, row, toast)
                        .as((before, after, t) -> new Change(op, schema, table, txId, commitLsn, commitTime, lsn, cols, before, after,
                                t)));
    }

    private static Arbitrary<JsonNode> values() {
        return Arbitraries.oneOf(
                Arbitraries.integers().map(F::numberNode),
                Arbitraries.longs().map(F::numberNode),
                Arbitraries.bigIntegers().between(BigInteger.ONE.shiftLeft(70).negate(), BigInteger.ONE.shiftLeft(70)).map(F::numberNode),
                Arbitraries.doubles().map(F::numberNode),
                Arbitraries.bigDecimals().ofScale(3).map(d -> F.textNode(d.toPlainString())),
                Arbitraries.strings().ofMaxLength(12).map(F::textNode),
                Arbitraries.of(true, false).map(F::booleanNode),
                Arbitraries.just(F.nullNode()),
                Arbitraries.integers().list().ofMaxSize(3).map(l -> {
                    ArrayNode a = F.arrayNode();
                    l.forEach(a::add);
                    return a;
                }),
                Arbitraries.strings().alpha().ofMaxLength(4).map(s -> {
                    ObjectNode o = F.objectNode();
                    o.put("k" + s, new BigDecimal("1.50"));
                    o.putNull("n");
                    return o;
                }));
    }

    private static Arbitrary<Long> longs() {
        return Arbitraries.longs().injectNull(0.2);
    }

    private static Arbitrary<Lsn> lsns() {
        return Arbitraries.longs().between(0, 5).map(Lsn::new).injectNull(0.2);
    }

    private static Arbitrary<Instant> instants() {
        return Arbitraries.longs().between(-2_000_000_000L, 4_000_000_000L)
                .flatMap(s -> Arbitraries.of(0, 1, 120_001_000, 999_999_999, 500_000_000).map(n -> Instant.ofEpochSecond(s, n)))
                .injectNull(0.2);
    }

    /** Replaces, removes or adds a field somewhere in the tree, or swaps the order of an object's fields. */
    private static void mutate(JsonNode root, Random random) {
        List<JsonNode> containers = new ArrayList<>();
        collect(root, containers);
        JsonNode target = containers.get(random.nextInt(containers.size()));
        JsonNode value = randomValue(random);
        if (target instanceof ObjectNode o) {
            List<String> names = new ArrayList<>();
            o.fieldNames().forEachRemaining(names::add);
            int action = random.nextInt(4);
            if (names.isEmpty() || action == 0) {
                o.set(random.nextBoolean() || names.isEmpty() ? "extra" : names.get(0), value);
            } else if (action == 1) {
                o.remove(names.get(random.nextInt(names.size())));
            } else if (action == 2) {
                o.set(names.get(random.nextInt(names.size())), value);
            } else {
                Map<String, JsonNode> fields = new LinkedHashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    fields.put(e.getKey(), e.getValue());
                }
                List<String> order = new ArrayList<>(fields.keySet());
                java.util.Collections.shuffle(order, random);
                o.removeAll();
                order.forEach(k -> o.set(k, fields.get(k)));
            }
        } else if (target instanceof ArrayNode a) {
            if (a.isEmpty() || random.nextBoolean()) {
                a.add(value);
            } else {
                a.set(random.nextInt(a.size()), value);
            }
        }
    }

    private static void collect(JsonNode node, List<JsonNode> out) {
        if (node.isContainerNode()) {
            out.add(node);
            node.forEach(child -> collect(child, out));
        }
    }

    private static JsonNode randomValue(Random random) {
        return switch (random.nextInt(12)) {
            case 0 -> F.nullNode();
            case 1 -> F.numberNode(random.nextInt(5) - 1);
            case 2 -> F.numberNode(random.nextLong());
            case 3 -> F.numberNode(new BigInteger("123456789012345678901234567890"));
            case 4 -> F.numberNode(1.5);
            case 5 -> F.textNode("0/" + Integer.toHexString(random.nextInt(1000)));
            case 6 -> F.textNode("2026-02-17T10:00:0" + random.nextInt(10) + "Z");
            case 7 -> F.textNode(random.nextBoolean() ? "INSERT" : "x");
            case 8 -> F.booleanNode(random.nextBoolean());
            case 9 -> F.arrayNode().add("note");
            case 10 -> F.objectNode().put("name", "id").put("key", true);
            default -> F.objectNode();
        };
    }

    /** Writes the first field of some object twice, as JSON allows and a tree would hide. */
    private static String duplicateAField(String json, Random random) {
        int at = -1;
        for (int i = 0, n = random.nextInt(6); i <= n; i++) {
            int next = json.indexOf("{\"", at + 1);
            if (next < 0) {
                break;
            }
            at = next;
        }
        if (at < 0) {
            return json;
        }
        int colon = json.indexOf("\":", at);
        String name = json.substring(at + 1, colon + 1);
        return json.substring(0, at + 1) + name + ":null," + json.substring(at + 1);
    }
}
