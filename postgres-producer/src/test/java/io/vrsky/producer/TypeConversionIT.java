package io.vrsky.producer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nats.client.api.MessageInfo;
import io.vrsky.core.nats.DeadLetterHeaders;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static io.vrsky.producer.Envelopes.insert;
import static io.vrsky.producer.Envelopes.lsn;
import static io.vrsky.producer.Envelopes.message;
import static io.vrsky.producer.Envelopes.row;
import static io.vrsky.producer.Envelopes.update;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

@ExtendWith(RealServices.class)
@Timeout(120)
class TypeConversionIT {

    private static final String SOURCE = "postgres-consumer/db/slot";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text);
    }

    @Test
    void shouldWriteEveryKindOfValueOfTheWireFormat(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "types")) {
            h.sql("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
                    "CREATE DOMAIN posint AS integer CHECK (VALUE > 0)",
                    "CREATE TABLE kinds (id int PRIMARY KEY, i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision,"
                            + " num numeric(40,20), b boolean, t text, vc varchar(10), ch char(3), u uuid, j json, jb jsonb,"
                            + " by bytea, d date, tm time, tmtz timetz, ts timestamp, tstz timestamptz, iv interval, ip inet,"
                            + " m mood, p posint, ia int4[], ta text[], ja jsonb[], ba bytea[], n2 int4[])");
            h.env("POSTGRES_OUTPUT_TABLES", "kinds");
            Map<String, JsonNode> full = row("id", 1, "i2", 32767, "i4", -2147483648, "i8", 9007199254740993L,
                    "f4", 1.5, "f8", "NaN", "num", "12345678901234567890.00000000000000000001", "b", true,
                    "t", "multi\nline 'quoted' \"text\" ünïcødé", "vc", "hello", "ch", "ab",
                    "u", "0b6c4f2e-8f7a-4c1e-9d3b-2a1f5e6d7c8b", "j", json("{\"a\": [1, 2], \"b\": null}"),
                    "jb", json("{\"z\": 1, \"a\": {\"nested\": true}}"), "by", "3q2+7w==", "d", "2026-02-17",
                    "tm", "23:59:59.999999", "tmtz", "10:00:00+02", "ts", "2026-02-17T10:00:00.5",
                    "tstz", "2026-02-17T10:00:00.123456Z", "iv", "1 day 02:03:04", "ip", "192.168.0.1/24", "m", "happy",
                    "p", 5, "ia", json("[1, 2, null]"), "ta", json("[\"a,b\", \"c\\\"d\", \"{}\", null]"),
                    "ja", json("[{\"k\": 1}, [1, 2]]"), "ba", json("[\"3q2+7w==\", null]"), "n2", json("[[1, 2], [3, 4]]"));
            List<Object> nulls = new ArrayList<>(List.of("id", 2));
            for (String column : full.keySet()) {
                if (!column.equals("id")) {
                    nulls.add(column);
                    nulls.add(null);
                }
            }
            h.publish(message(SOURCE, insert("kinds", lsn(1), full)));
            h.publish(message(SOURCE, insert("kinds", lsn(2), row(nulls.toArray()))));
            h.publish(message(SOURCE, insert("kinds", lsn(3), row("id", 3, "f4", "-Infinity", "f8", "Infinity", "t", "keep"))));
            // unchanged TOAST: t is left alone
            h.publish(message(SOURCE, update("kinds", lsn(4), row("id", 3), row("id", 3, "i4", 7), "t")));
            h.start();

            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);
            assertThat(h.deadLetters()).isEmpty();
            List<String> checks = List.of(
                    "i2 = 32767", "i4 = -2147483648", "i8 = 9007199254740993", "f4 = 1.5", "f8 = 'NaN'::float8",
                    "num = 12345678901234567890.00000000000000000001", "b", "t = E'multi\\nline ''quoted'' \"text\" ünïcødé'",
                    "vc = 'hello'", "ch = 'ab '", "u = '0b6c4f2e-8f7a-4c1e-9d3b-2a1f5e6d7c8b'",
                    "j::jsonb = '{\"a\": [1, 2], \"b\": null}'::jsonb", "jb = '{\"a\": {\"nested\": true}, \"z\": 1}'::jsonb",
                    "by = '\\xdeadbeef'::bytea", "d = date '2026-02-17'", "tm = time '23:59:59.999999'",
                    "tmtz = timetz '10:00:00+02'", "ts = timestamp '2026-02-17 10:00:00.5'",
                    "tstz = timestamptz '2026-02-17 10:00:00.123456+00'", "iv = interval '1 day 02:03:04'",
                    "ip = inet '192.168.0.1/24'", "m = 'happy'", "p = 5", "ia = ARRAY[1, 2, NULL]::int4[]",
                    "ta = ARRAY['a,b', 'c\"d', '{}', NULL]", "ja = ARRAY['{\"k\": 1}'::jsonb, '[1, 2]'::jsonb]",
                    "ba = ARRAY['\\xdeadbeef'::bytea, NULL]", "n2 = '{{1,2},{3,4}}'::int4[]");
            for (String check : checks) {
                assertThat(h.count("SELECT count(*) FROM kinds WHERE id = 1 AND " + check)).as(check).isEqualTo(1);
            }
            List<String> row2 = h.rows("SELECT * FROM kinds WHERE id = 2").get(0);
            assertThat(row2.subList(1, row2.size())).containsOnlyNulls();
            assertThat(h.rows("SELECT f4::text, f8::text, t, i4 FROM kinds WHERE id = 3"))
                    .containsExactly(List.of("-Infinity", "Infinity", "keep", "7"));
        }
    }

    @Test
    void shouldDeadLetterValuesThatDoNotFitTheirColumn(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "badtypes")) {
            h.sql("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
                    "CREATE DOMAIN posint AS integer CHECK (VALUE > 0)",
                    "CREATE TABLE vals (id int PRIMARY KEY, i4 integer, m mood, p posint, by bytea, vc varchar(3), j jsonb)");
            h.env("POSTGRES_OUTPUT_TABLES", "vals");
            h.publish(message(SOURCE, insert("vals", lsn(1), row("id", 1, "i4", "abc"))));
            h.publish(message(SOURCE, insert("vals", lsn(2), row("id", 2, "m", "angry"))));
            h.publish(message(SOURCE, insert("vals", lsn(3), row("id", 3, "p", -1))));
            h.publish(message(SOURCE, insert("vals", lsn(4), row("id", 4, "by", "%%%"))));
            h.publish(message(SOURCE, insert("vals", lsn(5), row("id", 5, "vc", "too long"))));
            h.publish(message(SOURCE, insert("vals", lsn(6), row("id", 6, "i4", json("{\"x\": 1}")))));
            h.publish(message(SOURCE, insert("vals", lsn(7), row("id", 7, "i4", 7, "m", "ok", "p", 1, "by", "AQI=", "vc", "abc",
                    "j", json("[true]")))));
            h.start();

            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);
            assertThat(h.rows("SELECT id, i4, m, p, by::text, vc, j::text FROM vals"))
                    .containsExactly(List.of("7", "7", "ok", "1", "\\x0102", "abc", "[true]"));
            List<MessageInfo> dead = h.deadLetters();
            List<String> states = new ArrayList<>();
            for (MessageInfo m : dead) {
                String state = m.getHeaders().getFirst(DeadLetterHeaders.SQL_STATE);
                states.add(m.getHeaders().getFirst(DeadLetterHeaders.ERROR_CLASS) + ":" + (state == null ? "-" : state));
            }
            Collections.sort(states);
            assertThat(states).containsExactly("sql:22001", "sql:22P02", "sql:22P02", "sql:23514", "validation:-", "validation:-");
        }
    }

    @Test
    void shouldWriteAJsonStringAsTheDocumentTextItHolds(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "jsontext")) {
            h.sql("CREATE TABLE docs (id int PRIMARY KEY, j json, jb jsonb, ja jsonb[])");
            h.env("POSTGRES_OUTPUT_TABLES", "docs");
            String spaced = "{\"a\" :  1,  \"a\": [2,3]}";
            h.publish(message(SOURCE,
                    insert("docs", lsn(1), row("id", 1, "j", spaced, "jb", "null", "ja", json("[\"{\\\"k\\\": 1}\", \"null\", null]"))),
                    insert("docs", lsn(2), row("id", 2, "j", null, "jb", null)),
                    insert("docs", lsn(3), row("id", 3, "j", json("{\"b\": 2.50}"), "jb", json("[1, \"x\"]"))),
                    insert("docs", lsn(4), row("id", 4, "j", json("12.0"), "jb", json("true")))));
            h.start();

            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);
            assertThat(h.deadLetters()).isEmpty();
            assertThat(h.rows("SELECT id, j::text, jb::text, jb IS NULL, ja::text FROM docs ORDER BY id")).containsExactly(
                    java.util.Arrays.asList("1", spaced, "null", "f", "{\"{\\\"k\\\": 1}\",\"null\",NULL}"),
                    java.util.Arrays.asList("2", null, null, "t", null),
                    java.util.Arrays.asList("3", "{\"b\":2.5}", "[1, \"x\"]", "f", null),
                    java.util.Arrays.asList("4", "12.0", "true", "f", null));
        }
    }
}
