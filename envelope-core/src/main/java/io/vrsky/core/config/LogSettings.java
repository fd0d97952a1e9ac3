package io.vrsky.core.config;

import java.util.Set;

/**
 * Checks LOG_FORMAT and LOG_LEVEL, which logback.xml reads directly from the environment: a typo
 * there would otherwise silently lose every log line.
 */
public final class LogSettings {

    private static final Set<String> FORMATS = Set.of("text", "json");
    private static final Set<String> LEVELS = Set.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF");

    private LogSettings() {
    }

    public static void check(Env env) {
        env.checked("LOG_FORMAT", "text", v -> FORMATS.contains(v) ? null : "is not allowed: allowed text | json");
        // logback reads levels in any case
        env.checked("LOG_LEVEL", "INFO", v -> LEVELS.contains(v.toUpperCase(java.util.Locale.ROOT)) ? null
                : "is not allowed: allowed TRACE | DEBUG | INFO | WARN | ERROR | OFF");
    }
}
