package io.vrsky.core.nats;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class DeadLetterPublisherTest {

    @Test
    void shouldFlattenMultiLineErrorsForHeaders() {
        assertThat(DeadLetterPublisher.oneLine("ERROR: bad\n  Detail: x\r\n")).isEqualTo("ERROR: bad   Detail: x");
    }

    @Test
    void shouldCutVeryLongErrors() {
        assertThat(DeadLetterPublisher.oneLine("x".repeat(5000))).hasSize(2003).endsWith("...");
    }

    @Test
    void shouldMapAnyCdcSubjectToTheSharedStreamSubject() {
        assertThat(JetStreamSetup.streamSubjectFor("vrsky.cdc.shop")).isEqualTo("vrsky.cdc.>");
        assertThat(JetStreamSetup.streamSubjectFor("vrsky.cdc.>")).isEqualTo("vrsky.cdc.>");
        assertThat(JetStreamSetup.streamSubjectFor("it.abc.cdc")).isEqualTo("it.abc.cdc");
    }
}
