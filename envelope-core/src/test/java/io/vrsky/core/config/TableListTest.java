package io.vrsky.core.config;

import io.vrsky.core.model.TableId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class TableListTest {

    @Test
    void shouldDefaultTheSchemaToPublic() {
        assertThat(TableList.name("orders")).contains(new TableId("public", "orders"));
        assertThat(TableList.name("sales.items")).contains(new TableId("sales", "items"));
    }

    @Test
    void shouldTrimAroundANameButNotAcceptWhitespaceInside() {
        assertThat(TableList.name("  sales.items\t")).contains(new TableId("sales", "items"));
        assertThat(TableList.name("sales. items")).isEmpty();
        assertThat(TableList.name("has space")).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"Quoted\"", "public.\"Orders\"", "'orders'", "a.b.c", "a..b", ".x", "x.", "", "1abc",
            "drop table;x", "orders-2024", "a1234567890123456789012345678901234567890123456789012345678901234"})
    void shouldRefuseWhatIsNotAPlainIdentifier(String text) {
        assertThat(TableList.name(text)).isEmpty();
    }

    @Test
    void shouldAcceptDollarsDigitsAndUnderscoresAfterTheFirstCharacter() {
        assertThat(TableList.name("_t$1.Mixed_2")).contains(new TableId("_t$1", "Mixed_2"));
        assertThat(TableList.name("a".repeat(63))).isPresent();
    }

    @Test
    void shouldKeepTheFirstOfRepeatedTablesInOrder() {
        List<String> problems = new ArrayList<>();

        List<TableId> tables = TableList.parse("T", List.of("orders", "sales.items", "public.orders", "orders"), problems);

        assertThat(tables).containsExactly(new TableId("public", "orders"), new TableId("sales", "items"));
        assertThat(problems).isEmpty();
    }

    @Test
    void shouldReportEachBadItemOnOneLineNamingTheVariable() {
        List<String> problems = new ArrayList<>();

        List<TableId> tables = TableList.parse("POSTGRES_INPUT_TABLES", List.of("ok", "a.b.c", "\"Quoted\""), problems);

        assertThat(tables).containsExactly(new TableId("public", "ok"));
        assertThat(problems).containsExactly(
                "POSTGRES_INPUT_TABLES contains 'a.b.c': allowed a comma list of schema.table or table, each name 1 to 63"
                        + " letters, digits, _ or $ (not starting with a digit)",
                "POSTGRES_INPUT_TABLES contains '\"Quoted\"': allowed a comma list of schema.table or table, each name 1 to 63"
                        + " letters, digits, _ or $ (not starting with a digit)");
    }

    @Test
    void shouldReadAListFromTheEnvironmentDroppingEmptyItems() {
        Env env = new Env(Map.of("T", " orders, ,sales.items,, orders "));

        assertThat(TableList.read(env, "T")).containsExactly(new TableId("public", "orders"), new TableId("sales", "items"));
        env.validate();
    }

    @Test
    void shouldReadNothingFromAnUnsetVariable() {
        Env env = new Env(Map.of());

        assertThat(TableList.read(env, "T")).isEmpty();
        assertThat(TableList.readQualified(env, "S")).isEmpty();
        env.validate();
    }

    @Test
    void shouldRequireTheSchemaForASingleQualifiedTable() {
        Env good = new Env(Map.of("S", " ops.signal "));
        assertThat(TableList.readQualified(good, "S")).contains(new TableId("ops", "signal"));
        good.validate();

        Env bad = new Env(Map.of("S", "signal", "T", "ok,bad name"));
        assertThat(TableList.readQualified(bad, "S")).isEmpty();
        TableList.read(bad, "T");
        ConfigException e = catchThrowableOfType(ConfigException.class, bad::validate);
        assertThat(e.problems()).containsExactly(
                "S=signal is not allowed: use schema.table, each name 1 to 63 letters, digits, _ or $ (not starting with a digit)",
                "T contains 'bad name': allowed a comma list of schema.table or table, each name 1 to 63 letters, digits, _ or $"
                        + " (not starting with a digit)");
    }
}
