package io.vrsky.core.codec;

/**
 * Proleptic Gregorian date arithmetic on plain integers (the civil-from-days algorithms of
 * H. Hinnant), for writing dates without java.time objects. Years 0000-9999 only.
 */
public final class Dates {

    /** Epoch day of 0000-01-01. */
    public static final long MIN_DAY = daysFromCivil(0, 1, 1);
    /** Epoch day of 9999-12-31. */
    public static final long MAX_DAY = daysFromCivil(9999, 12, 31);

    private Dates() {
    }

    /** Days since 1970-01-01 of the given date (month 1-12, day 1-31, not checked). */
    public static long daysFromCivil(long year, int month, int day) {
        long y = month <= 2 ? year - 1 : year;
        long era = Math.floorDiv(y, 400);
        long yoe = y - era * 400;
        long doy = (153L * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
        long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146_097 + doe - 719_468;
    }

    public static int lengthOfMonth(long year, int month) {
        return switch (month) {
            case 2 -> (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28;
            case 4, 6, 9, 11 -> 30;
            default -> 31;
        };
    }

    /** Writes {@code yyyy-MM-dd} of an epoch day in [{@link #MIN_DAY}, {@link #MAX_DAY}]; returns the new position. */
    public static int writeDate(byte[] b, int pos, long epochDay) {
        long z = epochDay + 719_468;
        long era = Math.floorDiv(z, 146_097);
        long doe = z - era * 146_097;
        long yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        long mp = (5 * doy + 2) / 153;
        int day = (int) (doy - (153 * mp + 2) / 5 + 1);
        int month = (int) (mp < 10 ? mp + 3 : mp - 9);
        int year = (int) (yoe + era * 400 + (month <= 2 ? 1 : 0));
        pos = writeDigits(b, pos, year, 4);
        b[pos++] = '-';
        pos = writeDigits(b, pos, month, 2);
        b[pos++] = '-';
        return writeDigits(b, pos, day, 2);
    }

    /** Writes {@code HH:mm:ss}; returns the new position. */
    public static int writeTime(byte[] b, int pos, int secondOfDay) {
        pos = writeDigits(b, pos, secondOfDay / 3600, 2);
        b[pos++] = ':';
        pos = writeDigits(b, pos, secondOfDay / 60 % 60, 2);
        b[pos++] = ':';
        return writeDigits(b, pos, secondOfDay % 60, 2);
    }

    /** Writes a non-negative {@code value} with exactly {@code width} digits (zero-padded); returns the new position. */
    public static int writeDigits(byte[] b, int pos, int value, int width) {
        for (int i = pos + width - 1; i >= pos; i--) {
            b[i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        return pos + width;
    }
}
