package io.vrsky.producer;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vrsky.core.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Entry point: reads the environment, runs the service, maps the outcome to the exit code
 * (0 clean stop, 1 unexpected, 2 bad configuration, 3 dependency down after retries, 4 data or
 * protocol error). SIGTERM drains (commit, ack, close the pool) and exits 0. The only place that
 * reads {@code System.getenv()} or exits.
 */
public final class ProducerMain {

    private ProducerMain() {
    }

    public static void main(String[] args) {
        ProducerConfig config;
        try {
            config = ProducerConfig.fromEnv(System.getenv());
        } catch (ConfigException e) {
            for (String problem : e.problems()) {
                System.err.println("invalid configuration: " + problem);
            }
            System.exit(ExitCodes.BAD_CONFIG);
            return;
        }
        Logger log = LoggerFactory.getLogger(ProducerMain.class);
        ProducerService service = new ProducerService(config, Clock.systemUTC(), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        AtomicBoolean exiting = new AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (exiting.get()) {
                return;
            }
            log.info("termination requested: draining");
            int code = service.shutdown();
            Runtime.getRuntime().halt(code);
        }, "producer-shutdown"));
        int code;
        try {
            service.start();
            code = service.awaitExit();
        } catch (ProducerFailure e) {
            log.error("{}", e.getMessage());
            code = e.exitCode();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            code = ExitCodes.UNEXPECTED;
        } catch (RuntimeException | Error e) {
            log.error("startup failed", e);
            code = ExitCodes.UNEXPECTED;
        }
        if (service.isClosed()) {
            // a termination signal is draining the service; its hook decides the exit code
            return;
        }
        exiting.set(true);
        int closeCode = service.shutdown();
        System.exit(code != ExitCodes.CLEAN ? code : closeCode);
    }
}
