package io.vrsky.core.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Typed reads of environment variables from an injected map. Every read records its problem instead
 * of throwing, so that {@link #validate()} reports all of them together; a bad value is never
 * replaced by a default. Only {@code main} passes {@code System.getenv()}.
 *
 * <p>Not thread-safe: build a configuration on one thread, then share the immutable record.
 */
public final class Env {

    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

    private final Map<String, String> vars;
    private final List<String> problems = new ArrayList<>();

    public Env(Map<String, String> vars) {
        this.vars = Map.copyOf(vars);
    }

    /** The trimmed value, or empty when the variable is unset or blank. */
    public Optional<String> raw(String name) {
        String value = vars.get(name);
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
    }

    public String string(String name, String defaultValue) {
        return raw(name).orElse(defaultValue);
    }

    /** A required variable; records a problem and returns null when missing. */
    public String required(String name, String meaning) {
        Optional<String> value = raw(name);
        if (value.isEmpty()) {
            problems.add(name + " is required (" + meaning + ")");
            return null;
        }
        return value.get();
    }

    /** A secret: never echoed in a problem, may be empty. */
    public String secret(String name) {
        return vars.getOrDefault(name, "");
    }

    public int intInRange(String name, int defaultValue, int min, int max) {
        Optional<String> value = raw(name);
        if (value.isEmpty()) {
            return defaultValue;
        }
        try {
            int parsed = Integer.parseInt(value.get());
            if (parsed < min || parsed > max) {
                problems.add(name + "=" + value.get() + " is out of range: allowed " + min + ".." + max);
                return defaultValue;
            }
            return parsed;
        } catch (NumberFormatException e) {
            problems.add(name + "=" + value.get() + " is not an integer: allowed " + min + ".." + max);
            return defaultValue;
        }
    }

    /** A duration written {@code 500ms}, {@code 5s}, {@code 1m} or {@code 1h}, within [min, max]. */
    public Duration duration(String name, Duration defaultValue, Duration min, Duration max) {
        Optional<String> value = raw(name);
        if (value.isEmpty()) {
            return defaultValue;
        }
        Optional<Duration> parsed = parseDuration(value.get());
        if (parsed.isEmpty()) {
            problems.add(name + "=" + value.get() + " is not a duration: allowed forms are 500ms, 5s, 1m, 1h");
            return defaultValue;
        }
        Duration d = parsed.get();
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            problems.add(name + "=" + value.get() + " is out of range: allowed " + format(min) + ".." + format(max));
            return defaultValue;
        }
        return d;
    }

    public static Optional<Duration> parseDuration(String text) {
        Matcher m = DURATION.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            return Optional.empty();
        }
        long amount;
        try {
            amount = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        return Optional.of(switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            default -> Duration.ofHours(amount);
        });
    }

    private static String format(Duration d) {
        if (d.toMillis() % 1000 != 0) {
            return d.toMillis() + "ms";
        }
        if (d.getSeconds() % 60 != 0) {
            return d.getSeconds() + "s";
        }
        return d.toMinutes() + "m";
    }

    public <E extends Enum<E>> E enumValue(String name, Class<E> type, E defaultValue) {
        Optional<String> value = raw(name);
        if (value.isEmpty()) {
            return defaultValue;
        }
        try {
            return Enum.valueOf(type, value.get().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            problems.add(name + "=" + value.get() + " is not allowed: allowed " + allowed(type));
            return defaultValue;
        }
    }

    /** A comma-separated list of enum names; empty when unset. */
    public <E extends Enum<E>> List<E> enumList(String name, Class<E> type) {
        List<E> result = new ArrayList<>();
        for (String item : list(name)) {
            try {
                E e = Enum.valueOf(type, item.toUpperCase(Locale.ROOT));
                if (!result.contains(e)) {
                    result.add(e);
                }
            } catch (IllegalArgumentException ex) {
                problems.add(name + " contains '" + item + "': allowed a comma list of " + allowed(type));
            }
        }
        return List.copyOf(result);
    }

    /** A comma-separated list, items trimmed, empty items dropped. */
    public List<String> list(String name) {
        return raw(name).map(v -> Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList())
                .orElse(List.of());
    }

    public boolean bool(String name, boolean defaultValue) {
        Optional<String> value = raw(name);
        if (value.isEmpty()) {
            return defaultValue;
        }
        return switch (value.get().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "1" -> true;
            case "false", "no", "0" -> false;
            default -> {
                problems.add(name + "=" + value.get() + " is not a boolean: allowed true or false");
                yield defaultValue;
            }
        };
    }

    /** Records a problem found by a caller's own check (cross-field rules and the like). */
    public void problem(String line) {
        problems.add(line);
    }

    /** A value checked by {@code check}, which returns an error text or null when the value is fine. */
    public String checked(String name, String defaultValue, Function<String, String> check) {
        String value = string(name, defaultValue);
        if (value != null) {
            String error = check.apply(value);
            if (error != null) {
                problems.add(name + "=" + value + " " + error);
            }
        }
        return value;
    }

    /** @throws ConfigException listing every problem recorded so far */
    public void validate() {
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
    }

    private static <E extends Enum<E>> String allowed(Class<E> type) {
        return String.join(" | ", Arrays.stream(type.getEnumConstants()).map(Enum::name).toList());
    }
}
