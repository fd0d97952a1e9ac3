package io.vrsky.producer.plan;

import io.vrsky.core.model.TableId;
import io.vrsky.producer.catalog.ColumnMeta;
import io.vrsky.producer.catalog.SchemaCatalog;
import io.vrsky.producer.catalog.TableMeta;
import io.vrsky.producer.catalog.TableWhitelist;

import java.util.List;

/** Table descriptions for unit tests, as the live catalog would give them. */
final class Tables {

    static final TableId ORDERS_ID = new TableId("public", "orders");
    static final TableId LOG_ID = new TableId("public", "log");
    static final TableMeta ORDERS = new TableMeta(ORDERS_ID, List.of(
            ColumnMeta.scalar("id", 1, "bigint"), ColumnMeta.scalar("note", 2, "text"), ColumnMeta.scalar("qty", 3, "integer")),
            List.of("id"));
    static final TableMeta LOG = new TableMeta(LOG_ID, List.of(
            ColumnMeta.scalar("a", 1, "integer"), ColumnMeta.scalar("b", 2, "text")), List.of());

    private Tables() {
    }

    static ChangeValidator validator(ConflictStrategy strategy) {
        return new ChangeValidator(SchemaCatalog.fixed(List.of(ORDERS, LOG)), TableWhitelist.of(ORDERS_ID, LOG_ID), strategy);
    }
}
