package io.vrsky.core.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
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

    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)");
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(b|kb|mb|gb|tb)?");
    private static final String[] SIZE_UNITS = {"B", "KB", "MB", "GB", "TB"};

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

    /** A duration written {@code 500ms}, {@code 5s}, {@code 1m}, {@code 1h} or {@code 7d}, within [min, max]. */
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
            case "h" -> Duration.ofHours(amount);
            default -> Duration.ofDays(amount);
        });
    }

    /** {@code d} in the largest unit of ms, s, m, h, d that writes it exactly: {@code 7d}, {@code 90s}. */
    public static String format(Duration d) {
        if (d.toMillis() % 1000 != 0) {
            return d.toMillis() + "ms";
        }
        if (d.getSeconds() % 60 != 0) {
            return d.getSeconds() + "s";
        }
        if (d.toMinutes() % 60 != 0) {
            return d.toMinutes() + "m";
        }
        if (d.toHours() % 24 != 0) {
            return d.toHours() + "h";
        }
        return d.toDays() + "d";
    }

    /**
     * A size in bytes written as a plain number or with a unit of 1024: {@code 1048576},
     * {@code 512MB}, {@code 10GB}, {@code 1TB} (also {@code KB}; any case), within [min, max].
     *
     * @return empty when the variable is unset (or when its value is bad: the problem is recorded)
     */
    public OptionalLong byteSize(String name, long min, long max) {
        Optional<String> value = raw(name);
        if (value.isEmpty()) {
            return OptionalLong.empty();
        }
        OptionalLong parsed = parseByteSize(value.get());
        if (parsed.isEmpty()) {
            problems.add(name + "=" + value.get() + " is not a size: allowed forms are 1048576, 512MB, 10GB, 1TB");
            return OptionalLong.empty();
        }
        if (parsed.getAsLong() < min || parsed.getAsLong() > max) {
            problems.add(name + "=" + value.get() + " is out of range: allowed " + formatSize(min)
                    + (max == Long.MAX_VALUE ? " or more" : ".." + formatSize(max)));
            return OptionalLong.empty();
        }
        return parsed;
    }

    /** Bytes from {@code 512MB}, {@code 10GB}, {@code 1TB}, {@code 4KB} or a plain number; empty when not a size. */
    public static OptionalLong parseByteSize(String text) {
        Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            return OptionalLong.empty();
        }
        int power = m.group(2) == null ? 0 : switch (m.group(2)) {
            case "kb" -> 1;
            case "mb" -> 2;
            case "gb" -> 3;
            case "tb" -> 4;
            default -> 0;
        };
        try {
            long amount = Long.parseLong(m.group(1));
            long factor = 1L << (10 * power);
            return OptionalLong.of(Math.multiplyExact(amount, factor));
        } catch (NumberFormatException | ArithmeticException e) {
            return OptionalLong.empty();
        }
    }

    /** {@code bytes} in the largest unit of 1024 that writes it exactly: {@code 10GB}, {@code 1500B}. */
    public static String formatSize(long bytes) {
        int unit = 0;
        long value = bytes;
        while (unit < SIZE_UNITS.length - 1 && value != 0 && value % 1024 == 0) {
            value /= 1024;
            unit++;
        }
        return value + SIZE_UNITS[unit];
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
