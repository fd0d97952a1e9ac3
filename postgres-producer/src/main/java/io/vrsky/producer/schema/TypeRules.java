package io.vrsky.producer.schema;

import java.util.Map;

/**
 * Compares a sink column's type with the source's, both as {@code pg_type.typname} and type
 * modifier ({@code atttypmod}, -1 for none): the same, a type the sink column can be widened to
 * without losing or changing a value, or one it cannot follow by itself (narrower, or another kind
 * of value).
 *
 * <p>Widening: {@code int2 → int4 → int8}; {@code varchar(n) → varchar(m > n)}, {@code varchar} or
 * {@code text}; {@code char(n) → char(m > n)}; {@code numeric(p,s)} to one that keeps at least as
 * many integer digits and as much scale, or unconstrained {@code numeric}; more fractional-second
 * precision of {@code time}, {@code timetz}, {@code timestamp}, {@code timestamptz}; arrays by their
 * elements. {@code timestamp → timestamptz} only when the sink column holds no value (the
 * conversion depends on the TimeZone of the session that converts). Pure functions.
 */
final class TypeRules {

    enum Verdict {
        /** Same type and modifier. */
        SAME,
        /** The sink column can be widened to the source's type. */
        WIDEN,
        /** {@code timestamp → timestamptz}: only when the sink column holds no value. */
        WIDEN_IF_EMPTY,
        /** The source's type is narrower than the sink's: following it could fail or change values. */
        NARROWER,
        /** Another kind of value, or neither type holds the other's values. */
        INCOMPATIBLE
    }

    /** A verdict and, for those that are not applied, why (one clause, no row values). */
    record Comparison(Verdict verdict, String reason) {
    }

    private static final Map<String, Integer> INTEGERS = Map.of("int2", 1, "int4", 2, "int8", 3);
    private static final java.util.Set<String> PRECISION_TYPES = java.util.Set.of("time", "timetz", "timestamp", "timestamptz");
    /** {@code VARHDRSZ}: what PostgreSQL adds to a length or precision in a type modifier. */
    private static final int HEADER = 4;

    private TypeRules() {
    }

    /** The source's type name as {@code pg_type.typname}: {@code int4[]} → {@code _int4}. */
    static String typname(String wireType) {
        return wireType.endsWith("[]") ? "_" + wireType.substring(0, wireType.length() - 2) : wireType;
    }

    static Comparison compare(String sinkType, int sinkTypmod, String sourceType, int sourceTypmod) {
        if (sinkType.equals(sourceType) && sinkTypmod == sourceTypmod) {
            return new Comparison(Verdict.SAME, null);
        }
        boolean sinkArray = sinkType.startsWith("_");
        boolean sourceArray = sourceType.startsWith("_");
        if (sinkArray && sourceArray) {
            return compare(sinkType.substring(1), sinkTypmod, sourceType.substring(1), sourceTypmod);
        }
        if (sinkArray || sourceArray) {
            return incompatible("an array and a non-array type hold different values");
        }
        Integer sinkRank = INTEGERS.get(sinkType);
        Integer sourceRank = INTEGERS.get(sourceType);
        if (sinkRank != null && sourceRank != null) {
            return sourceRank > sinkRank ? widen() : narrower();
        }
        if (isVarying(sinkType) && isVarying(sourceType)) {
            return varying(sinkType, sinkTypmod, sourceType, sourceTypmod);
        }
        if (sinkType.equals("bpchar") && sourceType.equals("bpchar")) {
            return lengths(sinkTypmod, sourceTypmod);
        }
        if (sinkType.equals("numeric") && sourceType.equals("numeric")) {
            return numeric(sinkTypmod, sourceTypmod);
        }
        if (sinkType.equals(sourceType) && PRECISION_TYPES.contains(sinkType)) {
            int sink = precision(sinkTypmod);
            int source = precision(sourceTypmod);
            return sink == source ? new Comparison(Verdict.SAME, null) : sink < source ? widen() : narrower();
        }
        if (sinkType.equals("timestamp") && sourceType.equals("timestamptz")) {
            return precision(sourceTypmod) >= precision(sinkTypmod) ? new Comparison(Verdict.WIDEN_IF_EMPTY, null)
                    : incompatible("the source's timestamptz keeps fewer fractional digits than the sink's timestamp");
        }
        if (sinkType.equals(sourceType)) {
            return incompatible("the type modifier differs, and the producer widens only lengths and precisions of the types it knows");
        }
        return incompatible("another type");
    }

    /** varchar and text. */
    private static boolean isVarying(String type) {
        return type.equals("varchar") || type.equals("text");
    }

    /** Unbounded varchar and text hold the same values; text ranks above varchar for the type name. */
    private static Comparison varying(String sinkType, int sinkTypmod, String sourceType, int sourceTypmod) {
        int sinkLength = sinkType.equals("text") ? Integer.MAX_VALUE : length(sinkTypmod);
        int sourceLength = sourceType.equals("text") ? Integer.MAX_VALUE : length(sourceTypmod);
        if (sinkLength != sourceLength) {
            return sourceLength > sinkLength ? widen() : narrower();
        }
        if (sinkType.equals("text") && sourceType.equals("varchar")) {
            return narrower();
        }
        return widen(); // unbounded varchar to text
    }

    private static Comparison lengths(int sinkTypmod, int sourceTypmod) {
        return length(sourceTypmod) > length(sinkTypmod) ? widen() : narrower();
    }

    /** The length of a varchar or char type modifier; unbounded when there is none. */
    private static int length(int typmod) {
        return typmod < HEADER ? Integer.MAX_VALUE : typmod - HEADER;
    }

    private static Comparison numeric(int sinkTypmod, int sourceTypmod) {
        if (sourceTypmod < HEADER) {
            return widen(); // unconstrained numeric holds every value
        }
        if (sinkTypmod < HEADER) {
            return narrower();
        }
        int sinkScale = scale(sinkTypmod);
        int sourceScale = scale(sourceTypmod);
        int sinkDigits = precisionOf(sinkTypmod) - sinkScale;
        int sourceDigits = precisionOf(sourceTypmod) - sourceScale;
        if (sourceScale >= sinkScale && sourceDigits >= sinkDigits) {
            return widen();
        }
        if (sourceScale <= sinkScale && sourceDigits <= sinkDigits) {
            return narrower();
        }
        return incompatible("neither numeric type holds the other's values (integer digits and scale moved in opposite directions)");
    }

    private static int precisionOf(int numericTypmod) {
        return ((numericTypmod - HEADER) >> 16) & 0xffff;
    }

    /** The scale, an 11-bit signed field (PostgreSQL 15 accepts negative scales). */
    private static int scale(int numericTypmod) {
        return (((numericTypmod - HEADER) & 0x7ff) ^ 1024) - 1024;
    }

    /** Fractional-second digits of a time or timestamp type modifier; 6 when there is none. */
    private static int precision(int typmod) {
        return typmod < 0 ? 6 : typmod;
    }

    private static Comparison widen() {
        return new Comparison(Verdict.WIDEN, null);
    }

    private static Comparison narrower() {
        return new Comparison(Verdict.NARROWER, "the source narrowed it, and narrowing the sink column could fail on its values"
                + " or change them");
    }

    private static Comparison incompatible(String reason) {
        return new Comparison(Verdict.INCOMPATIBLE, reason);
    }
}
