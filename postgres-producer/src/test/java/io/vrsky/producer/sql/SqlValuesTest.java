package io.vrsky.producer.sql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.vrsky.producer.catalog.ColumnKind;
import io.vrsky.producer.catalog.ColumnMeta;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SqlValuesTest {

    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static ColumnMeta scalar(String type) {
        return ColumnMeta.scalar("c", 1, type);
    }

    private static ColumnMeta array(String castType, ColumnKind element) {
        return new ColumnMeta("a", 1, castType, "_x", ColumnKind.ARRAY, element, false);
    }

    private static JsonNode json(String text) throws Exception {
        return MAPPER.readTree(text);
    }

    @Test
    void shouldKeepNullsNull() throws Exception {
        assertThat(SqlValues.toText(F.nullNode(), scalar("bigint"))).isNull();
        assertThat(SqlValues.toText(null, scalar("text"))).isNull();
        assertThat(SqlValues.toText(F.nullNode(), new ColumnMeta("j", 1, "jsonb", "jsonb", ColumnKind.JSON, null, false))).isNull();
    }

    @Test
    void shouldWriteNumbersBooleansAndStringsAsText() throws Exception {
        assertThat(SqlValues.toText(F.numberNode(9_007_199_254_740_993L), scalar("bigint"))).isEqualTo("9007199254740993");
        assertThat(SqlValues.toText(F.numberNode(1.5), scalar("double precision"))).isEqualTo("1.5");
        assertThat(SqlValues.toText(F.textNode("NaN"), scalar("double precision"))).isEqualTo("NaN");
        assertThat(SqlValues.toText(F.textNode("-Infinity"), scalar("real"))).isEqualTo("-Infinity");
        assertThat(SqlValues.toText(F.booleanNode(true), scalar("boolean"))).isEqualTo("true");
        assertThat(SqlValues.toText(F.textNode("2026-02-17T10:00:00.123456Z"), scalar("timestamp with time zone")))
                .isEqualTo("2026-02-17T10:00:00.123456Z");
    }

    @Test
    void shouldKeepTheExactDigitsOfNumeric() throws Exception {
        assertThat(SqlValues.toText(F.textNode("12345678901234567890.000000000000000001"), scalar("numeric")))
                .isEqualTo("12345678901234567890.000000000000000001");
        assertThat(SqlValues.toText(F.numberNode(new BigDecimal("1E+3")), scalar("numeric"))).isEqualTo("1000");
    }

    @Test
    void shouldTurnBase64IntoByteaHex() throws Exception {
        ColumnMeta bytea = new ColumnMeta("b", 1, "bytea", "bytea", ColumnKind.BYTEA, null, false);

        assertThat(SqlValues.toText(F.textNode("3q2+7w=="), bytea)).isEqualTo("\\xdeadbeef");
        assertThat(SqlValues.toText(F.textNode(""), bytea)).isEqualTo("\\x");
        assertThatThrownBy(() -> SqlValues.toText(F.textNode("not base64!"), bytea))
                .isInstanceOf(ValueConversionException.class).hasMessageContaining("invalid base64");
        assertThatThrownBy(() -> SqlValues.toText(F.numberNode(1), bytea)).isInstanceOf(ValueConversionException.class);
    }

    @Test
    void shouldSerializeJsonValues() throws Exception {
        ColumnMeta jsonb = new ColumnMeta("j", 1, "jsonb", "jsonb", ColumnKind.JSON, null, false);

        assertThat(SqlValues.toText(json("{\"a\":[1,2,{\"b\":null}],\"c\":\"x\\\"y\"}"), jsonb))
                .isEqualTo("{\"a\":[1,2,{\"b\":null}],\"c\":\"x\\\"y\"}");
        assertThat(SqlValues.toText(F.numberNode(42), jsonb)).isEqualTo("42");
        assertThat(SqlValues.toText(F.booleanNode(true), jsonb)).isEqualTo("true");
    }

    @Test
    void shouldWriteAJsonStringAsTheDocumentText() throws Exception {
        ColumnMeta json = new ColumnMeta("j", 1, "json", "json", ColumnKind.JSON, null, false);

        assertThat(SqlValues.toText(F.textNode("{\"a\" :  1,  \"a\": 2}"), json)).isEqualTo("{\"a\" :  1,  \"a\": 2}");
        assertThat(SqlValues.toText(F.textNode("null"), json)).as("the document null, not SQL NULL").isEqualTo("null");
        assertThat(SqlValues.toText(F.nullNode(), json)).as("SQL NULL").isNull();
        assertThat(SqlValues.toText(F.textNode("\"just a string\""), json)).isEqualTo("\"just a string\"");
        assertThat(SqlValues.toText(json("[\"{\\\"k\\\": 1}\", \"null\", null]"), array("json[]", ColumnKind.JSON)))
                .isEqualTo("{\"{\\\"k\\\": 1}\",\"null\",NULL}");
    }

    @Test
    void shouldBuildArrayLiteralsWithQuotedElements() throws Exception {
        assertThat(SqlValues.toText(json("[1,2,null,3]"), array("integer[]", ColumnKind.SCALAR))).isEqualTo("{\"1\",\"2\",NULL,\"3\"}");
        assertThat(SqlValues.toText(json("[[1,2],[3,4]]"), array("integer[]", ColumnKind.SCALAR)))
                .isEqualTo("{{\"1\",\"2\"},{\"3\",\"4\"}}");
        assertThat(SqlValues.toText(json("[\"a,b\",\"say \\\"hi\\\"\",\"back\\\\slash\",\"{}\",\"NULL\"]"),
                array("text[]", ColumnKind.SCALAR)))
                .isEqualTo("{\"a,b\",\"say \\\"hi\\\"\",\"back\\\\slash\",\"{}\",\"NULL\"}");
        assertThat(SqlValues.toText(json("[]"), array("text[]", ColumnKind.SCALAR))).isEqualTo("{}");
    }

    @Test
    void shouldConvertByteaAndJsonArrayElements() throws Exception {
        assertThat(SqlValues.toText(json("[\"3q2+7w==\",null]"), array("bytea[]", ColumnKind.BYTEA)))
                .isEqualTo("{\"\\\\xdeadbeef\",NULL}");
        assertThat(SqlValues.toText(json("[{\"k\":1},[1,2]]"), array("jsonb[]", ColumnKind.JSON)))
                .isEqualTo("{\"{\\\"k\\\":1}\",\"[1,2]\"}");
    }

    @Test
    void shouldRejectObjectsForScalarColumns() {
        assertThatThrownBy(() -> SqlValues.toText(json("{\"a\":1}"), scalar("text")))
                .isInstanceOf(ValueConversionException.class).hasMessageContaining("column \"c\"").hasMessageContaining("object");
        assertThatThrownBy(() -> SqlValues.toText(json("[1]"), scalar("integer")))
                .isInstanceOf(ValueConversionException.class).hasMessageContaining("array");
        assertThatThrownBy(() -> SqlValues.toText(json("{\"a\":1}"), array("integer[]", ColumnKind.SCALAR)))
                .isInstanceOf(ValueConversionException.class);
    }
}
