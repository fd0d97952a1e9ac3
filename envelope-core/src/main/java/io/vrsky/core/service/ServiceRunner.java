package io.vrsky.core.service;

import io.vrsky.core.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The {@code main} of both services, written once: read the configuration (on a
 * {@link ConfigException} print one line per problem to stderr and end with exit 2), start the
 * service, install a shutdown hook that drains it on SIGTERM, wait for the service to end by
 * itself, stop it, and log the last line {@code stopped (exit N): <reason>} with the code the
 * process really exits with.
 *
 * <p>Threads: {@link #run} runs on the main thread and returns the exit code, which {@code main}
 * passes to {@code System.exit}. The shutdown hook runs on its own thread: when the service is
 * running it stops it (a drain), logs the last line and halts with the drain's code; while the
 * service is starting it interrupts the main thread (so waiting for a dependency ends) and halts
 * with the code main settles on; after main settled it only waits for main's last line.
 */
public final class ServiceRunner {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceRunner.class);
    /** How long the shutdown hook waits for the main thread to settle before halting anyway. */
    private static final long HOOK_WAIT_SECONDS = 60;

    /** A started service as main sees it. */
    public interface Running {
        /** Blocks until the service ends by itself (main thread) and says how. */
        Outcome awaitEnd() throws InterruptedException;

        /**
         * Drains and stops the service and says how it ended. Idempotent and thread-safe: called by
         * the main thread after {@link #awaitEnd()}, or by the shutdown hook.
         */
        Outcome stop();
    }

    /** Starts a service from its configuration. */
    @FunctionalInterface
    public interface Starter<C> {
        /**
         * May block (waiting for a dependency) and must end with {@link InterruptedException} when
         * interrupted. On failure it closes whatever it opened before throwing; a
         * {@link ServiceFailure} carries its exit code, anything else means exit 1.
         */
        Running start(C config) throws Exception;
    }

    /** How a service ended: the exit code and a reason for the last log line. */
    public record Outcome(ExitCode exitCode, String reason) {
        public Outcome {
            Objects.requireNonNull(exitCode, "exitCode");
            Objects.requireNonNull(reason, "reason");
        }

        public static Outcome of(ServiceFailure failure) {
            return new Outcome(failure.exitCode(), failure.getMessage());
        }
    }

    /** The two things the runner needs from the JVM; tests give their own. */
    interface Jvm {
        void addShutdownHook(Thread hook);

        void halt(int code);

        Jvm SYSTEM = new Jvm() {
            @Override
            public void addShutdownHook(Thread hook) {
                Runtime.getRuntime().addShutdownHook(hook);
            }

            @Override
            public void halt(int code) {
                System.out.flush();
                System.err.flush();
                Runtime.getRuntime().halt(code);
            }
        };
    }

    private enum Phase { STARTING, RUNNING, SETTLING, DONE }

    private final String service;
    private final String problemPrefix;
    private final PrintStream err;
    private final Jvm jvm;
    private final Logger log;

    private final Object lock = new Object();
    private final CountDownLatch settled = new CountDownLatch(1);
    private Phase phase = Phase.STARTING;
    private boolean signalled;
    /** Set when a signal came while running: the hook drains the service and logs the last line. */
    private boolean hookDrains;
    private Thread mainThread;
    private Running running;
    private volatile int finalCode = ExitCode.UNEXPECTED.code();

    ServiceRunner(String service, String problemPrefix, PrintStream err, Jvm jvm, Logger log) {
        this.service = Objects.requireNonNull(service, "service");
        this.problemPrefix = Objects.requireNonNull(problemPrefix, "problemPrefix");
        this.err = err;
        this.jvm = jvm;
        this.log = log;
    }

    /**
     * @param service       the service's name, for the shutdown thread
     * @param problemPrefix written before each configuration problem on stderr (may be empty)
     */
    public static ServiceRunner forService(String service, String problemPrefix) {
        return new ServiceRunner(service, problemPrefix, System.err, Jvm.SYSTEM, LOG);
    }

    /**
     * Runs the service to its end on the calling (main) thread.
     *
     * @return the exit code for {@code System.exit}
     */
    public <C> int run(Supplier<C> readConfig, Starter<C> starter) {
        C config;
        try {
            config = readConfig.get();
        } catch (ConfigException e) {
            e.problems().forEach(p -> err.println(problemPrefix + p));
            err.flush();
            return ExitCode.BAD_CONFIG.code();
        }
        synchronized (lock) {
            mainThread = Thread.currentThread();
        }
        jvm.addShutdownHook(new Thread(this::onSignal, service + "-shutdown"));
        Outcome outcome = startAndAwait(config, starter);
        return settle(outcome);
    }

    private <C> Outcome startAndAwait(C config, Starter<C> starter) {
        Running started;
        try {
            started = starter.start(config);
        } catch (ServiceFailure e) {
            return Outcome.of(e);
        } catch (InterruptedException e) {
            return interrupted("start-up");
        } catch (Exception | Error e) {
            if (signalledDuringStart()) {
                return new Outcome(ExitCode.CLEAN, "stopped before start-up finished");
            }
            log.error("start-up failed", e);
            return new Outcome(ExitCode.UNEXPECTED, "unexpected error during start-up: " + e);
        }
        synchronized (lock) {
            running = started;
            if (!signalled) {
                phase = Phase.RUNNING;
            }
        }
        if (signalledDuringStart()) {
            return started.stop(); // the signal came while starting: drain what was started
        }
        try {
            return started.awaitEnd();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(ExitCode.UNEXPECTED, "interrupted while running");
        }
    }

    private Outcome interrupted(String when) {
        if (signalledDuringStart()) {
            Thread.interrupted(); // the hook's interrupt, consumed: main goes on to settle
            return new Outcome(ExitCode.CLEAN, "stopped before " + when + " finished");
        }
        Thread.currentThread().interrupt();
        return new Outcome(ExitCode.UNEXPECTED, "interrupted during " + when);
    }

    private boolean signalledDuringStart() {
        synchronized (lock) {
            return signalled && phase == Phase.STARTING;
        }
    }

    /** Main's end: stop the service, log the last line, remember the code. */
    private int settle(Outcome outcome) {
        boolean leaveToHook;
        Running toStop;
        synchronized (lock) {
            leaveToHook = hookDrains;
            if (!leaveToHook) {
                phase = Phase.SETTLING;
            }
            toStop = running;
        }
        if (leaveToHook) {
            awaitSettled();
            return finalCode;
        }
        Outcome result = outcome;
        if (toStop != null) {
            Outcome stopped = toStop.stop();
            if (result.exitCode() == ExitCode.CLEAN && stopped.exitCode() != ExitCode.CLEAN) {
                result = stopped; // the service ended cleanly but its drain did not
            }
        }
        finish(result);
        return result.exitCode().code();
    }

    private void finish(Outcome outcome) {
        if (outcome.exitCode() == ExitCode.CLEAN) {
            log.info("stopped (exit {}): {}", outcome.exitCode().code(), outcome.reason());
        } else {
            log.error("stopped (exit {}): {}", outcome.exitCode().code(), outcome.reason());
        }
        synchronized (lock) {
            finalCode = outcome.exitCode().code();
            phase = Phase.DONE;
        }
        settled.countDown();
    }

    private void onSignal() {
        Running toStop = null;
        Thread interrupt = null;
        synchronized (lock) {
            switch (phase) {
                case DONE -> {
                    return; // main is exiting with its own code
                }
                case STARTING -> {
                    signalled = true;
                    interrupt = mainThread;
                }
                case RUNNING -> {
                    signalled = true;
                    hookDrains = true;
                    toStop = running;
                }
                case SETTLING -> {
                    // main decided already: wait for its last line
                }
            }
        }
        if (toStop != null) {
            log.info("termination requested: draining");
            Outcome outcome = toStop.stop();
            finish(outcome);
        } else {
            if (interrupt != null) {
                log.info("termination requested during start-up");
                interrupt.interrupt();
            }
            awaitSettled();
        }
        jvm.halt(finalCode);
    }

    private void awaitSettled() {
        try {
            if (!settled.await(HOOK_WAIT_SECONDS, TimeUnit.SECONDS)) {
                log.error("stopped (exit {}): the service did not stop within {} s", ExitCode.UNEXPECTED.code(), HOOK_WAIT_SECONDS);
                finalCode = ExitCode.UNEXPECTED.code();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
