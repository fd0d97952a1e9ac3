package io.vrsky.producer.catalog;

import io.vrsky.core.model.TableId;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TableWhitelistTest {

    @Test
    void shouldReadATableWithoutSchemaAsPublic() {
        List<String> problems = new ArrayList<>();
        TableWhitelist whitelist = TableWhitelist.parse(List.of("orders", "sales.items"), problems);

        assertThat(problems).isEmpty();
        assertThat(whitelist.allows(new TableId("public", "orders"))).isTrue();
        assertThat(whitelist.allows(new TableId("sales", "items"))).isTrue();
        assertThat(whitelist.allows(new TableId("sales", "orders"))).isFalse();
        assertThat(whitelist.allows(new TableId("public", "items"))).isFalse();
    }

    @Test
    void shouldMatchNamesExactly() {
        TableWhitelist whitelist = TableWhitelist.parse(List.of("orders"), new ArrayList<>());

        assertThat(whitelist.allows(new TableId("public", "Orders"))).isFalse();
        assertThat(whitelist.allows(new TableId("public", "orders; DROP TABLE orders"))).isFalse();
        assertThat(whitelist.allows(new TableId("public", "orders\""))).isFalse();
    }

    @Test
    void shouldReportMalformedItems() {
        List<String> problems = new ArrayList<>();
        TableWhitelist whitelist = TableWhitelist.parse(List.of("a..b", ".x", "a.b.c", "has space", "ok"), problems);

        assertThat(problems).hasSize(4);
        assertThat(whitelist.tables()).containsExactly(new TableId("public", "ok"));
    }
}
