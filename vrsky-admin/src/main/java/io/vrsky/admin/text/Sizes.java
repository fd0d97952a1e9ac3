package io.vrsky.admin.text;

import java.time.Duration;
import java.util.Locale;

/** Human forms of byte counts and durations for the tables. */
public final class Sizes {

    private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};

    private Sizes() {
    }

    /** {@code 512 B}, {@code 1.5 KiB}, {@code 12.0 MiB}; {@code -} for null. */
    public static String bytes(Long bytes) {
        if (bytes == null) {
            return "-";
        }
        if (bytes < 1024) {
            return bytes + " B";
        }
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < UNITS.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, UNITS[unit]);
    }

    /** {@code 7d}, {@code 12h}, {@code 90s}; {@code none} for null or zero. */
    public static String duration(Duration d) {
        if (d == null || d.isZero()) {
            return "none";
        }
        return io.vrsky.core.config.Env.format(d);
    }

    /** A limit that is -1 (or 0) when unlimited. */
    public static String limit(long value, boolean isBytes) {
        if (value <= 0) {
            return "none";
        }
        return isBytes ? bytes(value) : Long.toString(value);
    }
}
