package io.vrsky.consumer.encode;

import io.vrsky.consumer.pgoutput.PgOutputException;
import io.vrsky.core.codec.Dates;
import io.vrsky.core.codec.JsonBuffer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.util.Base64;

/**
 * Writes a value pgoutput sent in text form as the JSON kind DESIGN.md fixes for its type,
 * straight from the message's UTF-8 bytes: integers and floats are checked and copied, strings
 * (json and jsonb documents among them, as the text PostgreSQL prints) escaped while copied, timestamps converted digit by digit; only the rare shapes
 * (arrays, bytea escape form, unusual timestamps) go through a String. Stateless and thread-safe.
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

    private static final byte[] TRUE = {'t', 'r', 'u', 'e'};
    private static final byte[] FALSE = {'f', 'a', 'l', 's', 'e'};

    /**
     * Writes the value in {@code d[off, off+len)} (UTF-8 text; never SQL NULL, which the caller
     * writes) as a JSON value. On an exception the caller drops what was written.
     *
     * @throws PgOutputException when the text is not a valid value of the type
     */
    public void write(JsonBuffer out, PgType type, byte[] d, int off, int len) {
        switch (type.kind()) {
            case INTEGER -> {
                if (!isInteger(d, off, len)) {
                    throw new PgOutputException("not an integer of type " + type.name());
                }
                out.raw(d, off, len);
            }
            case FLOAT -> {
                if (is(d, off, len, "-0")) {
                    out.string(d, off, len); // a JSON number -0 reads back as integer 0: keep the sign as text
                } else if (isJsonNumber(d, off, len)) {
                    out.raw(d, off, len);
                } else if (is(d, off, len, "NaN") || is(d, off, len, "Infinity") || is(d, off, len, "-Infinity")) {
                    out.string(d, off, len);
                } else {
                    throw new PgOutputException("not a floating point value of type " + type.name());
                }
            }
            case BOOLEAN -> {
                if (len == 1 && d[off] == 't') {
                    out.raw(TRUE);
                } else if (len == 1 && d[off] == 'f') {
                    out.raw(FALSE);
                } else {
                    throw new PgOutputException("not a boolean of type " + type.name());
                }
            }
            case JSON -> out.string(d, off, len); // the document's text as PostgreSQL prints it: spacing, key order, digits kept
            case BYTEA -> {
                byte[] bytes = len >= 2 && d[off] == '\\' && d[off + 1] == 'x' ? byteaHex(d, off + 2, len - 2) : bytea(text(d, off, len));
                out.raw((byte) '"').raw(Base64.getEncoder().encode(bytes)).raw((byte) '"');
            }
            case TIMESTAMP -> {
                if (!timestamp(out, d, off, len)) {
                    out.string(timestamp(text(d, off, len)));
                }
            }
            case TIMESTAMPTZ -> {
                if (!fastTimestamptz(out, d, off, len)) {
                    out.string(timestamptz(text(d, off, len)));
                }
            }
            case ARRAY -> new ArrayLiteral(text(d, off, len), type.delimiter()).write(out, type.element(), this);
            case NUMERIC, DATE, TIME, STRING -> out.string(d, off, len);
        }
    }

    /** Writes {@code text} (never null) as a JSON value: the same as {@link #write(JsonBuffer, PgType, byte[], int, int)} on its UTF-8. */
    public void write(JsonBuffer out, PgType type, String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        write(out, type, utf8, 0, utf8.length);
    }

    private static String text(byte[] d, int off, int len) {
        return new String(d, off, len, StandardCharsets.UTF_8);
    }

    private static boolean is(byte[] d, int off, int len, String ascii) {
        if (len != ascii.length()) {
            return false;
        }
        for (int i = 0; i < len; i++) {
            if (d[off + i] != ascii.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    static boolean isInteger(byte[] d, int off, int len) {
        int i = len > 0 && d[off] == '-' ? 1 : 0;
        if (i == len) {
            return false;
        }
        for (; i < len; i++) {
            byte c = d[off + i];
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /** The JSON number grammar: {@code -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?}. */
    static boolean isJsonNumber(byte[] d, int off, int len) {
        int n = off + len;
        int i = off;
        if (i < n && d[i] == '-') {
            i++;
        }
        if (i >= n) {
            return false;
        }
        if (d[i] == '0') {
            i++;
        } else if (isDigit(d[i])) {
            while (i < n && isDigit(d[i])) {
                i++;
            }
        } else {
            return false;
        }
        if (i < n && d[i] == '.') {
            i++;
            int start = i;
            while (i < n && isDigit(d[i])) {
                i++;
            }
            if (i == start) {
                return false;
            }
        }
        if (i < n && (d[i] == 'e' || d[i] == 'E')) {
            i++;
            if (i < n && (d[i] == '+' || d[i] == '-')) {
                i++;
            }
            int start = i;
            while (i < n && isDigit(d[i])) {
                i++;
            }
            if (i == start) {
                return false;
            }
        }
        return i == n;
    }

    private static boolean isDigit(byte c) {
        return c >= '0' && c <= '9';
    }

    /** The hex digits after {@code \x}. */
    private static byte[] byteaHex(byte[] d, int off, int len) {
        if (len % 2 != 0) {
            throw new PgOutputException("bytea hex text has an odd number of digits");
        }
        byte[] bytes = new byte[len / 2];
        for (int i = 0; i < bytes.length; i++) {
            int hi = Character.digit(d[off + 2 * i], 16);
            int lo = Character.digit(d[off + 2 * i + 1], 16);
            if (hi < 0 || lo < 0) {
                throw new PgOutputException("bytea hex text has a non-hex digit");
            }
            bytes[i] = (byte) (hi << 4 | lo);
        }
        return bytes;
    }

    /**
     * {@link #timestamp(String)} on printable ASCII bytes, written as a JSON string; false (nothing
     * written) for anything else.
     */
    private static boolean timestamp(JsonBuffer out, byte[] d, int off, int len) {
        for (int i = 0; i < len; i++) {
            byte c = d[off + i];
            if (c < 0x20 || c == '"' || c == '\\') { // negative too: not ASCII
                return false;
            }
        }
        if (len < 19 || d[off + 10] != ' ' || d[off + 4] != '-' || indexOf(d, off + 11, off + len, (byte) ' ') >= 0) {
            out.raw((byte) '"').raw(d, off, len).raw((byte) '"');
            return true;
        }
        out.raw((byte) '"').raw(d, off, 10).raw((byte) 'T').raw(d, off + 11, 8).raw((byte) '.');
        int fraction = 0;
        if (len > 20 && d[off + 19] == '.') {
            fraction = len - 20;
            out.raw(d, off + 20, fraction);
        }
        for (int i = fraction; i < 6; i++) {
            out.raw((byte) '0');
        }
        out.raw((byte) '"');
        return true;
    }

    private static int indexOf(byte[] d, int from, int to, byte b) {
        for (int i = from; i < to; i++) {
            if (d[i] == b) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The common shape {@code yyyy-MM-dd HH:mm:ss[.f{1,6}]±HH[:mm[:ss]]} converted to UTC digit by
     * digit and written as a JSON string; false (nothing written) for anything else, which then
     * goes through {@link #timestamptz(String)}.
     */
    private static boolean fastTimestamptz(JsonBuffer out, byte[] d, int off, int n) {
        if (n < 22 || d[off + 4] != '-' || d[off + 7] != '-' || d[off + 10] != ' ' || d[off + 13] != ':' || d[off + 16] != ':') {
            return false;
        }
        int year = digits(d, off, 4);
        int month = digits(d, off + 5, 2);
        int day = digits(d, off + 8, 2);
        int hour = digits(d, off + 11, 2);
        int minute = digits(d, off + 14, 2);
        int second = digits(d, off + 17, 2);
        int i = 19;
        int micros = 0;
        if (d[off + i] == '.') {
            int start = ++i;
            while (i < n && isDigit(d[off + i])) {
                i++;
            }
            int len = i - start;
            if (len == 0 || len > 6) {
                return false;
            }
            micros = digits(d, off + start, len);
            for (int k = len; k < 6; k++) {
                micros *= 10;
            }
        }
        if (i >= n || (d[off + i] != '+' && d[off + i] != '-')) {
            return false;
        }
        int sign = d[off + i] == '-' ? -1 : 1;
        int rest = n - i - 1;
        int at = off + i + 1;
        int offset;
        if (rest == 2) {
            offset = digits(d, at, 2) * 3600;
        } else if (rest == 5 && d[at + 2] == ':') {
            offset = digits(d, at, 2) * 3600 + digits(d, at + 3, 2) * 60;
        } else if (rest == 8 && d[at + 2] == ':' && d[at + 5] == ':') {
            offset = digits(d, at, 2) * 3600 + digits(d, at + 3, 2) * 60 + digits(d, at + 6, 2);
        } else {
            return false;
        }
        if ((year | month | day | hour | minute | second | micros | offset) < 0 || month < 1 || month > 12 || day < 1
                || day > Dates.lengthOfMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
            return false;
        }
        long epochSecond = Dates.daysFromCivil(year, month, day) * 86_400L + hour * 3600L + minute * 60L + second - sign * (long) offset;
        long days = Math.floorDiv(epochSecond, 86_400L);
        if (days < Dates.MIN_DAY || days > Dates.MAX_DAY) {
            return false;
        }
        int p = out.reserve(29);
        byte[] b = out.array();
        b[p++] = '"';
        p = Dates.writeDate(b, p, days);
        b[p++] = 'T';
        p = Dates.writeTime(b, p, (int) Math.floorMod(epochSecond, 86_400L));
        b[p++] = '.';
        p = Dates.writeDigits(b, p, micros, 6);
        b[p++] = 'Z';
        b[p] = '"';
        return true;
    }

    /** The non-negative number in {@code d[from, from+len)}, or -1 when a byte is not a digit. */
    private static int digits(byte[] d, int from, int len) {
        int v = 0;
        for (int k = from; k < from + len; k++) {
            byte c = d[k];
            if (!isDigit(c)) {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
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
        try {
            OffsetDateTime t = OffsetDateTime.parse(text, PG_TIMESTAMPTZ);
            return ISO_UTC_MICROS.format(t.withOffsetSameInstant(ZoneOffset.UTC));
        } catch (DateTimeParseException e) {
            throw new PgOutputException("not a timestamptz in ISO DateStyle", e);
        }
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

        void write(JsonBuffer g, PgType element, ValueDecoder values) {
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

        private void array(JsonBuffer g, PgType element, ValueDecoder values) {
            pos++; // '{'
            g.raw((byte) '[');
            skipSpace();
            if (peek() == '}') {
                pos++;
                g.raw((byte) ']');
                return;
            }
            boolean first = true;
            while (true) {
                if (!first) {
                    g.raw((byte) ',');
                }
                first = false;
                skipSpace();
                char c = peek();
                if (c == '{') {
                    array(g, element, values);
                } else if (c == '"') {
                    values.write(g, element, quoted());
                } else {
                    String item = unquoted();
                    if (item.equalsIgnoreCase("NULL")) {
                        g.nullValue();
                    } else {
                        values.write(g, element, item);
                    }
                }
                skipSpace();
                c = peek();
                pos++;
                if (c == '}') {
                    g.raw((byte) ']');
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
