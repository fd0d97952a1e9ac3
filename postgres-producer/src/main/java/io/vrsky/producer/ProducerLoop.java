package io.vrsky.producer;

import io.vrsky.core.retry.Backoff;
import io.vrsky.core.retry.Sleeper;
import io.vrsky.producer.batch.BatchAccumulator;
import io.vrsky.producer.batch.FlushReason;
import io.vrsky.producer.metrics.ProducerMetrics;
import io.vrsky.producer.subscribe.InFlight;
import io.vrsky.producer.subscribe.InboundMessage;
import io.vrsky.producer.subscribe.JetStreamSource;
import io.vrsky.producer.subscribe.RawMessage;
import io.vrsky.producer.write.BatchWriter;
import io.vrsky.producer.write.ChunkedTransactionWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The data path, on one thread: pull from JetStream, accumulate, write, acknowledge. Whole
 * messages gather in the {@link BatchAccumulator} and are written together; the parts of a
 * chunked transaction go to the {@link ChunkedTransactionWriter} one by one (the batch before
 * them is written first).
 *
 * <p>Pulling uses the consumer's pending count carried by every message: when the batch is
 * empty it asks for one message and waits for it; then it asks for exactly as many as are
 * waiting (up to the room left), which JetStream delivers at once; when none are waiting the
 * batch is written immediately, so latency stays low at low load.
 */
final class ProducerLoop {

    private static final Logger LOG = LoggerFactory.getLogger(ProducerLoop.class);
    /** Longest single wait for messages when idle, so a stop request is noticed quickly. */
    static final Duration IDLE_POLL = Duration.ofMillis(500);
    static final Duration MIN_WAIT = Duration.ofMillis(10);
    /** Rows per sink transaction at most, whatever the message count (bounds the heap). */
    static final long MAX_BATCH_ROWS = 20_000;
    /** Bytes per pull at most (estimated from the sizes seen so far), so large chunk messages do not pile up. */
    static final long MAX_FETCH_BYTES = 8L * 1024 * 1024;

    private final JetStreamSource source;
    private final InFlight inFlight;
    private final BatchWriter writer;
    private final ChunkedTransactionWriter chunks;
    private final BatchAccumulator<InboundMessage> batch;
    private final ProducerMetrics metrics;
    private final Clock clock;
    private final Backoff fetchBackoff;
    private final Sleeper sleeper;
    private volatile boolean stopping;
    private long pending;
    private int fetchFailures;
    private double averageBytes = 1024;

    ProducerLoop(ProducerConfig config, JetStreamSource source, InFlight inFlight, BatchWriter writer,
                 ChunkedTransactionWriter chunks, ProducerMetrics metrics, Clock clock, Sleeper sleeper) {
        this.source = source;
        this.inFlight = inFlight;
        this.writer = writer;
        this.chunks = chunks;
        this.batch = new BatchAccumulator<>(config.batchSize(), MAX_BATCH_ROWS, config.flushInterval(), clock);
        this.metrics = metrics;
        this.clock = clock;
        this.fetchBackoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5), 2.0, 0.2, 0);
        this.sleeper = sleeper;
    }

    /** Asks the loop to finish: it writes and acknowledges what it holds, then returns. */
    void stop() {
        stopping = true;
    }

    boolean stopping() {
        return stopping;
    }

    /** Runs until stopped (returns normally) or until a failure it cannot get past (thrown). */
    void run() throws Exception {
        LOG.info("consuming");
        try {
            while (!stopping) {
                step();
            }
            LOG.info("draining: writing {} held messages", batch.size());
            if (!batch.isEmpty()) {
                flush(FlushReason.BOUNDARY);
            }
        } finally {
            chunks.abortForShutdown();
        }
    }

    private void step() throws Exception {
        int want;
        Duration wait;
        if (batch.isEmpty()) {
            want = (int) Math.max(1, Math.min(batch.room(), pending));
            wait = IDLE_POLL;
        } else {
            FlushReason reason = batch.due(pending > 0);
            if (reason != FlushReason.NONE) {
                flush(reason);
                return;
            }
            want = (int) Math.min(batch.room(), pending);
            wait = clamp(batch.untilDeadline(), MIN_WAIT, IDLE_POLL);
        }
        want = (int) Math.max(1, Math.min(want, MAX_FETCH_BYTES / Math.max(1, (long) averageBytes)));
        List<RawMessage> fetched;
        long f0 = System.nanoTime();
        try {
            fetched = new ArrayList<>(source.fetch(want, wait));
            System.out.printf("PHASE fetch %d of %d in %d ms%n", fetched.size(), want, (System.nanoTime() - f0) / 1_000_000);
            fetchFailures = 0;
        } catch (RuntimeException e) {
            fetchFailed(e);
            return;
        }
        pending = fetched.size() < want ? 0 : fetched.get(fetched.size() - 1).pendingAfter();
        metrics.pending(pending);
        for (RawMessage raw : fetched) {
            inFlight.hold(raw);
            averageBytes = averageBytes * 0.8 + raw.data().length * 0.2;
        }
        long d0 = System.nanoTime();
        for (int i = 0; i < fetched.size(); i++) {
            RawMessage raw = fetched.set(i, null);
            handle(source.decode(raw));
        }
        System.out.printf("PHASE decode+handle %d ms%n", (System.nanoTime() - d0) / 1_000_000);
        FlushReason reason = batch.due(pending > 0);
        if (reason != FlushReason.NONE) {
            flush(reason);
        }
    }

    private void handle(InboundMessage message) throws Exception {
        if (message.isChunkPart()) {
            if (!batch.isEmpty()) {
                flush(FlushReason.BOUNDARY);
            }
            chunks.onChunk(message);
            return;
        }
        if (chunks.isOpen()) {
            chunks.interrupt(message);
        }
        batch.add(message, Math.max(1, message.changeCount()));
        if (batch.isFull()) {
            flush(FlushReason.FULL);
        }
    }

    private void flush(FlushReason reason) throws Exception {
        List<InboundMessage> messages = batch.drain();
        Instant start = clock.instant();
        MDC.put("seq", messages.get(0).streamSeq() + "-" + messages.get(messages.size() - 1).streamSeq());
        try {
            BatchWriter.Result result = writer.write(messages);
            long a0 = System.nanoTime();
            inFlight.ackAll(messages.stream().map(InboundMessage::streamSeq).toList());
            System.out.printf("PHASE write %d ms ack %d ms%n", Duration.between(start, clock.instant()).toMillis(), (System.nanoTime() - a0) / 1_000_000);
            metrics.acked(messages.size());
            Duration elapsed = Duration.between(start, clock.instant());
            metrics.batch(messages.size(), result.rows(), elapsed);
            LOG.debug("batch written ({}): {} messages, {} rows, {} skipped, {} dead letters in {} ms", reason, result.messages(),
                    result.rows(), result.skipped(), result.deadLetters(), elapsed.toMillis());
        } finally {
            MDC.remove("seq");
        }
    }

    private void fetchFailed(RuntimeException e) throws InterruptedException {
        fetchFailures++;
        metrics.retry("fetch");
        Duration delay = fetchBackoff.delay(Math.min(fetchFailures, 30), ThreadLocalRandom.current().nextDouble());
        LOG.warn("pulling from JetStream failed (attempt {}), retrying in {} ms: {}", fetchFailures, delay.toMillis(), e.toString());
        sleeper.sleep(delay);
        if (fetchFailures % 5 == 0) {
            try {
                source.rebind();
            } catch (Exception reopen) {
                LOG.warn("cannot bind the durable consumer again: {}", reopen.toString());
            }
        }
    }

    private static Duration clamp(Duration d, Duration min, Duration max) {
        return d.compareTo(min) < 0 ? min : d.compareTo(max) > 0 ? max : d;
    }
}
