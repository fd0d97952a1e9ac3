package io.vrsky.core.config;

import java.util.regex.Pattern;

/**
 * {@code HEALTH_BIND}: the address the health and metrics endpoint listens on. A literal IPv4 or
 * IPv6 address or a host name; {@code 0.0.0.0} (the default) listens on every interface.
 */
public final class HealthBind {

    public static final String NAME = "HEALTH_BIND";
    public static final String DEFAULT = "0.0.0.0";

    private static final Pattern IPV4 = Pattern.compile("((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*");
    private static final Pattern HOST = Pattern.compile(
            "(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");

    private HealthBind() {
    }

    /** Reads and checks {@code HEALTH_BIND}; a bad value is recorded as a problem of {@code env}. */
    public static String read(Env env) {
        return env.checked(NAME, DEFAULT, v -> isAddress(v) ? null
                : "is not an address: allowed a literal IPv4 or IPv6 address or a host name (0.0.0.0 = every interface)");
    }

    static boolean isAddress(String value) {
        if (IPV4.matcher(value).matches()) {
            return true;
        }
        if (value.contains(":")) {
            return IPV6.matcher(value).matches() && value.chars().filter(c -> c == ':').count() >= 2;
        }
        // a dotted name of digits only is a mistyped IPv4 address, not a host name
        return HOST.matcher(value).matches() && !value.matches("[0-9.]+");
    }
}
