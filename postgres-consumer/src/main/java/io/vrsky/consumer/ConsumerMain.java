package io.vrsky.consumer;

import io.vrsky.consumer.replication.ReplicationLoop.Termination;
import io.vrsky.core.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Wiring only. Exit codes: 0 clean stop (SIGTERM after a clean drain), 1 unexpected error,
 * 2 bad configuration (one line per problem on stderr), 3 a dependency still down after retries
 * or not usable, 4 a data or protocol error.
 */
public final class ConsumerMain {

    private ConsumerMain() {
    }

    public static void main(String[] args) {
        ConsumerConfig config;
        try {
            config = ConsumerConfig.fromEnv(System.getenv());
        } catch (ConfigException e) {
            e.problems().forEach(System.err::println);
            System.exit(2);
            return;
        }
        Logger log = LoggerFactory.getLogger(ConsumerMain.class);
        ConsumerService service;
        try {
            service = ConsumerService.start(config);
        } catch (IOException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        AtomicBoolean mainExiting = new AtomicBoolean();
        AtomicBoolean signalled = new AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (mainExiting.get()) {
                return; // main is exiting with its own code; it already stopped the service
            }
            signalled.set(true);
            log.info("shutdown requested");
            Termination t = service.stop();
            int code = t == null ? 1 : t.exitCode();
            System.out.flush();
            System.err.flush();
            Runtime.getRuntime().halt(code);
        }, "shutdown"));
        try {
            Termination t;
            do {
                t = service.awaitTermination(Duration.ofMinutes(1));
            } while (t == null);
            if (signalled.get()) {
                return; // the shutdown hook decides the exit code
            }
            mainExiting.set(true);
            service.stop();
            if (t.exitCode() != 0) {
                System.err.println(t.reason()); // also logged by stop(); this line is for whoever reads stderr
            }
            System.exit(t.exitCode());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            System.exit(1);
        }
    }
}
