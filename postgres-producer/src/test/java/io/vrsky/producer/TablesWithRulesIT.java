package io.vrsky.producer;

import io.nats.client.api.MessageInfo;
import io.vrsky.core.nats.DeadLetterHeaders;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;

import static io.vrsky.producer.Envelopes.insert;
import static io.vrsky.producer.Envelopes.lsn;
import static io.vrsky.producer.Envelopes.message;
import static io.vrsky.producer.Envelopes.row;
import static io.vrsky.producer.Envelopes.update;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Sink tables with rules. PostgreSQL refuses {@code INSERT ... ON CONFLICT} on a table with INSERT
 * or UPDATE rules, and {@code UPDATE ... RETURNING} under an ON UPDATE DO INSTEAD rule without
 * RETURNING (both SQLSTATE 0A000). The UPSERT strategy writes such a table with an update by key
 * and an insert of the rows it did not find, so the rules fire as for any INSERT or UPDATE; what
 * PostgreSQL still refuses goes to the dead-letter queue while the producer keeps going (the pool
 * must not take 0A000 for a broken connection).
 */
@ExtendWith(RealServices.class)
@Timeout(120)
class TablesWithRulesIT {

    private static final String SOURCE = "postgres-consumer/db/slot";

    @Test
    void upsertShouldWriteATableWithInsertRulesWithoutOnConflict(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "rulesupsert")) {
            h.sql("CREATE TABLE ruled (id int PRIMARY KEY, v text NOT NULL)", "CREATE TABLE audit (id int, v text)",
                    "INSERT INTO ruled VALUES (2, 'old')",
                    "CREATE RULE keep_audit AS ON INSERT TO ruled DO ALSO INSERT INTO audit VALUES (NEW.id, NEW.v)");
            h.env("POSTGRES_OUTPUT_TABLES", "ruled").env("POSTGRES_OUTPUT_CONFLICT_STRATEGY", "UPSERT");
            h.publish(message(SOURCE, insert("ruled", lsn(10), row("id", 1, "v", "a")),
                    insert("ruled", lsn(10), row("id", 2, "v", "b")),
                    insert("ruled", lsn(10), row("id", 3, "v", "c"))));
            h.publish(message(SOURCE, update("ruled", lsn(11), row("id", 4), row("id", 4, "v", "d"))));
            h.start();

            await().atMost(Duration.ofSeconds(30)).until(h::allAcked);
            assertThat(h.deadLetters()).isEmpty();
            assertThat(h.rows("SELECT id, v FROM ruled ORDER BY id")).containsExactly(
                    List.of("1", "a"), List.of("2", "b"), List.of("3", "c"), List.of("4", "d"));
            // the rule fired for the rows that were inserted, not for the one that was updated
            assertThat(h.rows("SELECT id FROM audit ORDER BY id")).containsExactly(List.of("1"), List.of("3"), List.of("4"));
        }
    }

    @Test
    void aStatementPostgresRefusesShouldGoToTheDeadLetterQueueAndTheRestGoOn(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "rulesrefused")) {
            h.sql("CREATE TABLE frozen (id int PRIMARY KEY, v text NOT NULL)", "INSERT INTO frozen VALUES (1, 'old')",
                    "CREATE RULE no_updates AS ON UPDATE TO frozen DO INSTEAD NOTHING",
                    "CREATE TABLE plain (id int PRIMARY KEY, v text NOT NULL)");
            h.env("POSTGRES_OUTPUT_TABLES", "frozen,plain");
            long refused = h.publish(message(SOURCE, update("frozen", lsn(20), row("id", 1), row("id", 1, "v", "new"))));
            h.publish(message(SOURCE, insert("plain", lsn(21), row("id", 1, "v", "after"))));
            h.start();

            await().atMost(Duration.ofSeconds(30)).until(h::allAcked);
            List<MessageInfo> dead = h.deadLetters();
            assertThat(dead).hasSize(1);
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.SQL_STATE)).isEqualTo("0A000");
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.SOURCE_SEQUENCE)).isEqualTo(Long.toString(refused));
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.ERROR)).contains("frozen");
            assertThat(h.rows("SELECT v FROM frozen")).containsExactly(List.of("old"));
            assertThat(h.rows("SELECT v FROM plain")).containsExactly(List.of("after"));
            assertThat(h.httpResponse("/health/ready").statusCode()).isEqualTo(200);
        }
    }
}
