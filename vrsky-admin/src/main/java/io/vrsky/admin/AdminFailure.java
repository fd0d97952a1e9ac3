package io.vrsky.admin;

import java.util.List;
import java.util.Objects;

/**
 * A command cannot go on: one or more lines for stderr (never a stack trace, never a password) and
 * the exit code. Carries no stack trace of its own: it is meant for the user.
 */
public final class AdminFailure extends Exception {
    private static final long serialVersionUID = 1L;

    private final AdminExit exit;
    private final List<String> lines;

    public AdminFailure(AdminExit exit, String line) {
        this(exit, List.of(line));
    }

    public AdminFailure(AdminExit exit, List<String> lines) {
        super(String.join("; ", lines), null, false, false);
        this.exit = Objects.requireNonNull(exit, "exit");
        this.lines = List.copyOf(lines);
    }

    public AdminExit exit() {
        return exit;
    }

    public List<String> lines() {
        return lines;
    }
}
