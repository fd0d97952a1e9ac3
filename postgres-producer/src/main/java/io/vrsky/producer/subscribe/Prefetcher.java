package io.vrsky.producer.subscribe;

import io.vrsky.core.retry.DependencyRetry;
import io.vrsky.core.retry.Sleeper;
import io.vrsky.core.service.ServiceFailure;
import io.vrsky.producer.batch.Waiting;
import io.vrsky.producer.metrics.ProducerMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * Pulls and decodes ahead on its own thread ({@code producer-fetch}), so that decoding the next
 * messages overlaps with writing the current batch. The queue is bounded by message count and by
 * bytes, so a pull of large chunk messages cannot fill the heap.
 *
 * <p>Pulling uses the consumer's pending count carried by every message: with nothing known to be
 * waiting it asks for one message and waits for it; then it asks for as many as are waiting (up
 * to the room left), which JetStream delivers at once. {@link #waiting()} tells the writer
 * whether anything more is on its way: when not, the batch is written at once.
 *
 * <p>Thread-safe: one producer thread (this), one consumer thread (the loop).
 */
public final class Prefetcher {

    private static final Logger LOG = LoggerFactory.getLogger(Prefetcher.class);
    /** Longest single wait for messages when idle, so a stop request is noticed quickly. */
    public static final Duration IDLE_POLL = Duration.ofMillis(500);
    /** How often a pull held back by the lease looks again (the renewal or the lease's loss comes meanwhile). */
    private static final Duration LEASE_WAIT = Duration.ofMillis(50);

    private final JetStreamSource source;
    private final InFlight inFlight;
    private final ProducerMetrics metrics;
    private final int maxMessages;
    private final long maxBytes;
    private final Sleeper sleeper;
    /** An unreachable NATS: retried for DEPENDENCY_RETRY_TIMEOUT, then the thread ends with exit 3 ({@link #failure()}). */
    private final DependencyRetry natsRetry;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final Condition notFull = lock.newCondition();
    private final ArrayDeque<InboundMessage> queue = new ArrayDeque<>();
    private long queuedBytes;
    private volatile long pending;
    private volatile int decoding;
    private volatile boolean stopping;
    private volatile Throwable failure;
    private double averageBytes = 1024;
    private int failures;
    private Thread thread;
    /** False while this instance must not pull (its producer lease is not surely its own). */
    private final BooleanSupplier mayPull;

    /**
     * @param maxMessages messages queued at most (the batch size)
     * @param maxBytes    bytes queued at most (and pulled at once, estimated from the sizes seen)
     * @param mayPull     asked before every pull: false holds pulling back (see {@link io.vrsky.producer.lease.ProducerLease#surelyHeld()})
     */
    public Prefetcher(JetStreamSource source, InFlight inFlight, ProducerMetrics metrics, int maxMessages, long maxBytes,
                      DependencyRetry natsRetry, Sleeper sleeper, BooleanSupplier mayPull) {
        this.mayPull = mayPull;
        this.natsRetry = natsRetry;
        this.source = source;
        this.inFlight = inFlight;
        this.metrics = metrics;
        this.maxMessages = maxMessages;
        this.maxBytes = maxBytes;
        this.sleeper = sleeper;
    }

    public void start() {
        thread = new Thread(this::run, "producer-fetch");
        thread.start();
    }

    private void run() {
        try {
            while (!stopping) {
                int room = awaitRoom();
                if (room > 0) {
                    pull(room);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ServiceFailure e) {
            failure = e;
        } catch (RuntimeException | Error e) {
            failure = e;
            LOG.error("pulling from JetStream stopped on an unexpected failure", e);
        } finally {
            lock.lock();
            try {
                notEmpty.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    private void pull(int room) throws InterruptedException, ServiceFailure {
        if (!mayPull.getAsBoolean()) {
            sleeper.sleep(LEASE_WAIT);
            return;
        }
        long known = pending;
        int want = known > 0 ? (int) Math.min(room, known) : 1;
        want = (int) Math.max(1, Math.min(want, maxBytes / Math.max(1, (long) averageBytes)));
        List<RawMessage> fetched;
        try {
            fetched = source.fetch(want, IDLE_POLL);
        } catch (RuntimeException e) {
            fetchFailed(e);
            return;
        }
        if (fetched.isEmpty() && !source.connected()) {
            // jnats keeps a pull waiting while it reconnects: an outage counts all the same
            fetchFailed(new IllegalStateException("the NATS connection is " + source.status()));
            return;
        }
        failures = 0;
        natsRetry.succeeded();
        decoding = fetched.size();
        for (RawMessage raw : fetched) {
            inFlight.hold(raw);
            averageBytes = averageBytes * 0.8 + raw.data().length * 0.2;
        }
        for (int i = 0; i < fetched.size(); i++) {
            enqueue(source.decode(fetched.get(i)));
            decoding--;
        }
        pending = fetched.size() < want ? 0 : fetched.get(fetched.size() - 1).pendingAfter();
        metrics.pending(pending);
    }

    private int awaitRoom() throws InterruptedException {
        lock.lock();
        try {
            while (!stopping && (queue.size() >= maxMessages || queuedBytes >= maxBytes)) {
                notFull.await(IDLE_POLL.toMillis(), TimeUnit.MILLISECONDS);
            }
            return stopping ? 0 : maxMessages - queue.size();
        } finally {
            lock.unlock();
        }
    }

    private void enqueue(InboundMessage message) {
        lock.lock();
        try {
            queue.add(message);
            queuedBytes += message.data().length;
            notEmpty.signal();
        } finally {
            lock.unlock();
        }
    }

    private void fetchFailed(RuntimeException e) throws InterruptedException, ServiceFailure {
        failures++;
        metrics.retry("fetch");
        Duration delay = natsRetry.failed(e);
        sleeper.sleep(delay);
        if (failures % 5 == 0) {
            try {
                source.rebind();
            } catch (Exception rebind) {
                LOG.debug("cannot bind the durable consumer again yet: {}", rebind.toString());
            }
        }
    }

    /** The next decoded message, or null when none came within {@code timeout}. */
    public InboundMessage poll(Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        lock.lock();
        try {
            while (queue.isEmpty()) {
                if (nanos <= 0 || finished()) {
                    return null;
                }
                nanos = notEmpty.awaitNanos(nanos);
            }
            InboundMessage message = queue.poll();
            queuedBytes -= message.data().length;
            notFull.signal();
            return message;
        } finally {
            lock.unlock();
        }
    }

    /** The next decoded message if one is queued and {@code take} accepts it, else null (it stays queued). */
    public InboundMessage pollIf(java.util.function.Predicate<InboundMessage> take) {
        lock.lock();
        try {
            InboundMessage head = queue.peek();
            if (head == null || !take.test(head)) {
                return null;
            }
            queue.poll();
            queuedBytes -= head.data().length;
            notFull.signal();
            return head;
        } finally {
            lock.unlock();
        }
    }

    /** Whether more messages are queued or being decoded, else known to wait in the consumer, else nothing. */
    public Waiting waiting() {
        lock.lock();
        try {
            if (!queue.isEmpty()) {
                return Waiting.QUEUED;
            }
        } finally {
            lock.unlock();
        }
        if (decoding > 0) {
            return Waiting.QUEUED;
        }
        return pending > 0 ? Waiting.UPSTREAM : Waiting.NOTHING;
    }

    /** Asks the thread to stop after its current pull; what it pulled stays queued for {@link #poll}. */
    public void stop() {
        stopping = true;
        lock.lock();
        try {
            notFull.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The thread has ended (stopped or failed). */
    public boolean finished() {
        return thread == null || !thread.isAlive();
    }

    public boolean hasQueued() {
        lock.lock();
        try {
            return !queue.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    /** Why the thread died, if it did on its own. */
    public Throwable failure() {
        return failure;
    }
}
