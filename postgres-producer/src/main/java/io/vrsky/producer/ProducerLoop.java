package io.vrsky.producer;

import io.vrsky.core.service.ServiceFailure;
import io.vrsky.producer.batch.BatchAccumulator;
import io.vrsky.producer.batch.FlushReason;
import io.vrsky.producer.metrics.ProducerMetrics;
import io.vrsky.producer.subscribe.InFlight;
import io.vrsky.producer.subscribe.InboundMessage;
import io.vrsky.producer.subscribe.Prefetcher;
import io.vrsky.producer.subscribe.StoredMessages;
import io.vrsky.producer.write.BatchWriter;
import io.vrsky.producer.write.ChunkedTransactionWriter;
import io.vrsky.producer.write.Stall;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The write side of the data path, on one thread ({@code producer-loop}): take decoded messages
 * from the {@link Prefetcher}, accumulate, write, acknowledge. Whole messages gather in the
 * {@link BatchAccumulator} and are written together; the parts of a chunked transaction go to the
 * {@link ChunkedTransactionWriter} one by one (the batch before them is written first). A batch is
 * written when full, when the flush interval has passed, at once when nothing more is waiting, and
 * after {@link BatchAccumulator#LINGER} when more is only reported by the consumer, not pulled yet.
 *
 * <p>Several sources (databases) may publish to the stream, so the chunks of one source's
 * transaction can arrive with other sources' messages in between. Those are parked while the
 * transaction is open (only their sequence and ack subject are kept: the transaction may be large)
 * and read back from the stream, in stream order, once it is closed.
 *
 * <p>A writer that stops short ({@link Stall}: a schema difference, a gap in a source's messages)
 * leaves the rest held: the loop waits in {@link Stalls} and asks again, taking nothing new
 * meanwhile. After a batch in which most transactions were dead-lettered, {@link PoisonStorm}
 * slows it down.
 *
 * <p>{@link #run()} runs on the loop thread; {@link #stop()} and {@link #problem()} are called from
 * others.
 */
final class ProducerLoop {

    private static final Logger LOG = LoggerFactory.getLogger(ProducerLoop.class);
    /**
     * Rows per sink transaction at most, whatever the message count. It bounds what a batch keeps
     * alive: every young collection copies the held batch, so a larger cap costs the garbage
     * collector more than it saves in commits (figures in docs/benchmark.md).
     */
    static final long MAX_BATCH_ROWS = 5_000;
    static final Duration MIN_WAIT = Duration.ofMillis(1);

    private final Prefetcher prefetcher;
    private final InFlight inFlight;
    private final BatchWriter writer;
    private final ChunkedTransactionWriter chunks;
    private final BatchAccumulator<InboundMessage> batch;
    private final ProducerMetrics metrics;
    private final Clock clock;
    private final StoredMessages stored;
    private final PoisonStorm storm;
    private Stalls stalls;
    private final ReentrantLock stopLock = new ReentrantLock();
    private final Condition stopRequested = stopLock.newCondition();
    /** Other sources' messages that arrived while a chunked transaction was open, in stream order. */
    private final List<Parked> parked = new ArrayList<>();
    /** Parked messages to handle again, before anything new from the prefetcher. */
    private final Deque<Parked> replay = new ArrayDeque<>();
    private volatile boolean stopping;

    /** A message held back: enough to read it again and to acknowledge it. */
    private record Parked(long streamSeq, String replyTo) {
    }

    ProducerLoop(ProducerConfig config, Prefetcher prefetcher, InFlight inFlight, BatchWriter writer,
                 ChunkedTransactionWriter chunks, StoredMessages stored, ProducerMetrics metrics, Clock clock) {
        this.prefetcher = prefetcher;
        this.inFlight = inFlight;
        this.writer = writer;
        this.chunks = chunks;
        this.batch = new BatchAccumulator<>(config.batchSize(), MAX_BATCH_ROWS, config.flushInterval(), clock);
        this.metrics = metrics;
        this.clock = clock;
        this.stored = stored;
        this.storm = new PoisonStorm(metrics, clock);
    }

    /** Sets how stalls are handled (they need the loop's {@link #pause}); before {@link #run()}. */
    void stalls(Stalls handler) {
        this.stalls = handler;
    }

    /**
     * Asks the loop to finish: it writes and acknowledges everything pulled so far, then returns.
     * While stalled it returns at once, and what it holds is redelivered later. Any thread.
     */
    void stop() {
        stopping = true;
        stopLock.lock();
        try {
            stopRequested.signalAll();
        } finally {
            stopLock.unlock();
        }
    }

    /** Why the line does not move (a stall), for readiness; empty while it does. Any thread. */
    java.util.Optional<String> problem() {
        return stalls == null ? java.util.Optional.empty() : stalls.problem();
    }

    /** Waits for {@code duration}, unless asked to stop: then returns false at once. */
    boolean pause(Duration duration) throws InterruptedException {
        long nanos = duration.toNanos();
        stopLock.lock();
        try {
            while (!stopping && nanos > 0) {
                nanos = stopRequested.awaitNanos(nanos);
            }
            return !stopping;
        } finally {
            stopLock.unlock();
        }
    }

    /** Runs until stopped (returns normally) or until a failure it cannot get past (thrown). */
    void run() throws Exception {
        LOG.info("consuming");
        prefetcher.start();
        try {
            while (!stopping) {
                step();
            }
            prefetcher.stop();
            while (!replay.isEmpty() || !prefetcher.finished() || prefetcher.hasQueued()) {
                InboundMessage message = replay.isEmpty() ? prefetcher.poll(Duration.ofMillis(50)) : readBack(replay.pollFirst());
                if (message != null) {
                    handle(message);
                }
            }
            LOG.info("draining: writing {} held messages", batch.size());
            if (!batch.isEmpty()) {
                flush(FlushReason.BOUNDARY);
            }
        } catch (Stalls.StoppedWhileStalled e) {
            // whatever is held (the stalled messages, the queue) comes again after a restart
            LOG.info("stopping while stalled: {} held messages will be redelivered", inFlight.held());
            prefetcher.stop();
            inFlight.nakEverything();
        } finally {
            prefetcher.stop();
            chunks.abortForShutdown();
            // held back behind a transaction that did not finish: ask for them again
            List<String> held = new ArrayList<>();
            parked.forEach(p -> held.add(p.replyTo()));
            replay.forEach(p -> held.add(p.replyTo()));
            inFlight.nakAll(held);
        }
    }

    private void step() throws Exception {
        if (!replay.isEmpty()) {
            handle(readBack(replay.pollFirst()));
            return;
        }
        Duration wait = Prefetcher.IDLE_POLL;
        if (!batch.isEmpty()) {
            FlushReason reason = batch.due(prefetcher.waiting());
            if (reason != FlushReason.NONE) {
                flush(reason);
                return;
            }
            // wake up for the interval, or for the end of the linger while it has not ended
            Duration left = batch.untilDeadline();
            Duration linger = batch.untilLingerEnds();
            wait = clamp(!linger.isZero() && linger.compareTo(left) < 0 ? linger : left, MIN_WAIT, Prefetcher.IDLE_POLL);
        }
        InboundMessage message = prefetcher.poll(wait);
        if (message != null) {
            handle(message);
        } else if (prefetcher.finished()) {
            Throwable failure = prefetcher.failure();
            if (failure instanceof ServiceFailure f) {
                throw f;
            }
            throw new IllegalStateException("pulling from JetStream stopped: " + failure, failure);
        }
    }

    private void handle(InboundMessage message) throws Exception {
        if (chunks.isOpen() && !chunks.concerns(message)) {
            parked.add(new Parked(message.streamSeq(), message.replyTo()));
            return;
        }
        route(message);
        if (!chunks.isOpen() && !parked.isEmpty()) {
            // the transaction is closed: what was held back comes next, before anything newer
            for (int i = parked.size() - 1; i >= 0; i--) {
                replay.addFirst(parked.get(i));
            }
            LOG.debug("{} message(s) of other sources held back during a chunked transaction come next", parked.size());
            parked.clear();
        }
    }

    /** A parked message as the stream holds it, with the ack subject it was delivered with. */
    private InboundMessage readBack(Parked p) throws Exception {
        return stored.load(p.streamSeq()).withReplyTo(p.replyTo());
    }

    private void route(InboundMessage message) throws Exception {
        if (message.isChunkPart()) {
            if (!batch.isEmpty()) {
                flush(FlushReason.BOUNDARY);
            }
            // the next chunks of the same transaction that are pulled already go with it
            List<InboundMessage> group = new ArrayList<>();
            group.add(message);
            long rows = message.changeCount();
            InboundMessage next;
            while (rows < MAX_BATCH_ROWS && (next = prefetcher.pollIf(m -> ChunkedTransactionWriter.follows(
                    group.get(group.size() - 1), m))) != null) {
                group.add(next);
                rows += next.changeCount();
            }
            List<InboundMessage> left = group;
            Stall stall;
            while ((stall = chunks.onChunks(left)) != null) {
                left = left.subList(left.indexOf(stall.message()), left.size());
                stalls.handle(stall);
            }
            stalls.clear();
            return;
        }
        if (chunks.isOpen() || chunks.collecting(message)) {
            chunks.interrupt(message);
        }
        batch.add(message, Math.max(1, message.changeCount()));
        if (batch.isFull()) {
            flush(FlushReason.FULL);
        }
    }

    private void flush(FlushReason reason) throws Exception {
        List<InboundMessage> messages = batch.drain();
        while (true) {
            Instant start = clock.instant();
            MDC.put("seq", messages.get(0).streamSeq() + "-" + messages.get(messages.size() - 1).streamSeq());
            BatchWriter.Result result;
            try {
                result = writer.write(messages);
                List<InboundMessage> handled = messages.subList(0, result.messages());
                inFlight.ackAll(handled.stream().map(InboundMessage::replyTo).toList());
                metrics.acked(handled.size());
                for (InboundMessage m : handled) {
                    if (m.envelope() != null && m.envelope().metadata() != null && !m.isReplay()) {
                        metrics.sinkCommitted(m.envelope().metadata().commitTime());
                    }
                }
                Duration elapsed = Duration.between(start, clock.instant());
                if (!handled.isEmpty()) {
                    metrics.batch(handled.size(), result.rows(), elapsed);
                }
                LOG.debug("batch written ({}): {} messages, {} transactions, {} rows, {} skipped, {} dead-lettered in {} ms", reason,
                        result.messages(), result.transactions(), result.rows(), result.skipped(), result.deadTransactions(),
                        elapsed.toMillis());
            } finally {
                MDC.remove("seq");
            }
            Duration slowDown = storm.after(result.transactions(), result.deadTransactions());
            if (result.stall() == null) {
                stalls.clear();
                if (!slowDown.isZero() && !pause(slowDown)) {
                    LOG.info("stopping during a poison-storm slow-down");
                }
                return;
            }
            messages = messages.subList(result.messages(), messages.size());
            stalls.handle(result.stall());
        }
    }

    private static Duration clamp(Duration d, Duration min, Duration max) {
        return d.compareTo(min) < 0 ? min : d.compareTo(max) > 0 ? max : d;
    }
}
