package io.vrsky.core.model;

/**
 * A PostgreSQL log sequence number: an unsigned 64-bit WAL position, written {@code X/Y} in hex.
 */
public record Lsn(long value) implements Comparable<Lsn> {

    public static final Lsn ZERO = new Lsn(0);

    /** Parses {@code 16/B374D848}; throws {@link IllegalArgumentException} naming the bad text. */
    public static Lsn parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("LSN is null");
        }
        int slash = text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1) {
            throw new IllegalArgumentException("not an LSN (expected X/Y in hex): " + text);
        }
        try {
            long high = Long.parseUnsignedLong(text.substring(0, slash), 16);
            long low = Long.parseUnsignedLong(text.substring(slash + 1), 16);
            if (high > 0xFFFF_FFFFL || low > 0xFFFF_FFFFL) {
                throw new IllegalArgumentException("not an LSN (each half is 32 bits): " + text);
            }
            return new Lsn(high << 32 | low);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not an LSN (expected X/Y in hex): " + text, e);
        }
    }

    public boolean isAfter(Lsn other) {
        return compareTo(other) > 0;
    }

    @Override
    public int compareTo(Lsn other) {
        return Long.compareUnsigned(value, other.value);
    }

    @Override
    public String toString() {
        return Long.toHexString(value >>> 32).toUpperCase() + "/" + Long.toHexString(value & 0xFFFF_FFFFL).toUpperCase();
    }
}
