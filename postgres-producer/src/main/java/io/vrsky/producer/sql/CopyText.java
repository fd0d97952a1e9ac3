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
    public void value(String value) {
        if (rowStarted) {
            put((byte) '\t');
        }
        rowStarted = true;
        if (value == null) {
            ensure(2);
            buffer[length++] = '\\';
            buffer[length++] = 'N';
            return;
        }
        int n = value.length();
        ensure(n + 8);
        for (int i = 0; i < n; i++) {
            char c = value.charAt(i);
            if (c < 0x80) {
                switch (c) {
                    case '\\' -> escape('\\');
                    case '\n' -> escape('n');
                    case '\r' -> escape('r');
                    case '\t' -> escape('t');
                    default -> put((byte) c);
                }
            } else if (c < 0x800) {
                ensure(2 + n - i);
                buffer[length++] = (byte) (0xC0 | c >> 6);
                buffer[length++] = (byte) (0x80 | c & 0x3F);
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(value.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, value.charAt(++i));
                ensure(4 + n - i);
                buffer[length++] = (byte) (0xF0 | cp >> 18);
                buffer[length++] = (byte) (0x80 | cp >> 12 & 0x3F);
                buffer[length++] = (byte) (0x80 | cp >> 6 & 0x3F);
                buffer[length++] = (byte) (0x80 | cp & 0x3F);
            } else if (Character.isSurrogate(c)) {
                put((byte) '?');
            } else {
                ensure(3 + n - i);
                buffer[length++] = (byte) (0xE0 | c >> 12);
                buffer[length++] = (byte) (0x80 | c >> 6 & 0x3F);
                buffer[length++] = (byte) (0x80 | c & 0x3F);
            }
        }
    }

    /** Ends the current row. */
    public void endRow() {
        put((byte) '\n');
        rowStarted = false;
    }

    private void escape(char c) {
        ensure(2);
        buffer[length++] = '\\';
        buffer[length++] = (byte) c;
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
