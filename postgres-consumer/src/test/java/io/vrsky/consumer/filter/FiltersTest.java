package io.vrsky.consumer.filter;

import io.vrsky.core.model.Operation;
import io.vrsky.core.model.TableId;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class FiltersTest {

    @Test
    void shouldAcceptOnlyListedTablesComparingSchemaAndName() {
        TableFilter filter = new TableFilter(List.of(TableId.parse("orders"), TableId.parse("sales.items")));

        assertThat(filter.accepts(new TableId("public", "orders"))).isTrue();
        assertThat(filter.accepts(new TableId("sales", "items"))).isTrue();
        assertThat(filter.accepts(new TableId("sales", "orders"))).isFalse();
        assertThat(filter.accepts(new TableId("public", "Orders"))).isFalse();
        assertThat(TableFilter.all().accepts(new TableId("any", "thing"))).isTrue();
    }

    @Test
    void shouldAcceptOnlyListedOperationsAndDeriveThePublishOption() {
        OperationFilter filter = new OperationFilter(List.of(Operation.DELETE, Operation.INSERT));

        assertThat(filter.accepts(Operation.INSERT)).isTrue();
        assertThat(filter.accepts(Operation.UPDATE)).isFalse();
        assertThat(filter.publishOption()).isEqualTo("insert, delete");
        assertThat(OperationFilter.all().publishOption()).isEqualTo("insert, update, delete, truncate");
        assertThat(OperationFilter.all().accepts(Operation.TRUNCATE)).isTrue();
    }
}
