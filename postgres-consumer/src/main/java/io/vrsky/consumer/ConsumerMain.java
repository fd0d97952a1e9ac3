package io.vrsky.consumer;

import io.vrsky.consumer.replication.ReplicationLoop.Termination;
import io.vrsky.core.service.ExitCode;
import io.vrsky.core.service.ServiceFailure;
import io.vrsky.core.service.ServiceRunner;
import io.vrsky.core.service.ServiceRunner.Outcome;

import java.io.IOException;
import java.time.Duration;

/**
 * Wiring only: the configuration from the environment, the service, and {@link ServiceRunner}
 * for the rest (exit codes, SIGTERM, the last log line).
 */
public final class ConsumerMain {

    private ConsumerMain() {
    }

    public static void main(String[] args) {
        System.exit(ServiceRunner.forService(ConsumerConfig.SERVICE, "")
                .run(() -> ConsumerConfig.fromEnv(System.getenv()), ConsumerMain::start));
    }

    private static ServiceRunner.Running start(ConsumerConfig config) throws ServiceFailure, InterruptedException {
        ConsumerService service;
        try {
            service = ConsumerService.start(config);
        } catch (IOException e) {
            throw new ServiceFailure(ExitCode.BAD_CONFIG, e.getMessage(), e);
        }
        return new ServiceRunner.Running() {
            @Override
            public Outcome awaitEnd() throws InterruptedException {
                Termination t;
                do {
                    t = service.awaitTermination(Duration.ofMinutes(1));
                } while (t == null);
                return outcome(t);
            }

            @Override
            public Outcome stop() {
                return outcome(service.stop());
            }
        };
    }

    private static Outcome outcome(Termination t) {
        return t == null ? new Outcome(ExitCode.UNEXPECTED, "the replication thread did not stop")
                : new Outcome(ExitCode.of(t.exitCode()), t.reason());
    }
}
