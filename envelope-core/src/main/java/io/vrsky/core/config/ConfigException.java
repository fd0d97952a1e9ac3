package io.vrsky.core.config;

import java.util.List;

/**
 * Invalid or missing configuration. Holds one line per problem, each naming the variable, the bad
 * value (never a secret) and what is allowed. Carries no stack trace: it is meant for the user.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    public ConfigException(List<String> problems) {
        super(String.join("; ", problems), null, false, false);
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
