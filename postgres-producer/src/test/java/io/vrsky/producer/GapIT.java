package io.vrsky.producer;

import io.vrsky.core.model.Envelope;
import io.vrsky.core.nats.CdcHeaders;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.vrsky.producer.Envelopes.insert;
import static io.vrsky.producer.Envelopes.lsn;
import static io.vrsky.producer.Envelopes.message;
import static io.vrsky.producer.Envelopes.row;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Each message of a source says which commit LSN came before it ({@code Vrsky-Prev-Commit-Lsn}).
 * A message whose predecessor was never applied is a gap: filled from later in the stream when
 * the missing message was stored late, else the producer stops instead of skipping it.
 */
@ExtendWith(RealServices.class)
@Timeout(180)
class GapIT {

    static final String PREV = CdcHeaders.PREV_COMMIT_LSN;
    private static final String SOURCE = "postgres-consumer/db/slot";

    private static Envelope tx(int n) {
        return message(SOURCE, insert("journal", lsn(100 + n), row("tx", n)));
    }

    @Test
    void shouldStopWithExit4InsteadOfSkippingMessagesTheStreamDropped(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "gap")) {
            h.sql("CREATE TABLE journal (tx int)");
            h.env("POSTGRES_OUTPUT_TABLES", "journal");
            h.limitStream(5);
            h.publish(tx(1));
            for (int n = 2; n <= 10; n++) {
                h.publish(tx(n), PREV, lsn(100 + n - 1).toString());
            }
            ProducerService service = h.gapTimeout(Duration.ofSeconds(4)).start();

            await().atMost(Duration.ofSeconds(30)).until(() -> h.httpResponse("/health/ready").statusCode() == 503);
            String reason = h.httpResponse("/health/ready").body();
            assertThat(reason).contains(SOURCE, h.stream, lsn(105).toString(), "6");
            CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> {
                try {
                    return service.awaitExit();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return -1;
                }
            });
            assertThat(exit.get(60, TimeUnit.SECONDS)).isEqualTo(4);
            assertThat(h.count("SELECT count(*) FROM journal")).isZero();
            assertThat(h.deadLetters()).isEmpty();
        }
    }

    /**
     * A former instance (frozen while another took the lease over, then woken) pulls from the durable
     * before it notices it lost the lease and never acknowledges: the durable hands those messages
     * out again only after its ack wait. The active instance finds them earlier in the stream and
     * applies them at once instead of waiting on the gap they leave.
     */
    @Test
    void shouldApplyMessagesAnotherSubscriberOfTheDurableTookWithoutAcknowledging(PostgresServer pg, NatsServer nats)
            throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "stolen")) {
            h.sql("CREATE TABLE journal (tx int)");
            h.env("POSTGRES_OUTPUT_TABLES", "journal").env("NATS_ACK_WAIT", "10m");
            h.publish(tx(1));
            h.start();
            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);

            io.nats.client.JetStreamSubscription thief = h.nats.jetStream().subscribe(null,
                    io.nats.client.PullSubscribeOptions.builder().stream(h.stream).durable(h.durable).bind(true).build());
            CompletableFuture<List<io.nats.client.Message>> taken = CompletableFuture.supplyAsync(
                    () -> thief.fetch(20, Duration.ofSeconds(5)));
            await().atMost(Duration.ofSeconds(10)).until(() -> h.consumer().getNumWaiting() >= 2);
            int total = 41;
            for (int n = 2; n < total; n++) {
                h.publish(tx(n), PREV, lsn(100 + n - 1).toString());
            }
            List<io.nats.client.Message> stolen = taken.get(30, TimeUnit.SECONDS);
            assertThat(stolen).as("messages the other subscriber took (else this test shows nothing)").isNotEmpty();
            // one more after the other subscriber is done: whatever it took, a later message makes the gap visible
            h.publish(tx(total), PREV, lsn(100 + total - 1).toString());

            await().atMost(Duration.ofSeconds(30)).until(() -> h.count("SELECT count(*) FROM journal") == total);
            assertThat(h.count("SELECT count(DISTINCT tx) FROM journal")).isEqualTo(total);
            assertThat(h.rows("SELECT commit_lsn::text FROM vrsky_applied_position")).containsExactly(List.of(lsn(100 + total).toString()));
            assertThat(h.deadLetters()).isEmpty();
            assertThat(h.httpResponse("/health/ready").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void shouldApplyAMessageStoredLateBeforeTheOneThatFollowsIt(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "reorder")) {
            h.sql("CREATE TABLE journal (tx int)");
            h.env("POSTGRES_OUTPUT_TABLES", "journal");
            h.publish(tx(1));
            h.start();
            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);

            // the publish of tx 2 failed while tx 3 was stored; the consumer sent tx 2 again afterwards
            h.publish(tx(3), PREV, lsn(102).toString());
            h.publish(tx(2), PREV, lsn(101).toString());
            h.publish(tx(4), PREV, lsn(103).toString());

            await().atMost(Duration.ofSeconds(30)).until(h::allAcked);
            assertThat(h.rows("SELECT tx FROM journal ORDER BY tx")).containsExactly(List.of("1"), List.of("2"), List.of("3"),
                    List.of("4"));
            assertThat(h.deadLetters()).isEmpty();
            assertThat(h.rows("SELECT commit_lsn::text FROM vrsky_applied_position")).containsExactly(List.of(lsn(104).toString()));
        }
    }
}
