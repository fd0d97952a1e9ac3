package io.vrsky.producer.schema;

import io.vrsky.producer.schema.TypeRules.Verdict;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class TypeRulesTest {

    private static int varchar(int n) {
        return n + 4;
    }

    private static int numeric(int precision, int scale) {
        return ((precision << 16) | (scale & 0x7ff)) + 4;
    }

    @ParameterizedTest(name = "sink {0}({1}) source {2}({3}) -> {4}")
    @CsvSource({
            "int4, -1, int4, -1, SAME",
            "int2, -1, int4, -1, WIDEN",
            "int2, -1, int8, -1, WIDEN",
            "int4, -1, int8, -1, WIDEN",
            "int8, -1, int4, -1, NARROWER",
            "int4, -1, int2, -1, NARROWER",
            "int4, -1, numeric, -1, INCOMPATIBLE",
            "int4, -1, text, -1, INCOMPATIBLE",
            "text, -1, int4, -1, INCOMPATIBLE",
            "varchar, 14, varchar, 54, WIDEN",
            "varchar, 54, varchar, 14, NARROWER",
            "varchar, 14, varchar, -1, WIDEN",
            "varchar, 14, text, -1, WIDEN",
            "varchar, -1, text, -1, WIDEN",
            "text, -1, varchar, 54, NARROWER",
            "text, -1, varchar, -1, NARROWER",
            "varchar, -1, varchar, 54, NARROWER",
            "bpchar, 7, bpchar, 9, WIDEN",
            "bpchar, 9, bpchar, 7, NARROWER",
            "bpchar, 9, varchar, 54, INCOMPATIBLE",
            "timestamp, -1, timestamp, 6, SAME",
            "timestamp, 3, timestamp, 6, WIDEN",
            "timestamp, 6, timestamp, 3, NARROWER",
            "timestamptz, 3, timestamptz, -1, WIDEN",
            "timestamp, -1, timestamptz, -1, WIDEN_IF_EMPTY",
            "timestamp, 3, timestamptz, 6, WIDEN_IF_EMPTY",
            "timestamp, 6, timestamptz, 3, INCOMPATIBLE",
            "timestamptz, -1, timestamp, -1, INCOMPATIBLE",
            "_int4, -1, _int8, -1, WIDEN",
            "_varchar, 14, _varchar, 54, WIDEN",
            "_int8, -1, _int4, -1, NARROWER",
            "_int4, -1, int4, -1, INCOMPATIBLE",
            "mood, -1, mood, -1, SAME",
            "mood, -1, text, -1, INCOMPATIBLE",
            "bit, 5, bit, 9, INCOMPATIBLE",
    })
    void shouldJudgeTypeChanges(String sink, int sinkTypmod, String source, int sourceTypmod, Verdict expected) {
        assertThat(TypeRules.compare(sink, sinkTypmod, source, sourceTypmod).verdict()).isEqualTo(expected);
    }

    @ParameterizedTest(name = "numeric({0},{1}) -> numeric({2},{3}): {4}")
    @CsvSource({
            "10, 2, 12, 2, WIDEN",
            "10, 2, 12, 4, WIDEN",
            "10, 2, 10, 4, INCOMPATIBLE",
            "12, 4, 10, 2, NARROWER",
            "10, 2, 10, 2, SAME",
            "10, 2, 9, 2, NARROWER",
            "5, -2, 8, 0, WIDEN",
    })
    void shouldWidenNumericOnlyWhenNoDigitIsLost(int p1, int s1, int p2, int s2, Verdict expected) {
        assertThat(TypeRules.compare("numeric", numeric(p1, s1), "numeric", numeric(p2, s2)).verdict()).isEqualTo(expected);
    }

    @ParameterizedTest(name = "numeric typmod {0} -> {1}: {2}")
    @CsvSource({"-1, 786438, NARROWER", "786438, -1, WIDEN"})
    void shouldTreatUnconstrainedNumericAsTheWidest(int sink, int source, Verdict expected) {
        assertThat(TypeRules.compare("numeric", sink, "numeric", source).verdict()).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({"int4[], _int4", "int4, int4", "mood[], _mood"})
    void shouldNameArraysAsPgTypeDoes(String wire, String typname) {
        assertThat(TypeRules.typname(wire)).isEqualTo(typname);
    }

    @ParameterizedTest
    @CsvSource({"50, 10"})
    void shouldSayWhyANarrowingIsNotFollowed(int from, int to) {
        assertThat(TypeRules.compare("varchar", varchar(from), "varchar", varchar(to)).reason()).contains("narrowed");
    }
}
