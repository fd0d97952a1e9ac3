package io.vrsky.core.nats;

import ch.qos.logback.classic.Level;
import io.nats.client.ConnectionListener.Events;
import io.vrsky.core.LogCapture;
import io.vrsky.core.config.Env;
import io.vrsky.core.config.NatsSettings;
import io.vrsky.testing.ManualClock;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class NatsEventsTest {

    private final ManualClock clock = new ManualClock();
    private final LogCapture log = new LogCapture();
    private final NatsEvents events = new NatsEvents(
            NatsSettings.read(new Env(Map.of("NATS_URL", "nats://me:pw@nats-1:4222")), "vrsky.cdc.x", "svc"), clock, log.logger());

    @Test
    void shouldWarnAboutAnOutageAtMostOncePerThirtySecondsNamingTheServerWithoutCredentials() {
        events.connectionEvent(null, Events.CONNECTED);
        events.connectionEvent(null, Events.DISCONNECTED);
        for (int i = 0; i < 300; i++) { // a failed reconnect every 250 ms for 75 s
            events.exceptionOccurred(null, new ConnectException("Connection refused"));
            clock.advance(Duration.ofMillis(250));
        }

        assertThat(log.at(Level.WARN)).hasSizeBetween(3, 4).allSatisfy(l -> assertThat(l).contains("NATS at nats://***@nats-1:4222")
                .doesNotContain("pw"));
        assertThat(events.downFor()).contains(Duration.ofSeconds(75));
        assertThat(events.problem()).contains("NATS at nats://***@nats-1:4222 unreachable for 75 s: Connection refused");
    }

    @Test
    void shouldClearTheOutageOnReconnect() {
        events.connectionEvent(null, Events.CONNECTED);
        events.connectionEvent(null, Events.DISCONNECTED);
        clock.advance(Duration.ofSeconds(3));
        events.connectionEvent(null, Events.RECONNECTED);

        assertThat(events.downFor()).isEmpty();
        assertThat(events.problem()).isEmpty();
        assertThat(events.reconnects()).isEqualTo(1);
        assertThat(log.at(Level.INFO)).contains("NATS reconnected to nats://***@nats-1:4222 after 3 s");
    }

    @Test
    void shouldLeaveFailedFirstConnectsToWhoeverRetriesThem() {
        events.exceptionOccurred(null, new ConnectException("Connection refused"));
        events.connectionEvent(null, Events.DISCONNECTED);
        events.connectionEvent(null, Events.CLOSED);

        assertThat(log.at(Level.WARN)).isEmpty();
        assertThat(log.at(Level.INFO)).isEmpty();
        assertThat(events.downFor()).isEmpty();
        assertThat(events.problem()).isEmpty();
    }
}
