package io.vrsky.producer;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.ColumnInfo;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static io.vrsky.producer.Envelopes.chunk;
import static io.vrsky.producer.Envelopes.column;
import static io.vrsky.producer.Envelopes.described;
import static io.vrsky.producer.Envelopes.insert;
import static io.vrsky.producer.Envelopes.lsn;
import static io.vrsky.producer.Envelopes.message;
import static io.vrsky.producer.Envelopes.row;
import static io.vrsky.producer.Envelopes.update;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Schema evolution ({@code POSTGRES_OUTPUT_SCHEMA_EVOLUTION}): a change whose column list says the
 * source's table changed makes the producer change the sink table first, in the same sink
 * transaction, where that is safe (add, widen, rename, drop NOT NULL of a dropped column), and pause
 * otherwise until the sink is fixed by hand. Envelopes are built as postgres-consumer writes them.
 */
@ExtendWith(RealServices.class)
@Timeout(180)
class SchemaEvolutionIT {

    private static final String SOURCE = "postgres-consumer/db/slot";
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    private static final Duration WAIT = Duration.ofSeconds(40);

    private static final ColumnInfo ID = column("id", "int4", 1, "integer");
    private static final ColumnInfo QTY = column("qty", "int4", 2, "integer");

    private static ProducerHarness itemsWithTwoRows(ProducerHarness h) throws Exception {
        h.sql("CREATE TABLE items (id int PRIMARY KEY, qty int)");
        h.env("POSTGRES_OUTPUT_TABLES", "items");
        h.start();
        h.publish(message(SOURCE, described(insert("items", lsn(10), row("id", 1, "qty", 1)), ID, QTY),
                described(insert("items", lsn(11), row("id", 2, "qty", 2)), ID, QTY)));
        await().atMost(WAIT).until(() -> h.count("SELECT count(*) FROM items") == 2);
        return h;
    }

    /** {@code format_type} and NOT NULL of a sink column, or null when it does not exist. */
    private static String sinkColumn(ProducerHarness h, String table, String column) throws Exception {
        List<List<String>> rows = h.rows("SELECT format_type(atttypid, atttypmod) || CASE WHEN attnotnull THEN ' not null' ELSE '' END"
                + " FROM pg_attribute WHERE attrelid = '" + table + "'::regclass AND attname = '" + column + "' AND NOT attisdropped");
        return rows.isEmpty() ? null : rows.get(0).get(0);
    }

    private static boolean paused(ProducerHarness h) throws Exception {
        return h.httpResponse("/health/ready").statusCode() == 503;
    }

    @Test
    void shouldAddAColumnWithTheSourcesDefaultSoThatExistingRowsMatch(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "addwithdefault"); LogCapture logs = new LogCapture()) {
            itemsWithTwoRows(h);
            ColumnInfo colour = new ColumnInfo("colour", "varchar", false, 3, 24, "character varying(20)", true,
                    "'it''s red'::character varying", JSON.textNode("it's red"));
            ColumnInfo added = new ColumnInfo("added", "timestamptz", false, 4, null, "timestamp with time zone", false, "now()",
                    JSON.textNode("2026-02-17T10:11:12.500000Z"));
            h.publish(message(SOURCE, described(insert("items", lsn(12), row("id", 3, "qty", 3, "colour", "blue",
                    "added", "2026-02-18T00:00:00Z")), ID, QTY, colour, added)));

            await().atMost(WAIT).until(h::allAcked);
            assertThat(h.rows("SELECT id, colour, added AT TIME ZONE 'UTC' FROM items ORDER BY id")).containsExactly(
                    List.of("1", "it's red", "2026-02-17 10:11:12.5"), List.of("2", "it's red", "2026-02-17 10:11:12.5"),
                    List.of("3", "blue", "2026-02-18 00:00:00"));
            assertThat(sinkColumn(h, "items", "colour")).isEqualTo("character varying(20) not null");
            assertThat(sinkColumn(h, "items", "added")).isEqualTo("timestamp with time zone");
            assertThat(h.metric("vrsky_producer_schema_changes_total", "kind=\"add_column\"", "table=\"public.items\"")).isEqualTo(2.0);
            assertThat(h.metric("vrsky_producer_schema_pauses_total")).isZero();
            assertThat(h.deadLetters()).isEmpty();
            assertThat(logs.lines()).anyMatch(l -> l.startsWith("INFO") && l.contains("public.items")
                    && l.contains("ALTER TABLE \"public\".\"items\" ADD COLUMN \"colour\" character varying(20) DEFAULT 'it''s red'"
                    + "::character varying(20) NOT NULL"));
        }
    }

    @Test
    void shouldAddAColumnWithoutDefaultAsNullableAndQuoteOddNames(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "addplain"); LogCapture logs = new LogCapture()) {
            itemsWithTwoRows(h);
            ColumnInfo odd = column("we\"ird col", "text", 3, "text");
            // NOT NULL at the source, no default: the sink has rows without a value for it, so it stays nullable
            ColumnInfo strict = new ColumnInfo("strict", "int8", false, 4, null, "bigint", true, null, null);
            ColumnInfo tags = column("tags", "int4[]", 5, "integer[]");
            h.publish(message(SOURCE, described(insert("items", lsn(12), row("id", 3, "qty", 3, "we\"ird col", "x", "strict", 7,
                    "tags", JSON.arrayNode().add(1).add(2))), ID, QTY, odd, strict, tags)));

            await().atMost(WAIT).until(h::allAcked);
            assertThat(h.rows("SELECT id, \"we\"\"ird col\", strict, tags::text FROM items ORDER BY id")).containsExactly(
                    Arrays.asList("1", null, null, null), Arrays.asList("2", null, null, null), List.of("3", "x", "7", "{1,2}"));
            assertThat(sinkColumn(h, "items", "strict")).isEqualTo("bigint");
            assertThat(sinkColumn(h, "items", "tags")).isEqualTo("integer[]");
            assertThat(logs.lines()).anyMatch(l -> l.contains("\"strict\"") && l.contains("without NOT NULL"));
            assertThat(h.deadLetters()).isEmpty();
        }
    }

    @Test
    void shouldWidenIntegersAndVarcharAndKeepEveryValue(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "widen")) {
            h.sql("CREATE TABLE items (id int PRIMARY KEY, n int, name varchar(10), price numeric(6,2))");
            h.env("POSTGRES_OUTPUT_TABLES", "items");
            h.start();
            ColumnInfo n = column("n", "int4", 2, "integer");
            ColumnInfo name = new ColumnInfo("name", "varchar", false, 3, 14, "character varying(10)", false, null, null);
            ColumnInfo price = new ColumnInfo("price", "numeric", false, 4, (6 << 16 | 2) + 4, "numeric(6,2)", false, null, null);
            h.publish(message(SOURCE, described(insert("items", lsn(10), row("id", 1, "n", 5, "name", "short", "price", "9.99")),
                    ID, n, name, price)));
            await().atMost(WAIT).until(() -> h.count("SELECT count(*) FROM items") == 1);

            ColumnInfo wideN = column("n", "int8", 2, "bigint");
            ColumnInfo wideName = new ColumnInfo("name", "varchar", false, 3, 54, "character varying(50)", false, null, null);
            ColumnInfo widePrice = new ColumnInfo("price", "numeric", false, 4, (12 << 16 | 4) + 4, "numeric(12,4)", false, null, null);
            h.publish(message(SOURCE, described(insert("items", lsn(11), row("id", 2, "n", 3_000_000_000L,
                    "name", "a name that needs fifty characters, nearly", "price", "12345678.1234")), ID, wideN, wideName, widePrice),
                    described(update("items", lsn(12), row("id", 1), row("id", 1, "n", -3_000_000_000L, "name", "short",
                            "price", "9.99")), ID, wideN, wideName, widePrice)));

            await().atMost(WAIT).until(h::allAcked);
            assertThat(h.rows("SELECT id, n, name, price FROM items ORDER BY id")).containsExactly(
                    List.of("1", "-3000000000", "short", "9.9900"),
                    List.of("2", "3000000000", "a name that needs fifty characters, nearly", "12345678.1234"));
            assertThat(sinkColumn(h, "items", "n")).isEqualTo("bigint");
            assertThat(sinkColumn(h, "items", "name")).isEqualTo("character varying(50)");
            assertThat(sinkColumn(h, "items", "price")).isEqualTo("numeric(12,4)");
            assertThat(h.metric("vrsky_producer_schema_changes_total", "kind=\"widen_column\"")).isEqualTo(3.0);
            assertThat(h.deadLetters()).isEmpty();
        }
    }

    @Test
    void shouldPauseOnANarrowedColumnAndResumeOnceTheSinkIsNarrowedByHand(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "narrow")) {
            h.sql("CREATE TABLE items (id int PRIMARY KEY, name varchar(50))");
            h.env("POSTGRES_OUTPUT_TABLES", "items");
            h.start();
            ColumnInfo name50 = new ColumnInfo("name", "varchar", false, 2, 54, "character varying(50)", false, null, null);
            h.publish(message(SOURCE, described(insert("items", lsn(10), row("id", 1, "name", "a")), ID, name50)));
            await().atMost(WAIT).until(() -> h.count("SELECT count(*) FROM items") == 1);

            ColumnInfo name10 = new ColumnInfo("name", "varchar", false, 2, 14, "character varying(10)", false, null, null);
            h.publish(message(SOURCE, described(insert("items", lsn(11), row("id", 2, "name", "b")), ID, name10)));

            await().atMost(WAIT).until(() -> paused(h));
            assertThat(h.http("/health/ready")).contains("public.items", "\\\"name\\\"", "character varying(10)");
            assertThat(h.metric("vrsky_producer_paused")).isEqualTo(1.0);
            assertThat(h.count("SELECT count(*) FROM items")).isEqualTo(1);
            assertThat(sinkColumn(h, "items", "name")).isEqualTo("character varying(50)");

            h.sql("ALTER TABLE items ALTER COLUMN name TYPE varchar(10)");
            await().atMost(WAIT).until(h::allAcked);
            assertThat(h.rows("SELECT id, name FROM items ORDER BY id")).containsExactly(List.of("1", "a"), List.of("2", "b"));
            assertThat(h.httpResponse("/health/ready").statusCode()).isEqualTo(200);
            assertThat(h.deadLetters()).isEmpty();
        }
    }

    @Test
    void shouldWriteIntoSinkColumnsWiderThanTheSourcesWithoutPausingUntilTheSourceNarrows(PostgresServer pg, NatsServer nats)
            throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "widersink")) {
            // the sink was created with looser types on purpose
            h.sql("CREATE TABLE items (id int PRIMARY KEY, name text, amount numeric)");
            h.env("POSTGRES_OUTPUT_TABLES", "items");
            h.start();
            ColumnInfo name10 = new ColumnInfo("name", "varchar", false, 2, 14, "character varying(10)", false, null, null);
            ColumnInfo amount = new ColumnInfo("amount", "numeric", false, 3, (12 << 16 | 2) + 4, "numeric(12,2)", false, null, null);
            h.publish(message(SOURCE, described(insert("items", lsn(10), row("id", 1, "name", "a", "amount", "1.50")), ID, name10, amount)));
            h.publish(message(SOURCE, described(insert("items", lsn(11), row("id", 2, "name", "b", "amount", "2.50")), ID, name10, amount)));
            await().atMost(WAIT).until(() -> h.count("SELECT count(*) FROM items") == 2);
            assertThat(h.metric("vrsky_producer_paused")).isZero();
            assertThat(sinkColumn(h, "items", "name")).isEqualTo("text");
            assertThat(sinkColumn(h, "items", "amount")).isEqualTo("numeric");
            assertThat(h.rows("SELECT column_name, source_type, source_typmod FROM vrsky_source_columns WHERE attnum = 2"))
                    .containsExactly(List.of("name", "varchar", "14"));

            // the source narrows the column afterwards: that is a change at the source, and it pauses
            ColumnInfo name5 = new ColumnInfo("name", "varchar", false, 2, 9, "character varying(5)", false, null, null);
            h.publish(message(SOURCE, described(insert("items", lsn(12), row("id", 3, "name", "c", "amount", "3.50")), ID, name5, amount)));
            await().atMost(WAIT).until(() -> paused(h));
            assertThat(h.http("/health/ready")).contains("public.items", "narrowed");
            assertThat(h.count("SELECT count(*) FROM items")).isEqualTo(2);
            assertThat(h.deadLetters()).isEmpty();
        }
    }

    @Test
    void shouldPauseOnAnAddedColumnInNoneModeUntilItIsAddedByHand(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "nonemode")) {
            h.env("POSTGRES_OUTPUT_SCHEMA_EVOLUTION", "none");
            itemsWithTwoRows(h);
            ColumnInfo vip = new ColumnInfo("vip", "bool", false, 3, null, "boolean", true, "false", JSON.booleanNode(false));
            h.publish(message(SOURCE, described(insert("items", lsn(12), row("id", 3, "qty", 3, "vip", true)), ID, QTY, vip)));

            await().atMost(WAIT).until(() -> paused(h));
            assertThat(h.http("/health/ready")).contains("public.items", "vip", "POSTGRES_OUTPUT_SCHEMA_EVOLUTION=none");
            assertThat(sinkColumn(h, "items", "vip")).isNull();
            assertThat(h.count("SELECT count(*) FROM pg_tables WHERE tablename = 'vrsky_source_columns'")).isZero();

            h.sql("ALTER TABLE items ADD COLUMN vip bool NOT NULL DEFAULT false");
            await().atMost(WAIT).until(h::allAcked);
            assertThat(h.rows("SELECT id, vip FROM items ORDER BY id")).containsExactly(List.of("1", "f"), List.of("2", "f"),
                    List.of("3", "t"));
            assertThat(h.metric("vrsky_producer_schema_changes_total")).isZero();
            assertThat(h.deadLetters()).isEmpty();
        }
    }

    @Test
    void shouldRenameTheSinkColumnTheSourceRenamedKeepingItsValues(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "rename")) {
            h.sql("CREATE TABLE items (id int PRIMARY KEY, note text)");
            h.env("POSTGRES_OUTPUT_TABLES", "items");
            h.start();
            ColumnInfo note = column("note", "text", 2, "text");
            ColumnInfo remark = column("remark", "text", 2, "text");
            h.publish(message(SOURCE, described(insert("items", lsn(10), row("id", 1, "note", "first")), ID, note)));
            await().atMost(WAIT).until(() -> h.count("SELECT count(*) FROM items") == 1);
            assertThat(h.rows("SELECT table_name, attnum, column_name FROM vrsky_source_columns WHERE source = '" + SOURCE
                    + "' ORDER BY attnum")).containsExactly(List.of("public.items", "1", "id"), List.of("public.items", "2", "note"));

            // one message: a transaction still with the old name, then one with the new name; then one transaction using both
            h.publish(message(SOURCE, described(insert("items", lsn(11), row("id", 2, "note", "second")), ID, note),
                    described(insert("items", lsn(12), row("id", 3, "remark", "third")), ID, remark)));
            await().atMost(WAIT).until(h::allAcked);

            assertThat(sinkColumn(h, "items", "note")).isNull();
            assertThat(h.rows("SELECT id, remark FROM items ORDER BY id")).containsExactly(List.of("1", "first"), List.of("2", "second"),
                    List.of("3", "third"));
            assertThat(h.rows("SELECT column_name FROM vrsky_source_columns WHERE attnum = 2")).containsExactly(List.of("remark"));
            assertThat(h.metric("vrsky_producer_schema_changes_total", "kind=\"rename_column\"")).isEqualTo(1.0);
            assertThat(h.metric("vrsky_producer_schema_changes_total", "kind=\"add_column\"")).isZero();
            assertThat(h.deadLetters()).isEmpty();
        }
    }

    @Test
    void shouldApplyARenameInsideOneSourceTransactionAfterTheChangesBeforeIt(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "renameintx")) {
            h.sql("CREATE TABLE items (id int PRIMARY KEY, note text)");
            h.env("POSTGRES_OUTPUT_TABLES", "items");
            h.start();
            ColumnInfo note = column("note", "text", 2, "text");
            ColumnInfo remark = column("remark", "text", 2, "text");
            h.publish(message(SOURCE, described(insert("items", lsn(10), row("id", 1, "note", "first")), ID, note)));
            await().atMost(WAIT).until(() -> h.count("SELECT count(*) FROM items") == 1);

            // BEGIN; INSERT (old name); ALTER TABLE items RENAME note TO remark; INSERT (new name); UPDATE; COMMIT
            h.publish(message(SOURCE, described(insert("items", lsn(20), row("id", 2, "note", "before")), ID, note),
                    described(insert("items", lsn(20), row("id", 3, "remark", "after")), ID, remark),
                    described(update("items", lsn(20), row("id", 1), row("id", 1, "remark", "changed")), ID, remark)));
            await().atMost(WAIT).until(h::allAcked);

            assertThat(h.rows("SELECT id, remark FROM items ORDER BY id")).containsExactly(List.of("1", "changed"),
                    List.of("2", "before"), List.of("3", "after"));
            assertThat(h.deadLetters()).isEmpty();
        }
    }

    @Test
    void shouldDropNotNullOfASinkColumnWhoseSourceColumnWasDropped(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "dropcol")) {
            h.sql("CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL, note text)");
            h.env("POSTGRES_OUTPUT_TABLES", "items");
            h.start();
            ColumnInfo qty = new ColumnInfo("qty", "int4", false, 2, null, "integer", true, null, null);
            ColumnInfo note = column("note", "text", 3, "text");
            h.publish(message(SOURCE, described(insert("items", lsn(10), row("id", 1, "qty", 5, "note", "a")), ID, qty, note)));
            await().atMost(WAIT).until(() -> h.count("SELECT count(*) FROM items") == 1);

            h.publish(message(SOURCE, described(insert("items", lsn(11), row("id", 2, "note", "b")), ID, note)));
            await().atMost(WAIT).until(h::allAcked);

            assertThat(h.rows("SELECT id, qty, note FROM items ORDER BY id")).containsExactly(List.of("1", "5", "a"),
                    Arrays.asList("2", null, "b"));
            assertThat(sinkColumn(h, "items", "qty")).isEqualTo("integer");
            assertThat(h.metric("vrsky_producer_schema_changes_total", "kind=\"drop_not_null\"")).isEqualTo(1.0);
            assertThat(h.deadLetters()).isEmpty();
        }
    }

    @Test
    void shouldPauseOnAColumnAddedWithAVolatileDefault(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "volatile")) {
            itemsWithTwoRows(h);
            ColumnInfo seq = new ColumnInfo("seq", "int8", false, 3, null, "bigint", true, "nextval('items_seq_seq'::regclass)", null);
            h.publish(message(SOURCE, described(insert("items", lsn(12), row("id", 3, "qty", 3, "seq", 3)), ID, QTY, seq)));

            await().atMost(WAIT).until(() -> paused(h));
            assertThat(h.http("/health/ready")).contains("public.items", "seq", "by hand", "signal table");
            assertThat(sinkColumn(h, "items", "seq")).isNull();

            h.sql("ALTER TABLE items ADD COLUMN seq bigint");
            await().atMost(WAIT).until(h::allAcked);
            assertThat(h.rows("SELECT id, seq FROM items WHERE id = 3")).containsExactly(List.of("3", "3"));
            assertThat(h.deadLetters()).isEmpty();
        }
    }

    @Test
    void shouldWidenTimestampToTimestamptzOnlyWhileTheColumnHoldsNoValue(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "tstz")) {
            h.sql("CREATE TABLE items (id int PRIMARY KEY, a timestamp, b timestamp)", "INSERT INTO items VALUES (1, NULL, '2026-01-01 10:00')");
            h.env("POSTGRES_OUTPUT_TABLES", "items");
            h.start();
            ColumnInfo a = column("a", "timestamptz", 2, "timestamp with time zone");
            ColumnInfo bPlain = column("b", "timestamp", 3, "timestamp without time zone");
            h.publish(message(SOURCE, described(insert("items", lsn(10), row("id", 2, "a", "2026-02-17T10:00:00Z",
                    "b", "2026-02-17T10:00:00")), ID, a, bPlain)));
            await().atMost(WAIT).until(h::allAcked);
            assertThat(sinkColumn(h, "items", "a")).isEqualTo("timestamp with time zone");

            ColumnInfo b = column("b", "timestamptz", 3, "timestamp with time zone");
            h.publish(message(SOURCE, described(insert("items", lsn(11), row("id", 3, "a", null, "b", "2026-02-17T10:00:00Z")), ID, a, b)));
            await().atMost(WAIT).until(() -> paused(h));
            assertThat(h.http("/health/ready")).contains("\\\"b\\\"", "TimeZone");
            assertThat(h.deadLetters()).isEmpty();
        }
    }

    @Test
    void shouldAddAColumnInTheMiddleOfAChunkedTransaction(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "chunkadd")) {
            itemsWithTwoRows(h);
            ColumnInfo colour = new ColumnInfo("colour", "text", false, 3, null, "text", false, "'red'::text", JSON.textNode("red"));
            h.publish(chunk(SOURCE, lsn(20), 0, false, described(insert("items", lsn(20), row("id", 3, "qty", 3)), ID, QTY)));
            h.publish(chunk(SOURCE, lsn(20), 1, false, described(insert("items", lsn(20), row("id", 4, "qty", 4, "colour", "blue")),
                    ID, QTY, colour)));
            h.publish(chunk(SOURCE, lsn(20), 2, true, described(insert("items", lsn(20), row("id", 5, "qty", 5, "colour", "green")),
                    ID, QTY, colour)));

            await().atMost(WAIT).until(h::allAcked);
            // row 3 existed before the column was added: it holds the default's value, as at the source
            assertThat(h.rows("SELECT id, colour FROM items ORDER BY id")).containsExactly(List.of("1", "red"), List.of("2", "red"),
                    List.of("3", "red"), List.of("4", "blue"), List.of("5", "green"));
            assertThat(h.deadLetters()).isEmpty();
        }
    }

    /**
     * The table change and the first change that needs it commit together or not at all: the
     * producer (the jar) is killed after it added the column and inserted the row, before its
     * commit (held back by a lock on its position row); nothing of it stays, and after a restart
     * both are applied once.
     */
    @Test
    void shouldCommitTheTableChangeTogetherWithTheFirstChangeThatNeedsItOrNotAtAll(PostgresServer pg, NatsServer nats)
            throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "ddlcrash")) {
            h.sql("CREATE TABLE items (id int PRIMARY KEY, qty int)");
            h.env("POSTGRES_OUTPUT_TABLES", "items");
            ColumnInfo colour = new ColumnInfo("colour", "text", false, 3, null, "text", false, "'red'::text", JSON.textNode("red"));
            try (ProducerProcess process = ProducerProcess.start(h.env(), h.name + "-1");
                 java.sql.Connection lock = pg.connect(h.database)) {
                h.publish(message(SOURCE, described(insert("items", lsn(10), row("id", 1, "qty", 1)), ID, QTY),
                        described(insert("items", lsn(11), row("id", 2, "qty", 2)), ID, QTY)));
                await().atMost(WAIT).until(() -> h.count("SELECT count(*) FROM items") == 2);

                lock.setAutoCommit(false);
                try (java.sql.Statement s = lock.createStatement()) {
                    s.execute("SELECT * FROM vrsky_applied_position FOR UPDATE");
                }
                h.publish(message(SOURCE, described(insert("items", lsn(12), row("id", 3, "qty", 3, "colour", "blue")), ID, QTY,
                        colour)));
                // the producer has added the column and inserted the row, and waits for the lock to record its position
                await().atMost(WAIT).until(() -> h.count("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + h.database
                        + "' AND application_name = 'postgres-producer' AND wait_event_type = 'Lock'") == 1);
                process.kill();
                lock.commit();
            }
            await().atMost(WAIT).until(() -> h.count("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + h.database
                    + "' AND application_name = 'postgres-producer'") == 0);
            assertThat(sinkColumn(h, "items", "colour")).isNull();
            assertThat(h.count("SELECT count(*) FROM items")).isEqualTo(2);

            try (ProducerProcess process = ProducerProcess.start(h.env(), h.name + "-2")) {
                await().atMost(WAIT).until(h::allAcked);
                assertThat(h.rows("SELECT id, colour FROM items ORDER BY id")).containsExactly(List.of("1", "red"), List.of("2", "red"),
                        List.of("3", "blue"));
                assertThat(h.deadLetters()).isEmpty();
                assertThat(process.terminate()).isZero();
            }
        }
    }

    @Test
    void shouldTellAMinimalEnvelopeNamingAnUnknownColumnFromASchemaChange(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "minimal")) {
            itemsWithTwoRows(h);
            Change minimal = insert("items", null, row("id", 3, "qty", 3, "colour", "red"));
            h.publish(Envelopes.plain(minimal));
            await().atMost(WAIT).until(h::allAcked);
            assertThat(h.deadLetters()).hasSize(1);
            assertThat(sinkColumn(h, "items", "colour")).isNull();
        }
    }
}
