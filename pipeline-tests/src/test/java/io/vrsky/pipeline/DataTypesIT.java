package io.vrsky.pipeline;

import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every type of DESIGN.md's wire format arrives equal: each row's text form, as PostgreSQL itself
 * prints it, is the same on both sides (json columns compared as jsonb: the wire format carries json
 * as JSON, so whitespace and duplicate keys are not kept; see {@link Pipeline}).
 */
@ExtendWith(RealServices.class)
class DataTypesIT {

    static final String[] SCHEMA = {
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
        "CREATE DOMAIN positive_int AS int4 CHECK (VALUE > 0)",
        "CREATE TABLE everything ("
                + " id int4 PRIMARY KEY, c_int2 int2, c_int8 int8, c_float4 float4, c_float8 float8, c_numeric numeric,"
                + " c_money_like numeric(12,2), c_bool bool, c_text text, c_varchar varchar(20), c_char char(5),"
                + " c_json json, c_jsonb jsonb, c_bytea bytea, c_int_arr int4[], c_text_arr text[], c_num_arr numeric[],"
                + " c_date date, c_time time, c_timetz timetz, c_ts timestamp, c_tstz timestamptz, c_interval interval,"
                + " c_uuid uuid, c_inet inet, c_cidr cidr, c_macaddr macaddr, c_mood mood, c_domain positive_int, c_oid oid)",
    };

    static final String ROW_1 = "INSERT INTO everything VALUES (1, 32767, 9223372036854775807, 1.5, 3.141592653589793,"
            + " 12345678901234567890.123456789012345678901234567890, 1234567890.12, true, 'plain text', 'varchar', 'ab',"
            + " '{\"a\": [1, 2.5, \"x\"], \"b\": {\"c\": null}}', '{\"k\": \"v\", \"n\": 1.25, \"arr\": [true, false]}',"
            + " '\\x00010203feff'::bytea, '{1,2,3}', '{\"a\",\"b c\",\"d,e\"}', '{1.10,2.000}',"
            + " '2026-02-17', '10:00:00.123456', '10:00:00.5+02', '2026-02-17 10:00:00.123456', '2026-02-17 10:00:00.123456+00',"
            + " '1 year 2 mons 3 days 04:05:06.789', '0b6c3e4a-1d2f-4a5b-9c8d-7e6f5a4b3c2d', '192.168.1.10/24', '10.0.0.0/8',"
            + " '08:00:2b:01:02:03', 'happy', 42, 4242)";
    static final String ROW_2 = "INSERT INTO everything VALUES (2, -32768, -9223372036854775808, -0.25, -1e-300,"
            + " -0.000000000000000000000001, -99.99, false, 'quotes '' \" backslash \\ newline' || chr(10) || 'tab' || chr(9) || 'unicode ✓ é 漢字 🚀',"
            + " '', ' ', '[1, \"two\", {\"three\": 3}]', '{\"big\": 1234567890123, \"neg\": -0.5}', '\\x'::bytea, '{}', '{NULL,\"\"}', '{}', '1970-01-01', '00:00:00', '23:59:59.999999-11',"
            + " '1970-01-01 00:00:00', '1999-12-31 23:59:59.999999-08', '-3 days -00:00:01', '00000000-0000-0000-0000-000000000000',"
            + " '::1', '2001:db8::/32', 'ff:ff:ff:ff:ff:ff', 'sad', 1, 0)";
    static final String ROW_3 = "INSERT INTO everything (id) VALUES (3)";

    @Test
    @Timeout(120)
    void shouldCarryEveryDataTypeValueForValue(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, SCHEMA).start()) {
            p.execSource(ROW_1);
            p.execSource(ROW_2);
            p.execSource(ROW_3);
            p.awaitInSync();
            assertThat(p.rows(p.sink(), "everything")).containsExactlyElementsOf(p.rows(p.source(), "everything"));

            p.execSource("UPDATE everything SET c_text = c_text || ' (updated)', c_jsonb = c_jsonb || '{\"u\": 1}',"
                    + " c_int_arr = array_append(c_int_arr, 4), c_tstz = c_tstz + interval '1 hour', c_mood = 'ok' WHERE id IN (1, 2)");
            p.execSource("UPDATE everything SET c_int2 = 7, c_bytea = '\\xdeadbeef', c_uuid = gen_random_uuid() WHERE id = 3");
            p.execSource("DELETE FROM everything WHERE id = 2");
            p.awaitInSync();
            assertThat(p.rows(p.sink(), "everything")).containsExactlyElementsOf(p.rows(p.source(), "everything"));
        }
    }

    @Test
    @Timeout(120)
    void shouldCarryEdgeValuesOfNumbersTimesAndArrays(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, SCHEMA).start()) {
            p.execSource("INSERT INTO everything (id, c_float4, c_float8, c_numeric, c_num_arr) VALUES"
                    + " (10, 'NaN', 'Infinity', 'NaN', '{NaN,1}'), (11, '-Infinity', '-1e-320', '0.00', '{}'),"
                    + " (12, 3.4028235e38, 1.7976931348623157e308, '1e-100', NULL)");
            p.execSource("INSERT INTO everything (id, c_int_arr, c_text_arr) VALUES (13, '{{1,2},{3,4}}', '{{a,b},{NULL,d}}'),"
                    + " (14, '{NULL,1,NULL}', ARRAY[repeat('long', 1000)])");
            p.execSource("INSERT INTO everything (id, c_date, c_ts, c_tstz) VALUES"
                    + " (15, 'infinity', '-infinity', 'infinity'), (16, '0044-03-15 BC', '0001-01-01 00:00:00 BC', '4713-01-01 00:00:00+00 BC'),"
                    + " (17, '9999-12-31', '294276-12-31 23:59:59.999999', '2000-02-29 12:00:00+14')");
            p.execSource("INSERT INTO everything (id, c_json, c_jsonb) VALUES (18, '{}', '[]'), (19, '\"just a string\"', 'true'),"
                    + " (20, '{\"a\":1,   \"a\":2}', '{\"deep\": [[[[{\"x\": \"\\u00e9\"}]]]]}')");
            p.awaitInSync();
            assertThat(p.rows(p.sink(), "everything")).containsExactlyElementsOf(p.rows(p.source(), "everything"));
        }
    }

    /** json/jsonb numbers are exact decimals in PostgreSQL: 19 digits or a trailing zero must survive. */
    @Test
    @Timeout(120)
    void shouldKeepEveryDigitOfNumbersInsideJson(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, SCHEMA).start()) {
            p.execSource("INSERT INTO everything (id, c_json, c_jsonb) VALUES"
                    + " (30, '[1, 2.50]', '{\"big\": 12345678901234567890.123456789, \"id\": 9007199254740993}'),"
                    + " (31, '0.1', '123.4500')");
            p.awaitSameCounts();
            assertThat(p.rows(p.sink(), "everything")).containsExactlyElementsOf(p.rows(p.source(), "everything"));
        }
    }

    /** A json value {@code null} is a value, not SQL NULL. */
    @Test
    @Timeout(120)
    void shouldKeepAJsonNullApartFromSqlNull(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, SCHEMA).start()) {
            p.execSource("INSERT INTO everything (id, c_json, c_jsonb) VALUES (40, 'null', 'null'), (41, NULL, NULL),"
                    + " (42, '{ \"a\" :1,  \"a\": [ 2 ] }', '{\"b\": \"x\"}')");
            p.awaitSameCounts();
            assertThat(p.rows(p.sink(), "everything")).containsExactlyElementsOf(p.rows(p.source(), "everything"));
        }
    }

    /** float4/float8 keep the sign of zero, as PostgreSQL itself does. */
    @Test
    @Timeout(120)
    void shouldKeepTheSignOfAFloatZero(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, SCHEMA).start()) {
            p.execSource("INSERT INTO everything (id, c_float4, c_float8) VALUES (50, '-0', '-0'), (51, '0', '0')");
            p.awaitSameCounts();
            assertThat(p.rows(p.sink(), "everything")).containsExactlyElementsOf(p.rows(p.source(), "everything"));
        }
    }

    @Test
    @Timeout(120)
    void shouldKeepUnchangedToastValuesOnUpdate(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info,
                "CREATE TABLE docs (id int PRIMARY KEY, body text, blob bytea, counter int)").start()) {
            // random hex is barely compressible: 40 kB bodies are stored out of line (TOAST)
            p.execSource("INSERT INTO docs SELECT g, (SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 1250)),"
                    + " (SELECT decode(string_agg(md5(random()::text), ''), 'hex') FROM generate_series(1, 1250)), 0"
                    + " FROM generate_series(1, 5) g");
            p.awaitInSync();
            p.execSource("UPDATE docs SET counter = counter + 1");
            p.execSource("UPDATE docs SET counter = counter + 1 WHERE id <= 2");
            p.execSource("UPDATE docs SET body = 'short now' WHERE id = 3");
            p.awaitInSync();
            assertThat(Pipeline.scalarLong(p.sink(), "SELECT sum(length(body)) FROM docs WHERE id <> 3")).isEqualTo(4 * 40_000);
        }
    }
}
