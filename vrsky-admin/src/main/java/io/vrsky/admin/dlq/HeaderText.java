package io.vrsky.admin.dlq;

/**
 * Dead-letter header values are printable ASCII: the services write every other character as
 * {@code \}{@code uXXXX}. This turns those escapes back into the characters, for people.
 */
public final class HeaderText {

    private HeaderText() {
    }

    public static String unescape(String value) {
        if (value == null || value.indexOf("\\u") < 0) {
            return value;
        }
        StringBuilder b = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\' && i + 1 < value.length() && value.charAt(i + 1) == 'u' && hex(value, i + 2)) {
                b.append((char) Integer.parseInt(value.substring(i + 2, i + 6), 16));
                i += 5;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** The first line, at most {@code max} characters (cut ones end with {@code ...}). */
    public static String firstLine(String text, int max) {
        if (text == null) {
            return null;
        }
        int end = text.indexOf('\n');
        String line = end < 0 ? text : text.substring(0, end);
        return line.length() <= max ? line : line.substring(0, Math.max(0, max - 3)) + "...";
    }

    private static boolean hex(String s, int from) {
        if (from + 4 > s.length()) {
            return false;
        }
        for (int i = from; i < from + 4; i++) {
            if (Character.digit(s.charAt(i), 16) < 0) {
                return false;
            }
        }
        return true;
    }
}
