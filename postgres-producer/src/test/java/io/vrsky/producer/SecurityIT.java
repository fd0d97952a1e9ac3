package io.vrsky.producer;

import io.nats.client.api.MessageInfo;
import io.vrsky.core.nats.DeadLetterHeaders;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static io.vrsky.producer.Envelopes.delete;
import static io.vrsky.producer.Envelopes.insert;
import static io.vrsky.producer.Envelopes.lsn;
import static io.vrsky.producer.Envelopes.message;
import static io.vrsky.producer.Envelopes.plain;
import static io.vrsky.producer.Envelopes.row;
import static io.vrsky.producer.Envelopes.update;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

@ExtendWith(RealServices.class)
@Timeout(120)
class SecurityIT {

    private static final String SOURCE = "postgres-consumer/db/slot";

    @Test
    void shouldDeadLetterTablesOutsideTheWhitelistAndInjectionInNamesWithoutRunningThem(PostgresServer pg, NatsServer nats)
            throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "security")) {
            h.sql("CREATE TABLE accounts (id int PRIMARY KEY, owner text)",
                    "CREATE TABLE secrets (id int PRIMARY KEY, value text)",
                    "INSERT INTO secrets VALUES (1, 'keep me')");
            h.env("POSTGRES_OUTPUT_TABLES", "accounts,ghost");
            h.publish(message(SOURCE, insert("accounts", lsn(1), row("id", 1, "owner", "alice"))));
            // not whitelisted, though it exists
            h.publish(message(SOURCE, insert("secrets", lsn(2), row("id", 2, "value", "stolen"))));
            // injection in the table name
            h.publish(message(SOURCE, insert("accounts\"; DROP TABLE secrets; --", lsn(3), row("id", 3))));
            h.publish(message(SOURCE, delete("accounts; TRUNCATE secrets", lsn(4), row("id", 1))));
            // injection in column names
            h.publish(message(SOURCE, insert("accounts", lsn(5), row("id", 5, "owner\") VALUES (5, 'x'); DROP TABLE secrets; --", "v"))));
            h.publish(message(SOURCE, update("accounts", lsn(6), row("id", 1, "id = id OR 1=1 --", 1), row("id", 1, "owner", "mallory"))));
            h.publish(message(SOURCE, update("accounts", lsn(7), row("id", 1), row("id", 1, "owner", "x"), "owner\"; DROP TABLE secrets; --")));
            // whitelisted but missing in the sink
            h.publish(message(SOURCE, insert("ghost", lsn(8), row("id", 1))));
            // injection in a value is just a value
            h.publish(message(SOURCE, insert("accounts", lsn(9), row("id", 9, "owner", "'); DROP TABLE secrets; --"))));
            h.start();

            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);
            assertThat(h.rows("SELECT id, owner FROM accounts ORDER BY id"))
                    .containsExactly(List.of("1", "alice"), List.of("9", "'); DROP TABLE secrets; --"));
            assertThat(h.rows("SELECT id, value FROM secrets")).containsExactly(List.of("1", "keep me"));
            List<MessageInfo> dead = h.deadLetters();
            assertThat(dead).hasSize(7).allSatisfy(m ->
                    assertThat(m.getHeaders().getFirst(DeadLetterHeaders.ERROR_CLASS)).isEqualTo("validation"));
            assertThat(dead).extracting(m -> m.getHeaders().getFirst(DeadLetterHeaders.ERROR)).anySatisfy(e ->
                    assertThat(e).contains("public.secrets is not in POSTGRES_OUTPUT_TABLES"))
                    .anySatisfy(e -> assertThat(e).contains("public.ghost does not exist"))
                    .anySatisfy(e -> assertThat(e).contains("does not exist in table public.accounts"));
            assertThat(h.metric("vrsky_producer_dead_letters_total", "class=\"validation\"")).isEqualTo(7);
        }
    }

    @Test
    void shouldRestartWithARoleThatMayNoLongerCreateInTheSchemaOnceItsTablesExist(PostgresServer pg, NatsServer nats)
            throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "grants")) {
            String role = "writer_" + h.name;
            h.sql("CREATE TABLE people (id int PRIMARY KEY, name text)",
                    "CREATE ROLE " + role + " LOGIN PASSWORD 'pw'",
                    "GRANT CREATE ON SCHEMA public TO " + role,
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON people TO " + role);
            h.env("POSTGRES_OUTPUT_TABLES", "people").env("POSTGRES_OUTPUT_USER", role).env("POSTGRES_OUTPUT_PASSWORD", "pw");
            h.start();
            h.publish(message(SOURCE, insert("people", lsn(1), row("id", 1, "name", "ann"))));
            await().atMost(Duration.ofSeconds(20)).until(() -> h.count("SELECT count(*) FROM people") == 1);
            assertThat(h.stop()).isZero();

            // what PostgreSQL 15 does to PUBLIC, done to the producer's role after its first start
            h.sql("REVOKE CREATE ON SCHEMA public FROM " + role);
            h.start();
            h.publish(message(SOURCE, insert("people", lsn(2), row("id", 2, "name", "bob"))));
            await().atMost(Duration.ofSeconds(20)).until(() -> h.count("SELECT count(*) FROM people") == 2);
            assertThat(h.deadLetters()).isEmpty();
            assertThat(h.stop()).isZero();
        }
    }

    @Test
    void shouldPickUpAColumnAddedToTheSinkAfterStart(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "catalog")) {
            h.sql("CREATE TABLE people (id int PRIMARY KEY, name text)");
            h.env("POSTGRES_OUTPUT_TABLES", "people");
            h.start();
            h.publish(plain(insert("people", null, row("id", 1, "name", "ann"))));
            await().atMost(Duration.ofSeconds(20)).until(() -> h.count("SELECT count(*) FROM people") == 1);

            h.sql("ALTER TABLE people ADD COLUMN email text");
            h.publish(plain(insert("people", null, row("id", 2, "name", "bob", "email", "bob@example.com"))));

            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);
            assertThat(h.rows("SELECT id, email FROM people ORDER BY id"))
                    .containsExactly(java.util.Arrays.asList("1", null), List.of("2", "bob@example.com"));
            assertThat(h.deadLetters()).isEmpty();
        }
    }

    @Test
    void shouldDeadLetterBytesThatAreNoEnvelope(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "garbage")) {
            h.sql("CREATE TABLE t (id int PRIMARY KEY)");
            h.env("POSTGRES_OUTPUT_TABLES", "t");
            byte[] garbage = "{\"payload\": not json".getBytes(StandardCharsets.UTF_8);
            long seq = h.publishBytes(garbage, "garbage");
            h.publish(message(SOURCE, insert("t", lsn(1), row("id", 1))));
            h.start();

            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);
            assertThat(h.count("SELECT count(*) FROM t")).isEqualTo(1);
            List<MessageInfo> dead = h.deadLetters();
            assertThat(dead).hasSize(1);
            assertThat(dead.get(0).getData()).isEqualTo(garbage);
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.ERROR_CLASS)).isEqualTo("decode");
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.SOURCE_SUBJECT)).isEqualTo(h.subject);
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.SOURCE_SEQUENCE)).isEqualTo(Long.toString(seq));
        }
    }
}
