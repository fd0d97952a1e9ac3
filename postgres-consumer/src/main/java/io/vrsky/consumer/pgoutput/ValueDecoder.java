package io.vrsky.consumer.pgoutput;

import com.fasterxml.jackson.core.JsonGenerator;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;

/**
 * Writes a value pgoutput sent in text form as the JSON kind DESIGN.md fixes for its type.
 * Stateless and thread-safe.
 *
 * <p>Text forms are those of a walsender session opened by PgJDBC: DateStyle ISO,
 * {@code bytea_output} hex (the escape form is read too), IntervalStyle postgres.
 */
public final class ValueDecoder {

    private static final DateTimeFormatter PG_TIMESTAMPTZ = new DateTimeFormatterBuilder()
            .appendValue(ChronoField.YEAR, 4, 10, java.time.format.SignStyle.NORMAL)
            .appendPattern("-MM-dd HH:mm:ss")
            .optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 1, 9, true).optionalEnd()
            .appendOffset("+HH:mm:ss", "Z")
            .toFormatter();
    private static final DateTimeFormatter ISO_UTC_MICROS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'");

    /**
     * Writes {@code text} (never null: SQL NULL is written by the caller) as a JSON value.
     *
     * @throws PgOutputException when the text is not a valid value of the type
     */
    public void write(JsonGenerator g, PgType type, String text) throws IOException {
        switch (type.kind()) {
            case INTEGER -> {
                if (!isInteger(text)) {
                    throw new PgOutputException("not an integer of type " + type.name());
                }
                g.writeNumber(text);
            }
            case FLOAT -> {
                if (isJsonNumber(text)) {
                    g.writeNumber(text);
                } else if (text.equals("NaN") || text.equals("Infinity") || text.equals("-Infinity")) {
                    g.writeString(text);
                } else {
                    throw new PgOutputException("not a floating point value of type " + type.name());
                }
            }
            case BOOLEAN -> {
                if (text.equals("t")) {
                    g.writeBoolean(true);
                } else if (text.equals("f")) {
                    g.writeBoolean(false);
                } else {
                    throw new PgOutputException("not a boolean of type " + type.name());
                }
            }
            case JSON -> g.writeRawValue(text);
            case BYTEA -> g.writeBinary(bytea(text));
            case TIMESTAMP -> g.writeString(timestamp(text));
            case TIMESTAMPTZ -> g.writeString(timestamptz(text));
            case ARRAY -> new ArrayLiteral(text, type.delimiter()).write(g, type.element(), this);
            case NUMERIC, DATE, TIME, STRING -> g.writeString(text);
        }
    }

    static boolean isInteger(String s) {
        int i = s.startsWith("-") ? 1 : 0;
        if (i == s.length()) {
            return false;
        }
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /** The JSON number grammar: {@code -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?}. */
    static boolean isJsonNumber(String s) {
        int n = s.length();
        int i = 0;
        if (i < n && s.charAt(i) == '-') {
            i++;
        }
        if (i >= n) {
            return false;
        }
        if (s.charAt(i) == '0') {
            i++;
        } else if (isDigit(s.charAt(i))) {
            while (i < n && isDigit(s.charAt(i))) {
                i++;
            }
        } else {
            return false;
        }
        if (i < n && s.charAt(i) == '.') {
            i++;
            int start = i;
            while (i < n && isDigit(s.charAt(i))) {
                i++;
            }
            if (i == start) {
                return false;
            }
        }
        if (i < n && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            i++;
            if (i < n && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
                i++;
            }
            int start = i;
            while (i < n && isDigit(s.charAt(i))) {
                i++;
            }
            if (i == start) {
                return false;
            }
        }
        return i == n;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** {@code \x0a1b} (hex output) or the escape form ({@code \\} and {@code \ooo}). */
    static byte[] bytea(String text) {
        if (text.startsWith("\\x")) {
            int n = (text.length() - 2) / 2;
            if ((text.length() - 2) % 2 != 0) {
                throw new PgOutputException("bytea hex text has an odd number of digits");
            }
            byte[] bytes = new byte[n];
            for (int i = 0; i < n; i++) {
                int hi = Character.digit(text.charAt(2 + 2 * i), 16);
                int lo = Character.digit(text.charAt(3 + 2 * i), 16);
                if (hi < 0 || lo < 0) {
                    throw new PgOutputException("bytea hex text has a non-hex digit");
                }
                bytes[i] = (byte) (hi << 4 | lo);
            }
            return bytes;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != '\\') {
                out.write(c);
            } else if (i + 1 < text.length() && text.charAt(i + 1) == '\\') {
                out.write('\\');
                i++;
            } else if (i + 3 < text.length()) {
                out.write(Integer.parseInt(text.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                throw new PgOutputException("bytea escape text has a bad escape");
            }
        }
        return out.toByteArray();
    }

    /**
     * {@code 2026-02-17 10:00:00.12} to {@code 2026-02-17T10:00:00.120000}; infinity, BC dates and
     * years past 9999 keep PostgreSQL's text.
     */
    static String timestamp(String text) {
        if (text.length() < 19 || text.charAt(10) != ' ' || text.charAt(4) != '-' || text.indexOf(' ', 11) >= 0) {
            return text;
        }
        StringBuilder sb = new StringBuilder(26).append(text, 0, 10).append('T').append(text, 11, 19).append('.');
        int fraction = 0;
        if (text.length() > 20 && text.charAt(19) == '.') {
            fraction = text.length() - 20;
            sb.append(text, 20, text.length());
        }
        for (int i = fraction; i < 6; i++) {
            sb.append('0');
        }
        return sb.toString();
    }

    /**
     * {@code 2026-02-17 11:00:00.12+01} to {@code 2026-02-17T10:00:00.120000Z}; infinity and BC
     * dates keep PostgreSQL's text.
     */
    static String timestamptz(String text) {
        if (text.endsWith("infinity") || text.endsWith(" BC")) {
            return text;
        }
        String fast = fastTimestamptz(text);
        if (fast != null) {
            return fast;
        }
        try {
            OffsetDateTime t = OffsetDateTime.parse(text, PG_TIMESTAMPTZ);
            return ISO_UTC_MICROS.format(t.withOffsetSameInstant(ZoneOffset.UTC));
        } catch (DateTimeParseException e) {
            throw new PgOutputException("not a timestamptz in ISO DateStyle", e);
        }
    }

    /**
     * The common shape {@code yyyy-MM-dd HH:mm:ss[.f{1,6}]±HH[:mm[:ss]]} without the general parser;
     * null for anything else.
     */
    private static String fastTimestamptz(String t) {
        int n = t.length();
        if (n < 22 || t.charAt(4) != '-' || t.charAt(7) != '-' || t.charAt(10) != ' ' || t.charAt(13) != ':' || t.charAt(16) != ':') {
            return null;
        }
        int year = digits(t, 0, 4);
        int month = digits(t, 5, 2);
        int day = digits(t, 8, 2);
        int hour = digits(t, 11, 2);
        int minute = digits(t, 14, 2);
        int second = digits(t, 17, 2);
        int i = 19;
        int micros = 0;
        if (t.charAt(i) == '.') {
            int start = ++i;
            while (i < n && isDigit(t.charAt(i))) {
                i++;
            }
            int len = i - start;
            if (len == 0 || len > 6) {
                return null;
            }
            micros = digits(t, start, len);
            for (int k = len; k < 6; k++) {
                micros *= 10;
            }
        }
        if (i >= n || (t.charAt(i) != '+' && t.charAt(i) != '-')) {
            return null;
        }
        int sign = t.charAt(i) == '-' ? -1 : 1;
        int rest = n - i - 1;
        int offset;
        if (rest == 2) {
            offset = digits(t, i + 1, 2) * 3600;
        } else if (rest == 5 && t.charAt(i + 3) == ':') {
            offset = digits(t, i + 1, 2) * 3600 + digits(t, i + 4, 2) * 60;
        } else if (rest == 8 && t.charAt(i + 3) == ':' && t.charAt(i + 6) == ':') {
            offset = digits(t, i + 1, 2) * 3600 + digits(t, i + 4, 2) * 60 + digits(t, i + 7, 2);
        } else {
            return null;
        }
        if ((year | month | day | hour | minute | second | micros | offset) < 0 || month < 1 || month > 12 || day < 1
                || day > java.time.YearMonth.of(year, month).lengthOfMonth() || hour > 23 || minute > 59 || second > 59) {
            return null;
        }
        long epochSecond = java.time.LocalDate.of(year, month, day).toEpochDay() * 86_400L + hour * 3600L + minute * 60L + second
                - sign * (long) offset;
        java.time.LocalDateTime utc = java.time.LocalDateTime.ofEpochSecond(epochSecond, 0, ZoneOffset.UTC);
        if (utc.getYear() < 0 || utc.getYear() > 9999) {
            return null;
        }
        StringBuilder sb = new StringBuilder(27);
        pad(sb, utc.getYear(), 4).append('-');
        pad(sb, utc.getMonthValue(), 2).append('-');
        pad(sb, utc.getDayOfMonth(), 2).append('T');
        pad(sb, utc.getHour(), 2).append(':');
        pad(sb, utc.getMinute(), 2).append(':');
        pad(sb, utc.getSecond(), 2).append('.');
        return pad(sb, micros, 6).append('Z').toString();
    }

    /** The non-negative number in {@code t[from, from+len)}, or -1 when a character is not a digit. */
    private static int digits(String t, int from, int len) {
        int v = 0;
        for (int k = from; k < from + len; k++) {
            char c = t.charAt(k);
            if (!isDigit(c)) {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    private static StringBuilder pad(StringBuilder sb, int value, int width) {
        String s = Integer.toString(value);
        for (int k = s.length(); k < width; k++) {
            sb.append('0');
        }
        return sb.append(s);
    }

    /** A PostgreSQL array literal, e.g. {@code {1,2,NULL}}, {@code {{"a b","c\"d"},{e,f}}}, {@code [0:1]={1,2}}. */
    private static final class ArrayLiteral {
        private final String s;
        private final char delimiter;
        private int pos;

        ArrayLiteral(String s, char delimiter) {
            this.s = s;
            this.delimiter = delimiter;
        }

        void write(JsonGenerator g, PgType element, ValueDecoder values) throws IOException {
            if (s.startsWith("[")) {
                int eq = s.indexOf('=');
                if (eq < 0) {
                    throw new PgOutputException("array literal with bounds but no '='");
                }
                pos = eq + 1;
            }
            if (pos >= s.length() || s.charAt(pos) != '{') {
                throw new PgOutputException("not an array literal");
            }
            array(g, element, values);
            skipSpace();
            if (pos != s.length()) {
                throw new PgOutputException("array literal has trailing text");
            }
        }

        private void array(JsonGenerator g, PgType element, ValueDecoder values) throws IOException {
            pos++; // '{'
            g.writeStartArray();
            skipSpace();
            if (peek() == '}') {
                pos++;
                g.writeEndArray();
                return;
            }
            while (true) {
                skipSpace();
                char c = peek();
                if (c == '{') {
                    array(g, element, values);
                } else if (c == '"') {
                    values.write(g, element, quoted());
                } else {
                    String item = unquoted();
                    if (item.equalsIgnoreCase("NULL")) {
                        g.writeNull();
                    } else {
                        values.write(g, element, item);
                    }
                }
                skipSpace();
                c = peek();
                pos++;
                if (c == '}') {
                    g.writeEndArray();
                    return;
                }
                if (c != delimiter) {
                    throw new PgOutputException("array literal: expected '" + delimiter + "' or '}' at " + (pos - 1));
                }
            }
        }

        private String quoted() {
            pos++; // '"'
            StringBuilder sb = new StringBuilder();
            while (true) {
                char c = peek();
                pos++;
                if (c == '"') {
                    return sb.toString();
                }
                if (c == '\\') {
                    c = peek();
                    pos++;
                }
                sb.append(c);
            }
        }

        private String unquoted() {
            int start = pos;
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c == delimiter || c == '}') {
                    break;
                }
                pos++;
            }
            return s.substring(start, pos).trim();
        }

        private char peek() {
            if (pos >= s.length()) {
                throw new PgOutputException("array literal ends too early");
            }
            return s.charAt(pos);
        }

        private void skipSpace() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }
    }
}
