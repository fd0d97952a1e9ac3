package io.vrsky.core.service;

import io.vrsky.core.LogCapture;
import io.vrsky.core.config.ConfigException;
import io.vrsky.core.service.ServiceRunner.Outcome;
import io.vrsky.core.service.ServiceRunner.Running;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

@Timeout(20)
class ServiceRunnerTest {

    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    private final LogCapture log = new LogCapture();
    private final FakeJvm jvm = new FakeJvm();
    private final ServiceRunner runner = new ServiceRunner("svc", "invalid configuration: ",
            new PrintStream(stderr, true, StandardCharsets.UTF_8), jvm, log.logger());

    /** Records the hook and the halts instead of ending the JVM. */
    private static final class FakeJvm implements ServiceRunner.Jvm {
        final CopyOnWriteArrayList<Thread> hooks = new CopyOnWriteArrayList<>();
        final CopyOnWriteArrayList<Integer> halts = new CopyOnWriteArrayList<>();

        @Override
        public void addShutdownHook(Thread hook) {
            hooks.add(hook);
        }

        @Override
        public void halt(int code) {
            halts.add(code);
        }

        /** Runs the hook as a SIGTERM would, on its own thread. */
        Thread signal() {
            Thread t = new Thread(hooks.get(0));
            t.start();
            return t;
        }
    }

    /** A service whose end the test decides. */
    private static final class FakeService implements Running {
        final CountDownLatch ended = new CountDownLatch(1);
        final AtomicInteger stops = new AtomicInteger();
        volatile Outcome end;
        volatile Outcome onStop = new Outcome(ExitCode.CLEAN, "drained");

        @Override
        public Outcome awaitEnd() throws InterruptedException {
            ended.await();
            return end;
        }

        @Override
        public Outcome stop() {
            stops.incrementAndGet();
            if (end == null) {
                end = onStop;
            }
            ended.countDown();
            return onStop;
        }

        void endBy(Outcome outcome) {
            end = outcome;
            ended.countDown();
        }
    }

    @Test
    void shouldPrintOneLinePerConfigurationProblemAndExitTwo() {
        int code = runner.run(() -> {
            throw new ConfigException(List.of("A is required (x)", "B=q is not an integer: allowed 1..2"));
        }, config -> new FakeService());

        assertThat(code).isEqualTo(2);
        assertThat(stderr.toString(StandardCharsets.UTF_8).lines().toList())
                .containsExactly("invalid configuration: A is required (x)", "invalid configuration: B=q is not an integer: allowed 1..2");
        assertThat(log.lines()).isEmpty();
        assertThat(jvm.hooks).isEmpty();
    }

    @Test
    void shouldExitWithTheCodeOfAStartUpFailureAndSayItInTheLastLine() {
        int code = runner.run(() -> "config", config -> {
            throw new ServiceFailure(ExitCode.DEPENDENCY, "PostgreSQL at db:5432/app refused the login: FATAL: role \"x\" does not exist");
        });

        assertThat(code).isEqualTo(3);
        assertThat(log.last()).isEqualTo("ERROR stopped (exit 3): PostgreSQL at db:5432/app refused the login: FATAL: role \"x\" does not exist");
        assertThat(jvm.halts).isEmpty();
    }

    @Test
    void shouldExitOneOnAnUnexpectedStartUpError() {
        int code = runner.run(() -> "config", config -> {
            throw new IllegalStateException("boom");
        });

        assertThat(code).isEqualTo(1);
        assertThat(log.last()).startsWith("ERROR stopped (exit 1): unexpected error during start-up").contains("boom");
    }

    @Test
    void shouldStopTheServiceAndExitWithItsCodeWhenItEndsByItself() {
        FakeService service = new FakeService();
        service.endBy(new Outcome(ExitCode.DATA, "a gap in source s"));

        int code = runner.run(() -> "config", config -> service);

        assertThat(code).isEqualTo(4);
        assertThat(service.stops).hasValue(1);
        assertThat(log.last()).isEqualTo("ERROR stopped (exit 4): a gap in source s");
    }

    @Test
    void shouldReportAFailedDrainAfterACleanEnd() {
        FakeService service = new FakeService();
        service.onStop = new Outcome(ExitCode.DEPENDENCY, "JetStream did not acknowledge");
        service.endBy(new Outcome(ExitCode.CLEAN, "stopped"));

        assertThat(runner.run(() -> "config", config -> service)).isEqualTo(3);
        assertThat(log.last()).isEqualTo("ERROR stopped (exit 3): JetStream did not acknowledge");
    }

    @Test
    void shouldDrainOnASignalAndHaltWithTheDrainsCode() throws Exception {
        FakeService service = new FakeService();
        CompletableFuture<Integer> main = CompletableFuture.supplyAsync(() -> runner.run(() -> "config", config -> service));
        await().atMost(Duration.ofSeconds(5)).until(() -> !jvm.hooks.isEmpty());

        jvm.signal().join();

        assertThat(jvm.halts).containsExactly(0);
        assertThat(main.get()).isZero();
        assertThat(log.lines()).filteredOn(l -> l.contains("stopped (exit")).containsExactly("INFO stopped (exit 0): drained");
        assertThat(log.last()).isEqualTo("INFO stopped (exit 0): drained");
    }

    @Test
    void shouldInterruptAStartThatWaitsForADependencyOnASignal() throws Exception {
        CountDownLatch waiting = new CountDownLatch(1);
        CompletableFuture<Integer> main = CompletableFuture.supplyAsync(() -> runner.run(() -> "config", config -> {
            waiting.countDown();
            new CountDownLatch(1).await(); // waits for a dependency that never comes
            return new FakeService();
        }));
        waiting.await();

        jvm.signal().join();

        assertThat(main.get()).isZero();
        assertThat(jvm.halts).containsExactly(0);
        assertThat(log.last()).isEqualTo("INFO stopped (exit 0): stopped before start-up finished");
    }

    @Test
    void shouldLeaveTheExitToMainOnceMainHasSettled() {
        FakeService service = new FakeService();
        service.endBy(new Outcome(ExitCode.DEPENDENCY, "NATS at nats://n:4222 still unreachable after 5m: refused"));
        assertThat(runner.run(() -> "config", config -> service)).isEqualTo(3);

        jvm.signal(); // System.exit runs the hooks too
        await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2)).until(() -> jvm.halts.isEmpty());
        assertThat(log.lines()).filteredOn(l -> l.contains("stopped (exit")).hasSize(1);
    }
}
