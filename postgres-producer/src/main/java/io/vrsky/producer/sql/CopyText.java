package io.vrsky.producer.sql;

import java.util.Arrays;

/**
 * Rows in PostgreSQL's COPY text format, encoded straight to UTF-8 bytes: columns separated by a
 * tab, rows ended by a newline, {@code \N} for NULL, and backslash, newline, carriage return and tab
 * inside a value escaped with a backslash. Each value is the same text the {@code unnest}
 * statements bind, so the column's input function reads the same thing either way. A lone UTF-16
 * surrogate becomes {@code ?}, as PgJDBC encodes bound strings.
 *
 * <p>Reused for every COPY: {@link #reset()} keeps the buffer. Not thread-safe.
 */
public final class CopyText {

    private byte[] buffer;
    private int length;
    private boolean rowStarted;

    public CopyText(int initialCapacity) {
        this.buffer = new byte[Math.max(64, initialCapacity)];
    }

    public void reset() {
        length = 0;
        rowStarted = false;
    }

    /** Empties the buffer and gives back its memory when it grew beyond {@code maxCapacity} (after a huge row). */
    public void shrink(int maxCapacity) {
        reset();
        if (buffer.length > maxCapacity) {
            buffer = new byte[maxCapacity];
        }
    }

    public int length() {
        return length;
    }

    public byte[] buffer() {
        return buffer;
    }

    /** Appends one column value (null = SQL NULL) to the current row. */
    @SuppressWarnings("deprecation") // String.getBytes(int, int, byte[], int): the bytes of a plain ASCII value
    public void value(String value) {
        int n = value == null ? 0 : value.length();
        ensure(3 * n + 3); // a char takes at most 3 bytes (a surrogate pair 4 for 2 chars), an escape 2
        if (rowStarted) {
            buffer[length++] = '\t';
        }
        rowStarted = true;
        if (value == null) {
            buffer[length++] = '\\';
            buffer[length++] = 'N';
            return;
        }
        int i = 0;
        while (i < n) {
            char c = value.charAt(i);
            if (c < 0x20 || c == '\\' || c >= 0x80) {
                break;
            }
            i++;
        }
        if (i == n) {
            value.getBytes(0, n, buffer, length);
            length += n;
            return;
        }
        value.getBytes(0, i, buffer, length);
        length += i;
        byte[] b = buffer;
        int at = length;
        for (; i < n; i++) {
            char c = value.charAt(i);
            if (c < 0x80) {
                switch (c) {
                    case '\\' -> {
                        b[at++] = '\\';
                        b[at++] = '\\';
                    }
                    case '\n' -> {
                        b[at++] = '\\';
                        b[at++] = 'n';
                    }
                    case '\r' -> {
                        b[at++] = '\\';
                        b[at++] = 'r';
                    }
                    case '\t' -> {
                        b[at++] = '\\';
                        b[at++] = 't';
                    }
                    default -> b[at++] = (byte) c;
                }
            } else if (c < 0x800) {
                b[at++] = (byte) (0xC0 | c >> 6);
                b[at++] = (byte) (0x80 | c & 0x3F);
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(value.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, value.charAt(++i));
                b[at++] = (byte) (0xF0 | cp >> 18);
                b[at++] = (byte) (0x80 | cp >> 12 & 0x3F);
                b[at++] = (byte) (0x80 | cp >> 6 & 0x3F);
                b[at++] = (byte) (0x80 | cp & 0x3F);
            } else if (Character.isSurrogate(c)) {
                b[at++] = '?';
            } else {
                b[at++] = (byte) (0xE0 | c >> 12);
                b[at++] = (byte) (0x80 | c >> 6 & 0x3F);
                b[at++] = (byte) (0x80 | c & 0x3F);
            }
        }
        length = at;
    }

    /** Ends the current row. */
    public void endRow() {
        put((byte) '\n');
        rowStarted = false;
    }

    private void put(byte b) {
        ensure(1);
        buffer[length++] = b;
    }

    private void ensure(int more) {
        if (length + more > buffer.length) {
            buffer = Arrays.copyOf(buffer, Math.max(buffer.length * 2, length + more));
        }
    }
}
