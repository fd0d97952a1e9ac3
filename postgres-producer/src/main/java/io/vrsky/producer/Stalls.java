package io.vrsky.producer;

import io.vrsky.core.config.Env;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.retry.Backoff;
import io.vrsky.core.service.ExitCode;
import io.vrsky.core.service.ServiceFailure;
import io.vrsky.producer.catalog.SchemaCatalog;
import io.vrsky.producer.metrics.ProducerMetrics;
import io.vrsky.producer.position.AppliedPositions;
import io.vrsky.producer.subscribe.InboundMessage;
import io.vrsky.producer.write.BatchWriter;
import io.vrsky.producer.write.Stall;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What the loop does while a writer is stalled ({@link Stall}): nothing after the stalled message
 * is applied or acknowledged (the held messages are kept alive by in-progress acks), and the
 * writer is asked again after a wait (1 s doubling up to 30 s), until the cause is gone.
 * <ul>
 *   <li>A schema difference (a table or column the sink lacks) pauses the line until the sink is
 *       fixed by hand; the catalog is read again on every retry.</li>
 *   <li>A gap in a source's messages is first looked for in the stream itself, from the durable's
 *       ack floor on: later (a message whose publish failed and was sent again after later ones)
 *       and earlier (a message delivered to a former instance that stopped without acknowledging
 *       it, e.g. one frozen while another took over the lease, which the durable redelivers only
 *       after its ack wait). Such messages are applied first, in stream order. A gap nobody fills
 *       within the timeout stops the service (exit 4): skipping it would lose data.</li>
 * </ul>
 * Readiness ({@link #problem()}) names the cause, the metrics show it, and it is logged at most
 * once a minute.
 *
 * <p>The loop thread calls {@link #handle} and {@link #clear}; health threads read {@link #problem()}.
 */
final class Stalls {

    private static final Logger LOG = LoggerFactory.getLogger(Stalls.class);
    static final Backoff BACKOFF = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30), 2.0, 0.0, 0);
    static final Duration LOG_INTERVAL = Duration.ofMinutes(1);
    /** Messages looked at, at most, on each side of the stalled one when looking for a gap's missing messages. */
    static final int MAX_LOOK_AHEAD = 10_000;

    /** Reads the stream around a message (retrying while NATS is unreachable). */
    interface LookAhead {
        /** The first message on {@code subject} at or after {@code fromSeq}, or null. */
        InboundMessage next(String subject, long fromSeq) throws Exception;

        /** The durable's ack floor: every message at or below this stream sequence was acknowledged. */
        long ackFloor() throws Exception;
    }

    /** Waits unless the loop is asked to stop. */
    @FunctionalInterface
    interface Pause {
        /** @return false when the loop is stopping */
        boolean await(Duration duration) throws InterruptedException;
    }

    /** The loop is stopping while stalled: what is held is redelivered later. */
    static final class StoppedWhileStalled extends Exception {
        private static final long serialVersionUID = 1L;

        StoppedWhileStalled() {
            super(null, null, false, false);
        }
    }

    private final BatchWriter writer;
    private final AppliedPositions positions;
    private final SchemaCatalog catalog;
    private final LookAhead lookAhead;
    private final Pause pause;
    private final ProducerMetrics metrics;
    private final Clock clock;
    private final String stream;
    private final Duration gapTimeout;
    private volatile String problem;
    private Stall current;
    private String currentKey;
    private Instant since;
    private int attempts;
    private Instant lastLog;

    Stalls(BatchWriter writer, AppliedPositions positions, SchemaCatalog catalog, LookAhead lookAhead, Pause pause,
           ProducerMetrics metrics, Clock clock, String stream, Duration gapTimeout) {
        this.writer = writer;
        this.positions = positions;
        this.catalog = catalog;
        this.lookAhead = lookAhead;
        this.pause = pause;
        this.metrics = metrics;
        this.clock = clock;
        this.stream = stream;
        this.gapTimeout = gapTimeout;
    }

    /** Why the line is stalled, for {@code /health/ready}; empty while it is not. */
    java.util.Optional<String> problem() {
        return java.util.Optional.ofNullable(problem);
    }

    /**
     * Deals with a stall: returns when it is time to ask the writer again.
     *
     * @throws ServiceFailure       a gap stayed unfilled for the timeout (exit 4)
     * @throws StoppedWhileStalled  the loop is asked to stop
     */
    void handle(Stall stall) throws Exception {
        String key = key(stall);
        if (!key.equals(currentKey)) {
            if (current != null) {
                end();
            }
            current = stall;
            currentKey = key;
            since = clock.instant();
            attempts = 0;
            lastLog = null;
        }
        if (stall instanceof Stall.Gap gap) {
            if (fillFromStream(gap)) {
                return;
            }
            metrics.gap(true);
            problem = describe(gap);
            Duration waited = Duration.between(since, clock.instant());
            if (waited.compareTo(gapTimeout) >= 0) {
                throw new ServiceFailure(ExitCode.DATA, problem + "; nothing filled it in " + Env.format(gapTimeout) + ": stopping."
                        + " To recover, re-snapshot the tables of " + gap.source() + " (the sink may lack the missing changes)", null);
            }
            if (log()) {
                LOG.error("{}; waiting up to {} for it to be filled (the consumer may still send it), then stopping", problem,
                        Env.format(gapTimeout));
            }
        } else if (stall instanceof Stall.Schema schema) {
            metrics.paused(true);
            problem = "paused: " + schema.difference().describe() + " (stream sequence " + stall.message().streamSeq()
                    + "); nothing after it is applied until the sink table is fixed, then the producer resumes by itself";
            if (log()) {
                LOG.warn("{}", problem);
            }
            catalog.invalidate(schema.difference().table());
        }
        attempts++;
        Duration wait = BACKOFF.delay(attempts, 0);
        if (stall instanceof Stall.Gap) {
            Duration left = gapTimeout.minus(Duration.between(since, clock.instant()));
            wait = left.compareTo(wait) < 0 ? (left.isNegative() ? Duration.ZERO : left) : wait;
        }
        if (!pause.await(wait)) {
            throw new StoppedWhileStalled();
        }
    }

    /** The writer got past the stall (or there was none). */
    void clear() {
        if (current != null) {
            end();
            current = null;
            currentKey = null;
        }
    }

    private void end() {
        Duration lasted = Duration.between(since, clock.instant());
        if (current instanceof Stall.Schema) {
            metrics.paused(false);
            LOG.info("resumed after a pause of {} s: the sink table is fixed", lasted.toSeconds());
        } else {
            metrics.gap(false);
            LOG.info("the gap is filled after {} s: going on", lasted.toSeconds());
        }
        problem = null;
    }

    private boolean log() {
        Instant now = clock.instant();
        if (lastLog == null || !now.isBefore(lastLog.plus(LOG_INTERVAL))) {
            lastLog = now;
            return true;
        }
        return false;
    }

    private static String key(Stall stall) {
        if (stall instanceof Stall.Gap gap) {
            return "gap:" + gap.source() + ":" + gap.previous() + ":" + stall.message().streamSeq();
        }
        Stall.Schema schema = (Stall.Schema) stall;
        return "schema:" + schema.difference().describe() + ":" + stall.message().streamSeq();
    }

    private String describe(Stall.Gap gap) {
        return "gap in the messages of " + gap.source() + " on stream " + stream + ": the transactions committed after "
                + (gap.position() == null ? "the start" : "LSN " + gap.position()) + " up to LSN " + gap.previous()
                + " are missing before stream sequence " + gap.message().streamSeq() + "; nothing of " + gap.source()
                + " from there on is applied";
    }

    /**
     * Looks in the stream, from the durable's ack floor on, for the source's messages that hold the
     * missing transactions and applies them, in stream order. Later ones: a publish that failed while
     * a later one was stored, sent again after it. Earlier ones: delivered to a former instance that
     * never acknowledged them (the durable hands them out again only after its ack wait). Either
     * way the durable delivers them to this instance later; they are then skipped by position.
     *
     * @return true when that moved the source's position (the writer may now get past the gap)
     */
    private boolean fillFromStream(Stall.Gap gap) throws Exception {
        InboundMessage stalled = gap.message();
        List<InboundMessage> found = new ArrayList<>();
        long seq = Math.max(lookAhead.ackFloor() + 1, stalled.streamSeq() - MAX_LOOK_AHEAD);
        int earlier = 0;
        for (int scanned = 0; scanned < 2 * MAX_LOOK_AHEAD; scanned++) {
            InboundMessage next = lookAhead.next(stalled.subject(), seq);
            if (next == null || next.streamSeq() > stalled.streamSeq() + MAX_LOOK_AHEAD) {
                break;
            }
            seq = next.streamSeq() + 1;
            if (next.streamSeq() != stalled.streamSeq() && fills(gap, next)) {
                found.add(next);
                if (next.streamSeq() < stalled.streamSeq()) {
                    earlier++;
                }
            }
        }
        if (found.isEmpty()) {
            return false;
        }
        AppliedPositions.Position before = positions.position(gap.source());
        LOG.info("{} message(s) of {} in stream {} ({} before it, delivered earlier and not acknowledged; {} after it) hold"
                + " transactions missing before stream sequence {}: applying them first", found.size(), gap.source(), stream,
                earlier, found.size() - earlier, stalled.streamSeq());
        writer.write(found);
        return !Objects.equals(before, positions.position(gap.source()));
    }

    /** Whether a message later in the stream holds a transaction of the gap's source committed in (position, previous]. */
    private static boolean fills(Stall.Gap gap, InboundMessage m) {
        if (m.envelope() == null || m.isReplay() || m.isChunkPart() || !gap.source().equals(m.envelope().source())) {
            return false;
        }
        for (Change c : m.envelope().changes()) {
            Lsn lsn = c.commitLsn() != null ? c.commitLsn() : m.envelope().metadata() == null ? null
                    : m.envelope().metadata().commitLsn();
            if (lsn != null && (gap.position() == null || lsn.isAfter(gap.position())) && lsn.compareTo(gap.previous()) <= 0) {
                return true;
            }
        }
        return false;
    }
}
