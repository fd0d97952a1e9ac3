package io.vrsky.pipeline;

import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.assertj.core.api.Assertions.assertThat;

/** INSERT, UPDATE and DELETE each reach the sink. */
@ExtendWith(RealServices.class)
class BasicReplicationIT {

    private static final String ORDERS = "CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL,"
            + " amount numeric(12,2), status text, updated_at timestamptz DEFAULT now())";

    @Test
    @Timeout(120)
    void shouldReplicateInsertedRows(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, ORDERS).start()) {
            p.execSource("INSERT INTO orders (id, customer, amount, status) VALUES (1, 'ada', 10.50, 'new')");
            p.execSource("INSERT INTO orders (id, customer, amount, status) VALUES (2, 'bob', NULL, NULL)");
            p.awaitInSync();
            assertThat(p.rows(p.sink(), "orders")).hasSize(2);
            assertThat(Pipeline.scalar(p.sink(), "SELECT customer || '/' || amount FROM orders WHERE id = 1")).isEqualTo("ada/10.50");
        }
    }

    @Test
    @Timeout(120)
    void shouldReplicateUpdatesOfValuesAndOfTheKey(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, ORDERS).start()) {
            p.execSource("INSERT INTO orders (id, customer, amount, status) SELECT g, 'c' || g, g, 'new' FROM generate_series(1, 20) g");
            p.awaitInSync();
            p.execSource("UPDATE orders SET status = 'paid', amount = amount * 2 WHERE id % 2 = 0");
            p.execSource("UPDATE orders SET status = NULL WHERE id = 3");
            p.execSource("UPDATE orders SET id = 100 WHERE id = 5");
            p.awaitInSync();
            assertThat(Pipeline.count(p.sink(), "orders WHERE status = 'paid'")).isEqualTo(10);
            assertThat(Pipeline.count(p.sink(), "orders WHERE id = 5")).isZero();
            assertThat(Pipeline.scalar(p.sink(), "SELECT customer FROM orders WHERE id = 100")).isEqualTo("c5");
        }
    }

    @Test
    @Timeout(120)
    void shouldReplicateDeletes(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, ORDERS).start()) {
            p.execSource("INSERT INTO orders (id, customer) SELECT g, 'c' || g FROM generate_series(1, 30) g");
            p.awaitInSync();
            p.execSource("DELETE FROM orders WHERE id > 10");
            p.execSource("DELETE FROM orders WHERE id = 1");
            p.awaitInSync();
            assertThat(Pipeline.count(p.sink(), "orders")).isEqualTo(9);
        }
    }
}
