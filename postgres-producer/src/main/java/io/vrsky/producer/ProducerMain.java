package io.vrsky.producer;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vrsky.core.service.ServiceFailure;
import io.vrsky.core.service.ServiceRunner;

import java.time.Clock;

/**
 * Wiring only: the configuration from the environment, the service, and {@link ServiceRunner}
 * for the rest (exit codes, SIGTERM drains, the last log line). The only place that reads
 * {@code System.getenv()} or exits.
 */
public final class ProducerMain {

    private ProducerMain() {
    }

    public static void main(String[] args) {
        System.exit(ServiceRunner.forService(ProducerConfig.SERVICE, "invalid configuration: ")
                .run(() -> ProducerConfig.fromEnv(System.getenv()), ProducerMain::start));
    }

    private static ServiceRunner.Running start(ProducerConfig config) throws ServiceFailure, InterruptedException {
        ProducerService service = new ProducerService(config, Clock.systemUTC(), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        service.start(); // closes what it opened when it fails
        return service;
    }
}
