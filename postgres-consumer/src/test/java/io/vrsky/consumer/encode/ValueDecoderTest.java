package io.vrsky.consumer.encode;

import io.vrsky.consumer.pgoutput.PgOutputException;
import io.vrsky.core.codec.JsonBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ValueDecoderTest {

    private final TypeRegistry types = new TypeRegistry(new TestCatalog());
    private final ValueDecoder values = new ValueDecoder();

    private String json(int oid, String text) throws Exception {
        JsonBuffer out = new JsonBuffer(16);
        values.write(out, types.resolve(oid), text);
        return out.toString();
    }

    /** The value given as the raw bytes of a pgoutput message. */
    private String json(int oid, byte[] text) throws Exception {
        JsonBuffer out = new JsonBuffer(16);
        byte[] framed = new byte[text.length + 6]; // the value somewhere inside a larger message
        System.arraycopy(text, 0, framed, 3, text.length);
        values.write(out, types.resolve(oid), framed, 3, text.length);
        return out.toString();
    }

    @ParameterizedTest(name = "{0} ''{1}'' -> {2}")
    @CsvSource(delimiter = '|', value = {
            "21|-32768|-32768",
            "23|42|42",
            "20|9223372036854775807|9223372036854775807",
            "701|1.5e-05|1.5e-05",
            "700|-0|\"-0\"",
            "701|-0.5|-0.5",
            "701|1e+100|1e+100",
            "701|NaN|\"NaN\"",
            "701|Infinity|\"Infinity\"",
            "700|-Infinity|\"-Infinity\"",
            "1700|123456789012345678901234567890.000000001|\"123456789012345678901234567890.000000001\"",
            "1700|NaN|\"NaN\"",
            "16|t|true",
            "16|f|false",
            "25|a \"quoted\" text|\"a \\\"quoted\\\" text\"",
            "2950|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"",
            "1186|1 day 02:03:04|\"1 day 02:03:04\"",
            "16386|happy|\"happy\"",
            "16394|7|7",
    })
    void shouldMapScalarsToTheirJsonKinds(int oid, String text, String expected) throws Exception {
        assertThat(json(oid, text)).isEqualTo(expected);
    }

    @Test
    void shouldConvertValuesInPlaceInsideTheMessageBytes() throws Exception {
        assertThat(json(1184, "2026-02-17 11:00:00.12+01".getBytes(StandardCharsets.UTF_8))).isEqualTo("\"2026-02-17T10:00:00.120000Z\"");
        assertThat(json(1114, "2026-02-17 10:00:00.5".getBytes(StandardCharsets.UTF_8))).isEqualTo("\"2026-02-17T10:00:00.500000\"");
        assertThat(json(20, "-42".getBytes(StandardCharsets.UTF_8))).isEqualTo("-42");
        assertThat(json(17, "\\x00ff10".getBytes(StandardCharsets.UTF_8))).isEqualTo("\"AP8Q\"");
        assertThat(json(25, "tab\there".getBytes(StandardCharsets.UTF_8))).isEqualTo("\"tab\\there\"");
        assertThat(json(3802, "{\"k\": \"é\"}".getBytes(StandardCharsets.UTF_8))).isEqualTo("\"{\\\"k\\\": \\\"é\\\"}\"");
    }

    @Test
    void shouldReadMalformedUtf8AsTheJdkDoes() throws Exception {
        byte[] bad = {'a', (byte) 0xC3, 'b'};
        assertThat(json(25, bad)).isEqualTo("\"a\uFFFDb\"");
    }

    @Test
    void shouldWriteJsonAndJsonbDocumentsAsStringsOfTheirText() throws Exception {
        assertThat(json(3802, "{\"k\": [1, true]}")).isEqualTo("\"{\\\"k\\\": [1, true]}\"");
        assertThat(json(114, "{\"a\": 1,  \"a\": 2.50}")).isEqualTo("\"{\\\"a\\\": 1,  \\\"a\\\": 2.50}\"");
        assertThat(json(3802, "null")).isEqualTo("\"null\"");
        assertThat(json(114, "\"line\\nbreak\"")).isEqualTo("\"\\\"line\\\\nbreak\\\"\"");
    }

    @Test
    void shouldWriteByteaAsBase64FromHexAndEscapeForms() throws Exception {
        assertThat(json(17, "\\x00ff10")).isEqualTo("\"AP8Q\"");
        assertThat(json(17, "\\x")).isEqualTo("\"\"");
        assertThat(json(17, "a\\\\b\\001")).isEqualTo("\"YVxiAQ==\"");
    }

    @Test
    void shouldWriteTimestamptzInUtcWithMicroseconds() throws Exception {
        assertThat(json(1184, "2026-02-17 11:00:00.12+01")).isEqualTo("\"2026-02-17T10:00:00.120000Z\"");
        assertThat(json(1184, "2026-02-17 10:00:00+00")).isEqualTo("\"2026-02-17T10:00:00.000000Z\"");
        assertThat(json(1184, "2026-02-17 15:30:00.000001+05:30")).isEqualTo("\"2026-02-17T10:00:00.000001Z\"");
        assertThat(json(1184, "infinity")).isEqualTo("\"infinity\"");
        assertThat(json(1184, "2024-03-01 00:30:00.5-01:00:30")).isEqualTo("\"2024-03-01T01:30:30.500000Z\"");
        assertThat(json(1184, "2024-01-01 00:00:00+01")).isEqualTo("\"2023-12-31T23:00:00.000000Z\"");
        assertThat(json(1184, "2024-02-29 23:59:59.999999-00")).isEqualTo("\"2024-02-29T23:59:59.999999Z\"");
        assertThat(json(1184, "12024-02-29 23:59:59+00")).isEqualTo("\"+12024-02-29T23:59:59.000000Z\"");
    }

    @net.jqwik.api.Property(tries = 300, edgeCases = net.jqwik.api.EdgeCasesMode.NONE)
    void shouldConvertAnyTimestamptzLikeTheGeneralParser(
            @net.jqwik.api.ForAll @net.jqwik.api.constraints.LongRange(min = -30_000_000_000L, max = 200_000_000_000L) long epochSecond,
            @net.jqwik.api.ForAll @net.jqwik.api.constraints.IntRange(min = 0, max = 999_999) int micros,
            @net.jqwik.api.ForAll @net.jqwik.api.constraints.IntRange(min = -15 * 3600, max = 15 * 3600) int offsetSeconds) throws Exception {
        java.time.ZoneOffset offset = java.time.ZoneOffset.ofTotalSeconds(offsetSeconds / 60 * 60);
        java.time.OffsetDateTime t = java.time.Instant.ofEpochSecond(epochSecond, micros * 1000L).atOffset(offset);
        String pgText = java.time.format.DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss.SSSSSSxxx").format(t);

        String expected = "\"" + java.time.format.DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
                .format(t.withOffsetSameInstant(java.time.ZoneOffset.UTC)) + "\"";
        assertThat(json(1184, pgText)).isEqualTo(expected);
    }

    @Test
    void shouldWriteTimestampDateAndTimeAsIsoWithoutZone() throws Exception {
        assertThat(json(1114, "2026-02-17 10:00:00.5")).isEqualTo("\"2026-02-17T10:00:00.500000\"");
        assertThat(json(1114, "2026-02-17 10:00:00")).isEqualTo("\"2026-02-17T10:00:00.000000\"");
        assertThat(json(1114, "-infinity")).isEqualTo("\"-infinity\"");
        assertThat(json(1082, "2026-02-17")).isEqualTo("\"2026-02-17\"");
        assertThat(json(1083, "10:00:00.123456")).isEqualTo("\"10:00:00.123456\"");
    }

    @Test
    void shouldParseArrayLiteralsIntoJsonArraysOfTheElementKind() throws Exception {
        assertThat(json(1007, "{1,2,3}")).isEqualTo("[1,2,3]");
        assertThat(json(1007, "{{1,2},{3,NULL}}")).isEqualTo("[[1,2],[3,null]]");
        assertThat(json(1007, "{}")).isEqualTo("[]");
        assertThat(json(1007, "[0:1]={5,6}")).isEqualTo("[5,6]");
        assertThat(json(1009, "{\"a b\",\"c\\\"d\",NULL,\"NULL\",plain}")).isEqualTo("[\"a b\",\"c\\\"d\",null,\"NULL\",\"plain\"]");
        assertThat(json(1000, "{t,f}")).isEqualTo("[true,false]");
        assertThat(json(3807, "{\"{\\\"a\\\": 1}\",\"[]\",NULL,\"null\"}")).isEqualTo("[\"{\\\"a\\\": 1}\",\"[]\",null,\"null\"]");
        assertThat(json(1185, "{\"2026-02-17 11:00:00+01\"}")).isEqualTo("[\"2026-02-17T10:00:00.000000Z\"]");
    }

    @Test
    void shouldRejectTextThatIsNotAValueOfTheType() {
        assertThatThrownBy(() -> json(23, "12a")).isInstanceOf(PgOutputException.class);
        assertThatThrownBy(() -> json(16, "yes")).isInstanceOf(PgOutputException.class);
        assertThatThrownBy(() -> json(1007, "{1,2")).isInstanceOf(PgOutputException.class);
        assertThatThrownBy(() -> json(17, "\\x0")).isInstanceOf(PgOutputException.class);
    }

    @Test
    void shouldNameArraysDomainsAndEnumsTheWayTheEnvelopeDoes() throws Exception {
        assertThat(types.resolve(1007).name()).isEqualTo("int4[]");
        assertThat(types.resolve(1007).element().kind()).isEqualTo(JsonKind.INTEGER);
        assertThat(types.resolve(TestCatalog.POSITIVE_INT).name()).isEqualTo("positive_int");
        assertThat(types.resolve(TestCatalog.POSITIVE_INT).kind()).isEqualTo(JsonKind.INTEGER);
        assertThat(types.resolve(TestCatalog.MOOD).name()).isEqualTo("mood");
        assertThat(types.resolve(TestCatalog.MOOD).kind()).isEqualTo(JsonKind.STRING);
        assertThat(types.resolve(1184).name()).isEqualTo("timestamptz");
    }

    @Test
    void shouldResolveADomainOverAnArrayToTheArraysElementKind() throws Exception {
        TypeRegistry registry = new TypeRegistry(new TestCatalog()
                .with(new TypeCatalog.TypeRow(17000, "int_list", 'd', 'A', 0, 1007, ',', false)));

        PgType domain = registry.resolve(17000);

        assertThat(domain.name()).isEqualTo("int_list");
        assertThat(domain.kind()).isEqualTo(JsonKind.ARRAY);
        assertThat(domain.element().name()).isEqualTo("int4");
    }

    @Test
    void shouldLoadEachTypeFromTheCatalogOnlyOnce() throws Exception {
        int[] loads = {0};
        TestCatalog catalog = new TestCatalog();
        TypeRegistry registry = new TypeRegistry(oids -> {
            loads[0]++;
            return catalog.load(oids);
        });

        registry.preload(java.util.List.of(23, 1007));
        registry.resolve(23);
        registry.resolve(1007);
        registry.preload(java.util.List.of(23));

        assertThat(loads[0]).isEqualTo(1);
    }

}
