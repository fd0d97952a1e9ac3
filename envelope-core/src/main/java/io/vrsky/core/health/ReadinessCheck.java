package io.vrsky.core.health;

import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/** One named condition for {@code /health/ready}: empty when ready, else why not. */
public interface ReadinessCheck {

    String name();

    /** Must be cheap and must not block for long: it runs on every probe. */
    Optional<String> problem();

    /**
     * Extra fields for the top level of the {@code /health/ready} JSON (e.g. a running snapshot's
     * progress), whatever the status; empty by default. Same rules as {@link #problem()}.
     */
    default Map<String, Object> details() {
        return Map.of();
    }

    static ReadinessCheck of(String name, Supplier<Optional<String>> problem) {
        return of(name, problem, Map::of);
    }

    /** A check that also adds {@code details} to the readiness JSON. */
    static ReadinessCheck of(String name, Supplier<Optional<String>> problem, Supplier<Map<String, Object>> details) {
        return new ReadinessCheck() {
            @Override
            public Map<String, Object> details() {
                return details.get();
            }

            @Override
            public String name() {
                return name;
            }

            @Override
            public Optional<String> problem() {
                return problem.get();
            }
        };
    }
}
