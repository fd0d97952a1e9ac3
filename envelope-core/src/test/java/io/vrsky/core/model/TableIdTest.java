package io.vrsky.core.model;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TableIdTest {

    @Test
    void shouldDefaultToPublicSchema() {
        assertThat(TableId.parse("orders")).isEqualTo(new TableId("public", "orders"));
    }

    @Test
    void shouldSplitSchemaQualifiedNames() {
        assertThat(TableId.parse("sales.orders")).isEqualTo(new TableId("sales", "orders"));
        assertThat(TableId.parse("sales.orders").toString()).isEqualTo("sales.orders");
    }
}
