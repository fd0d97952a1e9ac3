package io.vrsky.core.health;

import java.util.Optional;

/** One named condition for {@code /health/ready}: empty when ready, else why not. */
public interface ReadinessCheck {

    String name();

    /** Must be cheap and must not block for long: it runs on every probe. */
    Optional<String> problem();

    static ReadinessCheck of(String name, java.util.function.Supplier<Optional<String>> problem) {
        return new ReadinessCheck() {
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
