package io.vrsky.consumer.snapshot;

import io.vrsky.consumer.pgoutput.TupleView;

import java.util.Arrays;

/**
 * Reads one row of {@code COPY ... TO STDOUT} text format (tab-separated, {@code \N} for NULL,
 * backslash escapes) into a {@link TupleView}, so a snapshot row goes through the same value
 * conversion as a row pgoutput sends: COPY's text is each type's output function, the same text
 * pgoutput carries. Escapes are undone into a reused buffer; the view points into it.
 *
 * <p>Not thread-safe: one per copying thread.
 */
final class CopyRows {

    private byte[] buffer = new byte[256];

    /**
     * Fills {@code view} with the {@code columns} values of {@code row} (one CopyData message: the
     * row's bytes, usually with a trailing newline).
     *
     * @throws IllegalArgumentException when the row does not hold {@code columns} values
     */
    void read(byte[] row, int columns, TupleView view) {
        int end = row.length;
        if (end > 0 && row[end - 1] == '\n') {
            end--;
        }
        if (buffer.length < end) {
            buffer = Arrays.copyOf(buffer, Math.max(end, buffer.length * 2));
        }
        byte[] out = buffer;
        view.start(out, columns);
        int column = 0;
        int at = 0; // where the next value goes in out
        int pos = 0;
        while (true) {
            if (column >= columns) {
                throw new IllegalArgumentException("a COPY row holds more than " + columns + " values");
            }
            int start = at;
            boolean isNull = pos + 2 <= end && row[pos] == '\\' && row[pos + 1] == 'N' && (pos + 2 == end || row[pos + 2] == '\t');
            if (isNull) {
                pos += 2;
                view.setNull(column);
            } else {
                while (pos < end && row[pos] != '\t') {
                    byte b = row[pos++];
                    if (b != '\\' || pos == end) {
                        out[at++] = b;
                        continue;
                    }
                    byte e = row[pos++];
                    switch (e) {
                        case 'b' -> out[at++] = '\b';
                        case 'f' -> out[at++] = '\f';
                        case 'n' -> out[at++] = '\n';
                        case 'r' -> out[at++] = '\r';
                        case 't' -> out[at++] = '\t';
                        case 'v' -> out[at++] = 0x0B;
                        case 'x' -> {
                            int value = 0;
                            int digits = 0;
                            while (digits < 2 && pos < end && hex(row[pos]) >= 0) {
                                value = value * 16 + hex(row[pos++]);
                                digits++;
                            }
                            out[at++] = digits == 0 ? (byte) 'x' : (byte) value;
                        }
                        default -> {
                            if (e >= '0' && e <= '7') {
                                int value = e - '0';
                                int digits = 1;
                                while (digits < 3 && pos < end && row[pos] >= '0' && row[pos] <= '7') {
                                    value = value * 8 + (row[pos++] - '0');
                                    digits++;
                                }
                                out[at++] = (byte) value;
                            } else {
                                out[at++] = e; // \\ and any other escaped character stand for themselves
                            }
                        }
                    }
                }
                view.text(column, start, at - start);
            }
            column++;
            if (pos >= end) {
                break;
            }
            pos++; // the tab
        }
        if (column != columns) {
            throw new IllegalArgumentException("a COPY row holds " + column + " values, " + columns + " expected");
        }
    }

    private static int hex(byte b) {
        if (b >= '0' && b <= '9') {
            return b - '0';
        }
        if (b >= 'a' && b <= 'f') {
            return b - 'a' + 10;
        }
        if (b >= 'A' && b <= 'F') {
            return b - 'A' + 10;
        }
        return -1;
    }
}
