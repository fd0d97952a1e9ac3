package io.vrsky.core.config;

import java.util.Locale;

/** PgJDBC's {@code sslmode} values. */
public enum SslMode {
    DISABLE, ALLOW, PREFER, REQUIRE, VERIFY_CA, VERIFY_FULL;

    /** The spelling PgJDBC expects: {@code verify-full}. */
    public String jdbcValue() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static SslMode read(Env env, String name) {
        String raw = env.string(name, "prefer").toUpperCase(Locale.ROOT).replace('-', '_');
        try {
            return SslMode.valueOf(raw);
        } catch (IllegalArgumentException e) {
            env.problem(name + "=" + env.string(name, "") + " is not allowed: allowed disable | allow | prefer | require | verify-ca | verify-full");
            return PREFER;
        }
    }
}
