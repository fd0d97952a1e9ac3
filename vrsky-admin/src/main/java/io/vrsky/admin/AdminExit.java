package io.vrsky.admin;

/** The exit codes of vrsky-admin, each with one meaning for every command. */
public enum AdminExit {
    /** Done. */
    OK(0),
    /** Refused, or nothing done: a confirmation is missing (no {@code --yes}), a check said no. */
    REFUSED(1),
    /** Bad usage or configuration: an unknown option, a missing or invalid variable. */
    USAGE(2),
    /** PostgreSQL or NATS cannot be reached, or refuses (its own message is printed). */
    DEPENDENCY(3),
    /** What was asked for does not exist: a dead letter, a slot, a publication, a table. */
    NOT_FOUND(4);

    private final int code;

    AdminExit(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
