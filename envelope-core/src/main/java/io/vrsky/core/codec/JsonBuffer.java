package io.vrsky.core.codec;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;

/**
 * A growable byte array that JSON is written into directly as UTF-8: fragments prepared once
 * (field names, a relation's {@code columns} array) are copied, and values read from pgoutput's
 * bytes are escaped straight from those bytes, with no String in between. Compact output, the
 * same text Jackson writes for the same values (escapes for {@code "}, {@code \} and control
 * characters; other characters as they are).
 *
 * <p>Not thread-safe; reused (see {@link #reset()}).
 */
public final class JsonBuffer {

    private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);
    /** Per byte below 0x80: 0 = copy, 1 = two-character escape (backslash n ...), 2 = six-character escape (backslash u00XX). */
    private static final byte[] ESCAPE = new byte[128];
    private static final byte[] SHORT = new byte[128];

    static {
        for (int c = 0; c < 0x20; c++) {
            ESCAPE[c] = 2;
        }
        shortEscape('"', '"');
        shortEscape('\\', '\\');
        shortEscape('\b', 'b');
        shortEscape('\t', 't');
        shortEscape('\n', 'n');
        shortEscape('\f', 'f');
        shortEscape('\r', 'r');
    }

    private static void shortEscape(char c, char escaped) {
        ESCAPE[c] = 1;
        SHORT[c] = (byte) escaped;
    }

    private byte[] buf;
    private int len;

    public JsonBuffer(int initialCapacity) {
        this.buf = new byte[Math.max(16, initialCapacity)];
    }

    public int length() {
        return len;
    }

    /** The backing array; valid up to {@link #length()}. */
    public byte[] array() {
        return buf;
    }

    public void reset() {
        len = 0;
    }

    /** Drops what was written after the first {@code length} bytes (a value that could not be written whole). */
    public void truncate(int length) {
        if (length < 0 || length > len) {
            throw new IllegalArgumentException("length " + length + " outside 0.." + len);
        }
        len = length;
    }

    /** A copy of the bytes written. */
    public byte[] toByteArray() {
        return Arrays.copyOf(buf, len);
    }

    private void ensure(int more) {
        int need = len + more;
        if (need > buf.length) {
            if (need < 0) {
                throw new OutOfMemoryError("JSON buffer larger than 2 GiB");
            }
            buf = Arrays.copyOf(buf, Math.max(need, buf.length * 2));
        }
    }

    public JsonBuffer raw(byte b) {
        ensure(1);
        buf[len++] = b;
        return this;
    }

    public JsonBuffer raw(byte[] bytes) {
        return raw(bytes, 0, bytes.length);
    }

    public JsonBuffer raw(byte[] bytes, int off, int n) {
        ensure(n);
        System.arraycopy(bytes, off, buf, len, n);
        len += n;
        return this;
    }

    /** Text known to be ASCII that needs no escaping (digits, LSNs, fixed names). */
    public JsonBuffer ascii(String s) {
        int n = s.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            buf[len++] = (byte) s.charAt(i);
        }
        return this;
    }

    /** {@code null}. */
    public JsonBuffer nullValue() {
        ensure(4);
        buf[len++] = 'n';
        buf[len++] = 'u';
        buf[len++] = 'l';
        buf[len++] = 'l';
        return this;
    }

    public JsonBuffer bool(boolean b) {
        return ascii(b ? "true" : "false");
    }

    /** A JSON number. */
    public JsonBuffer number(long v) {
        if (v == Long.MIN_VALUE) {
            return ascii(Long.toString(v));
        }
        ensure(20);
        if (v < 0) {
            buf[len++] = '-';
            v = -v;
        }
        int digits = 1;
        for (long t = v; t >= 10; t /= 10) {
            digits++;
        }
        int end = len + digits;
        for (int i = end - 1; i >= len; i--) {
            buf[i] = (byte) ('0' + v % 10);
            v /= 10;
        }
        len = end;
        return this;
    }

    /** A JSON string from a Java string. */
    public JsonBuffer string(String s) {
        raw((byte) '"');
        stringContent(s);
        return raw((byte) '"');
    }

    /** The escaped characters of a JSON string, without the quotes. */
    public JsonBuffer stringContent(String s) {
        int n = s.length();
        boolean ascii = true;
        for (int i = 0; i < n && ascii; i++) {
            ascii = s.charAt(i) < 0x80;
        }
        if (!ascii) {
            byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
            return escapeValidUtf8(utf8, 0, utf8.length);
        }
        ensure(n);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (ESCAPE[c] == 0) {
                buf[len++] = (byte) c;
            } else {
                escape(c);
                ensure(n - i - 1);
            }
        }
        return this;
    }

    /**
     * A JSON string from UTF-8 bytes (PostgreSQL's text form of a value). Malformed UTF-8 is
     * decoded the way {@code new String(bytes, UTF_8)} does it (U+FFFD for each bad sequence).
     */
    public JsonBuffer string(byte[] src, int off, int n) {
        raw((byte) '"');
        stringContent(src, off, n);
        return raw((byte) '"');
    }

    /** The escaped characters of a JSON string from UTF-8 bytes, without the quotes. */
    public JsonBuffer stringContent(byte[] src, int off, int n) {
        if (JsonText.plainLength(src, off, n) == n) { // the usual case: ASCII with nothing to escape
            return raw(src, off, n);
        }
        if (!Utf8.isValid(src, off, n)) {
            return stringContent(new String(src, off, n, StandardCharsets.UTF_8));
        }
        return escapeValidUtf8(src, off, n);
    }

    private JsonBuffer escapeValidUtf8(byte[] src, int off, int n) {
        ensure(n);
        int end = off + n;
        int run = off; // start of the bytes not copied yet
        for (int i = off; i < end; i++) {
            int b = src[i];
            if (b >= 0 && ESCAPE[b] != 0) { // bytes >= 0x80 are negative: part of a multi-byte character, copied
                System.arraycopy(src, run, buf, len, i - run);
                len += i - run;
                escape(b);
                ensure(end - i);
                run = i + 1;
            }
        }
        System.arraycopy(src, run, buf, len, end - run);
        len += end - run;
        return this;
    }

    private void escape(int c) {
        ensure(6);
        buf[len++] = '\\';
        if (ESCAPE[c] == 1) {
            buf[len++] = SHORT[c];
        } else {
            buf[len++] = 'u';
            buf[len++] = '0';
            buf[len++] = '0';
            buf[len++] = HEX[c >> 4];
            buf[len++] = HEX[c & 0xF];
        }
    }

    /** Valid UTF-8 copied as it is (a JSON document PostgreSQL produced); malformed bytes as U+FFFD. */
    public JsonBuffer rawUtf8(byte[] src, int off, int n) {
        int plain = JsonText.plainLength(src, off, n); // ASCII up to here: only the rest needs checking
        if (plain == n || Utf8.isValid(src, off + plain, n - plain)) {
            return raw(src, off, n);
        }
        byte[] fixed = new String(src, off, n, StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8);
        return raw(fixed);
    }

    /** An LSN as PostgreSQL writes it: {@code 16/B374D848}, upper-case hex, no quotes. */
    public JsonBuffer lsn(long lsn) {
        ensure(17);
        hex(lsn >>> 32);
        buf[len++] = '/';
        hex(lsn & 0xFFFF_FFFFL);
        return this;
    }

    private void hex(long v) {
        int digits = v == 0 ? 1 : (64 - Long.numberOfLeadingZeros(v) + 3) / 4;
        for (int i = digits - 1; i >= 0; i--) {
            buf[len++] = HEX[(int) (v >>> (4 * i)) & 0xF];
        }
    }

    private static final byte[] LOWER_HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    /** A UUID as {@link java.util.UUID#toString()} writes it (lower-case, 8-4-4-4-12), no quotes. */
    public JsonBuffer uuid(long msb, long lsb) {
        ensure(36);
        lowerHex(msb >>> 32, 8);
        buf[len++] = '-';
        lowerHex(msb >>> 16, 4);
        buf[len++] = '-';
        lowerHex(msb, 4);
        buf[len++] = '-';
        lowerHex(lsb >>> 48, 4);
        buf[len++] = '-';
        lowerHex(lsb, 12);
        return this;
    }

    private void lowerHex(long v, int digits) {
        for (int i = digits - 1; i >= 0; i--) {
            buf[len + i] = LOWER_HEX[(int) v & 0xF];
            v >>>= 4;
        }
        len += digits;
    }

    /** An instant as {@link Instant#toString()} writes it (ISO-8601 in UTC, fraction in groups of three digits), no quotes. */
    public JsonBuffer instant(Instant t) {
        long seconds = t.getEpochSecond();
        long days = Math.floorDiv(seconds, 86_400L);
        if (days < Dates.MIN_DAY || days > Dates.MAX_DAY) {
            return ascii(t.toString());
        }
        int secondOfDay = (int) Math.floorMod(seconds, 86_400L);
        ensure(30);
        len = Dates.writeDate(buf, len, days);
        buf[len++] = 'T';
        len = Dates.writeTime(buf, len, secondOfDay);
        int nanos = t.getNano();
        if (nanos != 0) {
            buf[len++] = '.';
            if (nanos % 1_000_000 == 0) {
                len = Dates.writeDigits(buf, len, nanos / 1_000_000, 3);
            } else if (nanos % 1000 == 0) {
                len = Dates.writeDigits(buf, len, nanos / 1000, 6);
            } else {
                len = Dates.writeDigits(buf, len, nanos, 9);
            }
        }
        buf[len++] = 'Z';
        return this;
    }

    /** Reserves {@code n} bytes for the caller to fill through {@link #array()} from the returned offset. */
    public int reserve(int n) {
        ensure(n);
        int at = len;
        len += n;
        return at;
    }

    @Override
    public String toString() {
        return new String(buf, 0, len, StandardCharsets.UTF_8);
    }
}
