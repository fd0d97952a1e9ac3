package io.vrsky.producer.schema;

import io.vrsky.core.model.TableId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DdlBuilderTest {

    private static final TableId ITEMS = new TableId("public", "items");
    private static final TableId ODD = new TableId("my schema", "it\"ems");

    @Test
    void shouldWriteAddColumnWithTheExistingRowsValueAsDefault() {
        assertThat(DdlBuilder.addColumn(ITEMS, "colour", "character varying(20)", "'it''s red'", true)).isEqualTo(
                "ALTER TABLE \"public\".\"items\" ADD COLUMN \"colour\" character varying(20) DEFAULT 'it''s red'::character varying(20)"
                        + " NOT NULL");
        assertThat(DdlBuilder.addColumn(ITEMS, "n", "bigint", null, false)).isEqualTo(
                "ALTER TABLE \"public\".\"items\" ADD COLUMN \"n\" bigint");
        assertThat(DdlBuilder.addColumn(ITEMS, "p", "text", "E'a\\\\b'", false)).isEqualTo(
                "ALTER TABLE \"public\".\"items\" ADD COLUMN \"p\" text DEFAULT E'a\\\\b'::text");
    }

    @Test
    void shouldQuoteEveryName() {
        assertThat(DdlBuilder.addColumn(ODD, "we\"ird col", "public.\"My Type\"[]", null, false)).isEqualTo(
                "ALTER TABLE \"my schema\".\"it\"\"ems\" ADD COLUMN \"we\"\"ird col\" public.\"My Type\"[]");
        assertThat(DdlBuilder.renameColumn(ODD, "a\"", "b; DROP TABLE x")).isEqualTo(
                "ALTER TABLE \"my schema\".\"it\"\"ems\" RENAME COLUMN \"a\"\"\" TO \"b; DROP TABLE x\"");
        assertThat(DdlBuilder.alterType(ITEMS, "n", "timestamp(3) with time zone")).isEqualTo(
                "ALTER TABLE \"public\".\"items\" ALTER COLUMN \"n\" TYPE timestamp(3) with time zone");
        assertThat(DdlBuilder.dropNotNull(ITEMS, "qty")).isEqualTo("ALTER TABLE \"public\".\"items\" ALTER COLUMN \"qty\" DROP NOT NULL");
    }

    @ParameterizedTest
    @ValueSource(strings = {"integer", "bigint", "character varying(50)", "numeric(12,2)", "numeric(5, -2)", "timestamp(3) with time zone",
            "time without time zone", "public.mood[]", "\"char\"", "character varying(10)[]", "double precision", "bit varying(5)",
            "interval day to second(3)", "public.\"My Type\"", "integer[][]", "int4[]"})
    void shouldAcceptTypeTextsAsPostgresqlPrintsThem(String text) {
        assertThat(DdlBuilder.isTypeText(text)).as(text).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "int4; DROP TABLE items", "text) DEFAULT (1", "text DEFAULT 'x'", "int4 --", "text\nNOT NULL",
            "integer/*x*/", "varchar(10", "'text'", "numeric(1,2,3", "a.b.c", "int4[x]", " int4", "\"unterminated"})
    void shouldRefuseOddTypeTexts(String text) {
        assertThat(DdlBuilder.isTypeText(text)).as(text).isFalse();
        assertThatThrownBy(() -> DdlBuilder.alterType(ITEMS, "c", text)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldRefuseADefaultThatIsNotAQuotedLiteral() {
        assertThatThrownBy(() -> DdlBuilder.addColumn(ITEMS, "c", "text", "now()", false)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DdlBuilder.addColumn(ITEMS, "c", "text", "'a'); DROP TABLE x; --'", false))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DdlBuilder.addColumn(ITEMS, "", "text", null, false)).isInstanceOf(IllegalArgumentException.class);
    }
}
