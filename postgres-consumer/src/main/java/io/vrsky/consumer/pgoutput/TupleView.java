package io.vrsky.consumer.pgoutput;

import java.util.Arrays;

/**
 * The column values of one row, read in place: where each value lies in the message's bytes, so
 * that the encoder can convert it straight from there. The allocation-free counterpart of
 * {@link TupleData}, filled by {@link PgOutputDecoder#readRow}; valid until the next read.
 *
 * <p>Not thread-safe; owned by the replication thread and reused for every row.
 */
public final class TupleView {

    /** Value kinds as pgoutput marks them. */
    public static final byte NULL = 'n';
    public static final byte UNCHANGED_TOAST = 'u';
    public static final byte TEXT = 't';
    public static final byte BINARY = 'b';

    private byte[] data;
    private int count;
    private byte[] kinds = new byte[16];
    private int[] offsets = new int[16];
    private int[] lengths = new int[16];

    /** Reads a TupleData from {@code data[pos..limit)}; returns the position after it. */
    int read(byte[] data, int pos, int limit, char tag) {
        this.data = data;
        if (pos + 2 > limit) {
            throw PgOutputDecoder.truncated(tag);
        }
        int n = (data[pos] & 0xFF) << 8 | (data[pos + 1] & 0xFF);
        pos += 2;
        if (n > kinds.length) {
            kinds = Arrays.copyOf(kinds, n);
            offsets = Arrays.copyOf(offsets, n);
            lengths = Arrays.copyOf(lengths, n);
        }
        for (int i = 0; i < n; i++) {
            if (pos >= limit) {
                throw PgOutputDecoder.truncated(tag);
            }
            byte kind = data[pos++];
            kinds[i] = kind;
            if (kind == TEXT || kind == BINARY) {
                if (pos + 4 > limit) {
                    throw PgOutputDecoder.truncated(tag);
                }
                int length = PgOutputDecoder.int32(data, pos);
                pos += 4;
                if (length < 0 || length > limit - pos) {
                    throw PgOutputDecoder.truncated(tag);
                }
                offsets[i] = pos;
                lengths[i] = length;
                pos += length;
            } else if (kind != NULL && kind != UNCHANGED_TOAST) {
                throw new PgOutputException("unknown tuple value kind '" + PgOutputDecoder.printable((char) (kind & 0xFF))
                        + "' in column " + i);
            }
        }
        count = n;
        return pos;
    }

    /**
     * Starts filling the view from values that do not come from pgoutput (a snapshot's COPY rows):
     * {@code n} columns whose values lie in {@code data}; set each with {@link #text} or
     * {@link #setNull} before the view is read.
     */
    public void start(byte[] data, int n) {
        this.data = data;
        if (n > kinds.length) {
            kinds = Arrays.copyOf(kinds, n);
            offsets = Arrays.copyOf(offsets, n);
            lengths = Arrays.copyOf(lengths, n);
        }
        count = n;
    }

    /** Column {@code i} holds the text value {@code data[offset, offset + length)}. */
    public void text(int i, int offset, int length) {
        kinds[i] = TEXT;
        offsets[i] = offset;
        lengths[i] = length;
    }

    /** Column {@code i} is NULL. */
    public void setNull(int i) {
        kinds[i] = NULL;
        offsets[i] = 0;
        lengths[i] = 0;
    }

    public int size() {
        return count;
    }

    /** {@link #NULL}, {@link #UNCHANGED_TOAST}, {@link #TEXT} or {@link #BINARY}. */
    public byte kind(int i) {
        return kinds[i];
    }

    /** The message bytes the values lie in. */
    public byte[] data() {
        return data;
    }

    /** Where value {@code i} (TEXT or BINARY) starts in {@link #data()}. */
    public int offset(int i) {
        return offsets[i];
    }

    public int length(int i) {
        return lengths[i];
    }
}
