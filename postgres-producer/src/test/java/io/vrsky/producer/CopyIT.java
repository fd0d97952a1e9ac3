package io.vrsky.producer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nats.client.api.MessageInfo;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.nats.DeadLetterHeaders;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.vrsky.producer.Envelopes.chunk;
import static io.vrsky.producer.Envelopes.insert;
import static io.vrsky.producer.Envelopes.lsn;
import static io.vrsky.producer.Envelopes.message;
import static io.vrsky.producer.Envelopes.row;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Runs of 32 inserts or more go through COPY: the same rows as the INSERT statement writes, an
 * UPSERT that meets existing rows falls back to the upsert statement (also inside a chunked
 * transaction), and tables COPY would treat differently (rules, identity columns) keep the statement.
 */
@ExtendWith(RealServices.class)
@Timeout(120)
class CopyIT {

    private static final String SOURCE = "postgres-consumer/db/slot";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int ROWS = 40;

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text);
    }

    @Test
    void shouldWriteEveryKindOfValueThroughCopyAsTheStatementDoes(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "copytypes")) {
            String columns = " (id int PRIMARY KEY, i2 smallint, i8 bigint, f4 real, f8 double precision, num numeric(40,20), b boolean,"
                    + " t text, vc varchar(10), ch char(3), u uuid, j json, jb jsonb, by bytea, d date, tstz timestamptz,"
                    + " iv interval, ip inet, m mood, p posint, ia int4[], ta text[], ja jsonb[], ba bytea[], n2 int4[])";
            h.sql("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')", "CREATE DOMAIN posint AS integer CHECK (VALUE > 0)",
                    "CREATE TABLE kinds" + columns, "CREATE TABLE kinds_ref" + columns,
                    // which statement wrote: one row per statement
                    "CREATE TABLE seen (tbl text, query text)",
                    "CREATE FUNCTION note_query() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                            + " INSERT INTO seen VALUES (TG_TABLE_NAME, current_query()); RETURN NULL; END $$",
                    "CREATE TRIGGER kinds_seen AFTER INSERT ON kinds FOR EACH STATEMENT EXECUTE FUNCTION note_query()",
                    "CREATE TRIGGER kinds_ref_seen AFTER INSERT ON kinds_ref FOR EACH STATEMENT EXECUTE FUNCTION note_query()");
            h.env("POSTGRES_OUTPUT_TABLES", "kinds,kinds_ref");
            List<String> texts = List.of("plain", "tab\there", "new\nline", "cr\rhere", "back\\slash", "\\N", "\\.", "end\\",
                    "ünïcødé", "emoji \uD83D\uDE00", "\"quoted\" 'single'", "", "{}", "NULL");
            List<Change> copied = new ArrayList<>();
            List<Change[]> reference = new ArrayList<>();
            for (int i = 1; i <= ROWS; i++) {
                Map<String, JsonNode> values = i % 10 == 0 ? nulls(i) : row("id", i, "i2", -i, "i8", 9007199254740993L + i,
                        "f4", i % 3 == 0 ? "-Infinity" : 1.5 * i, "f8", i % 4 == 0 ? "NaN" : 1e300 / i,
                        "num", "12345678901234567890.0000000000000000000" + i % 10, "b", i % 2 == 0, "t", texts.get(i % texts.size()),
                        "vc", "v" + i, "ch", "c", "u", "0b6c4f2e-8f7a-4c1e-9d3b-2a1f5e6d7c8b", "j", json("{\"a\": [1, \"x\\ty\"], \"b\": null}"),
                        "jb", json("{\"z\": " + i + ", \"s\": \"back\\\\slash\"}"), "by", "3q2+7w==", "d", "2026-02-17",
                        "tstz", "2026-02-17T10:00:00.123456Z", "iv", "1 day 02:03:04", "ip", "192.168.0." + i + "/24", "m", "happy",
                        "p", i, "ia", json("[1, 2, null]"), "ta", json("[\"a,b\", \"c\\\"d\", \"{}\", \"back\\\\slash\", null]"),
                        "ja", json("[{\"k\": 1}, [1, 2]]"), "ba", json("[\"3q2+7w==\", null]"), "n2", json("[[1, 2], [3, 4]]"));
                copied.add(insert("kinds", lsn(1), values));
                // a delete between the inserts keeps every run at one row: the reference goes through the statement
                reference.add(new Change[] {insert("kinds_ref", lsn(1 + i), values), Envelopes.delete("kinds_ref", lsn(1 + i),
                        row("id", -i))});
            }
            h.publish(message(SOURCE, copied.toArray(new Change[0])));
            for (Change[] changes : reference) {
                h.publish(message(SOURCE, changes));
            }
            h.start();

            await().atMost(Duration.ofSeconds(30)).until(h::allAcked);
            assertThat(h.deadLetters()).isEmpty();
            List<List<String>> viaCopy = h.rows("SELECT * FROM kinds ORDER BY id");
            assertThat(viaCopy).hasSize(ROWS);
            assertThat(viaCopy).isEqualTo(h.rows("SELECT * FROM kinds_ref ORDER BY id"));
            assertThat(h.rows("SELECT DISTINCT tbl, split_part(query, ' ', 1) FROM seen ORDER BY 1"))
                    .containsExactly(List.of("kinds", "COPY"), List.of("kinds_ref", "INSERT"));
        }
    }

    private static Map<String, JsonNode> nulls(int id) {
        Map<String, JsonNode> row = new LinkedHashMap<>(row("id", id));
        for (String column : List.of("i2", "i8", "f4", "f8", "num", "b", "t", "vc", "ch", "u", "j", "jb", "by", "d", "tstz", "iv",
                "ip", "m", "p", "ia", "ta", "ja", "ba", "n2")) {
            row.put(column, Envelopes.json(null));
        }
        return row;
    }

    private static Change[] rows(String table, Lsn lsn, int from, int to, String value) {
        List<Change> changes = new ArrayList<>();
        for (int i = from; i <= to; i++) {
            changes.add(insert(table, lsn, row("id", i, "v", value + i)));
        }
        return changes.toArray(new Change[0]);
    }

    @Test
    void upsertShouldFallBackToTheStatementWhenCopyMeetsExistingRows(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "copyconflict")) {
            h.sql("CREATE TABLE kv (id int PRIMARY KEY, v text NOT NULL)", "INSERT INTO kv VALUES (5, 'old'), (40, 'old')");
            h.env("POSTGRES_OUTPUT_TABLES", "kv");
            h.publish(message(SOURCE, rows("kv", lsn(10), 1, ROWS, "a")));
            h.publish(message(SOURCE, rows("kv", lsn(11), ROWS + 1, 2 * ROWS, "b")));
            // a chunked transaction whose second chunk meets existing rows
            h.sql("INSERT INTO kv VALUES (1000 + 45, 'old')");
            h.publish(chunk(SOURCE, lsn(12), 0, false, rows("kv", lsn(12), 1001, 1040, "c")));
            h.publish(chunk(SOURCE, lsn(12), 1, false, rows("kv", lsn(12), 1041, 1080, "c")));
            h.publish(chunk(SOURCE, lsn(12), 2, true, rows("kv", lsn(12), 1081, 1120, "c")));
            h.start();

            await().atMost(Duration.ofSeconds(30)).until(h::allAcked);
            assertThat(h.deadLetters()).isEmpty();
            assertThat(h.count("SELECT count(*) FROM kv")).isEqualTo(2 * ROWS + 3 * ROWS);
            assertThat(h.count("SELECT count(*) FROM kv WHERE v = 'a' || id OR v = 'b' || id OR v = 'c' || id")).isEqualTo(5 * ROWS);
        }
    }

    @Test
    void chunkedUpsertShouldApplyTheTransactionAgainWhenALaterChunkMeetsExistingRows(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "copychunk")) {
            h.sql("CREATE TABLE kv (id int PRIMARY KEY, v text NOT NULL)", "INSERT INTO kv VALUES (70, 'old')");
            h.env("POSTGRES_OUTPUT_TABLES", "kv");
            h.publish(chunk(SOURCE, lsn(12), 0, false, rows("kv", lsn(12), 1, 40, "c")));
            h.publish(chunk(SOURCE, lsn(12), 1, true, rows("kv", lsn(12), 41, 80, "c")));
            h.start();

            await().atMost(Duration.ofSeconds(30)).until(h::allAcked);
            assertThat(h.deadLetters()).isEmpty();
            assertThat(h.count("SELECT count(*) FROM kv WHERE v = 'c' || id")).isEqualTo(80);
        }
    }

    @Test
    void insertStrategyShouldDeadLetterTheMessageWhoseCopyConflicts(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "copyinsert")) {
            h.sql("CREATE TABLE kv (id int PRIMARY KEY, v text NOT NULL)", "INSERT INTO kv VALUES (60, 'old')");
            h.env("POSTGRES_OUTPUT_TABLES", "kv").env("POSTGRES_OUTPUT_CONFLICT_STRATEGY", "INSERT");
            h.publish(message(SOURCE, rows("kv", lsn(10), 1, ROWS, "a")));
            long conflict = h.publish(message(SOURCE, rows("kv", lsn(11), ROWS + 1, 2 * ROWS, "b")));
            h.publish(message(SOURCE, rows("kv", lsn(12), 2 * ROWS + 1, 3 * ROWS, "c")));
            h.start();

            await().atMost(Duration.ofSeconds(30)).until(h::allAcked);
            List<MessageInfo> dead = h.deadLetters();
            assertThat(dead).hasSize(1);
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.SQL_STATE)).isEqualTo("23505");
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.SOURCE_SEQUENCE)).isEqualTo(Long.toString(conflict));
            assertThat(h.count("SELECT count(*) FROM kv")).isEqualTo(2 * ROWS + 1);
        }
    }

    @Test
    void tablesWithRulesOrIdentityColumnsShouldKeepTheInsertStatement(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "copyunsafe")) {
            // without a primary key: only the INSERT statement, not the upsert (TablesWithRulesIT)
            h.sql("CREATE TABLE audited (id int NOT NULL, v text NOT NULL)", "CREATE TABLE audit (id int, v text)",
                    "CREATE RULE keep_audit AS ON INSERT TO audited DO ALSO INSERT INTO audit VALUES (NEW.id, NEW.v)",
                    "CREATE TABLE ident (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text NOT NULL)");
            h.env("POSTGRES_OUTPUT_TABLES", "audited,ident");
            h.publish(message(SOURCE, rows("audited", lsn(10), 1, ROWS, "a")));
            long refused = h.publish(message(SOURCE, rows("ident", lsn(11), 1, ROWS, "b")));
            h.start();

            await().atMost(Duration.ofSeconds(30)).until(h::allAcked);
            assertThat(h.count("SELECT count(*) FROM audit")).isEqualTo(ROWS);
            // an INSERT may not set a GENERATED ALWAYS identity column (COPY would)
            List<MessageInfo> dead = h.deadLetters();
            assertThat(dead).hasSize(1);
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.SQL_STATE)).isEqualTo("428C9");
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.SOURCE_SEQUENCE)).isEqualTo(Long.toString(refused));
            assertThat(h.count("SELECT count(*) FROM ident")).isZero();
        }
    }
}
