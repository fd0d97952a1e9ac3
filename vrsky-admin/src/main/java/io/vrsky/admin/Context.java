package io.vrsky.admin;

import java.io.PrintWriter;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;

/**
 * What every command gets: the environment (read into {@link AdminSettings} on first use, so that
 * {@code --help} works without any variable), where to write, and the clock. One per run, used by
 * the one thread that runs the command.
 */
final class Context {

    private final Map<String, String> env;
    private final PrintWriter out;
    private final PrintWriter err;
    private final Clock clock;
    private AdminSettings settings;

    Context(Map<String, String> env, PrintWriter out, PrintWriter err, Clock clock) {
        this.env = Map.copyOf(env);
        this.out = Objects.requireNonNull(out, "out");
        this.err = Objects.requireNonNull(err, "err");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** @throws io.vrsky.core.config.ConfigException when a variable is invalid (exit 2) */
    AdminSettings settings() {
        if (settings == null) {
            settings = AdminSettings.fromEnv(env);
        }
        return settings;
    }

    PrintWriter out() {
        return out;
    }

    PrintWriter err() {
        return err;
    }

    Clock clock() {
        return clock;
    }
}
