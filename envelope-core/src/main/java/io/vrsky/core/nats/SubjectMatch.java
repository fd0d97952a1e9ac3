package io.vrsky.core.nats;

/** NATS subject wildcard matching ({@code *} one token, {@code >} the rest). */
public final class SubjectMatch {

    private SubjectMatch() {
    }

    /** Whether every subject matched by {@code subject} is also matched by {@code pattern}. */
    public static boolean covers(String pattern, String subject) {
        String[] p = pattern.split("\\.");
        String[] s = subject.split("\\.");
        for (int i = 0; i < p.length; i++) {
            if (p[i].equals(">")) {
                return i < s.length;
            }
            if (i >= s.length) {
                return false;
            }
            if (p[i].equals("*")) {
                if (s[i].equals(">")) {
                    return false;
                }
                continue;
            }
            if (!p[i].equals(s[i])) {
                return false;
            }
        }
        return p.length == s.length;
    }
}
