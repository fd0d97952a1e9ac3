package io.vrsky.core.codec;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * How much of a UTF-8 text is plain ASCII that a JSON string holds as it is, so
 * {@link JsonBuffer} can copy it without escaping or checking it byte by byte.
 */
final class JsonText {

    /** Eight bytes at a time: on one or two cores the services run C1-compiled code, which does not vectorise a byte loop. */
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long HIGH_BITS = 0x8080808080808080L;
    private static final long ONES = 0x0101010101010101L;

    private JsonText() {
    }

    /**
     * How many bytes from {@code off} (at most {@code n}) are ASCII that stands for itself in a JSON
     * string: not a control character (below 0x20), not {@code "} and not {@code \}.
     */
    static int plainLength(byte[] b, int off, int n) {
        int end = off + n;
        int i = off;
        while (i + 8 <= end) {
            long w = (long) LONGS.get(b, i);
            long controls = (w - 0x2020202020202020L) & ~w; // flags a byte below 0x20 (bytes from 0x80 are flagged by w)
            long quotes = w ^ 0x2222222222222222L; // '"' becomes 0
            long backslashes = w ^ 0x5C5C5C5C5C5C5C5CL; // '\' becomes 0
            if (((w | controls | ((quotes - ONES) & ~quotes) | ((backslashes - ONES) & ~backslashes)) & HIGH_BITS) != 0) {
                break; // somewhere in these eight: the byte loop finds where
            }
            i += 8;
        }
        while (i < end) {
            int c = b[i];
            if (c < 0x20 || c == '"' || c == '\\') { // bytes from 0x80 are negative
                break;
            }
            i++;
        }
        return i - off;
    }
}
