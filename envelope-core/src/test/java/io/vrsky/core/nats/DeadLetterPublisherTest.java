package io.vrsky.core.nats;

import io.nats.client.impl.Headers;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.nats.DeadLetterPublisher.DeadLetter;
import io.vrsky.core.nats.DeadLetterPublisher.ErrorClass;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class DeadLetterPublisherTest {

    @Test
    void shouldFlattenMultiLineErrorsForHeaders() {
        assertThat(DeadLetterPublisher.headerValue("ERROR: bad\n  Detail: x\r\n")).isEqualTo("ERROR: bad   Detail: x");
    }

    @Test
    void shouldCutVeryLongErrorsToTwoThousandCharacters() {
        assertThat(DeadLetterPublisher.headerValue("x".repeat(5000))).hasSize(2000).endsWith("...");
    }

    @Test
    void shouldEscapeEveryCharacterOutsidePrintableAscii() {
        assertThat(DeadLetterPublisher.headerValue("new row violates check constraint \"ok\": 世界 café \u0007 tab\there"))
                .isEqualTo("new row violates check constraint \"ok\": \\u4e16\\u754c caf\\u00e9   tab here");
        assertThat(DeadLetterPublisher.headerValue("emoji \uD83D\uDE00")).isEqualTo("emoji \\ud83d\\ude00");
    }

    @Test
    void shouldNeverCutAnEscapeInHalf() {
        String value = DeadLetterPublisher.headerValue("a".repeat(1995) + "世界世界");

        assertThat(value).hasSizeLessThanOrEqualTo(2000).endsWith("...");
        assertThat(value.substring(0, value.length() - 3)).matches("a{1995}(\\\\u[0-9a-f]{4})*");
    }

    @Test
    void shouldWriteEveryHeaderAsAValidNatsHeaderValueEvenForChineseTextInTheError() {
        DeadLetter letter = new DeadLetter("{}".getBytes(StandardCharsets.UTF_8),
                "ERROR: value \"世界\" violates check constraint\nDetail: Failing row contains (1, 世界).", ErrorClass.SQL, "23514",
                "vrsky.cdc.shop", 42L).withMsgId("dlq:producer:42:0/16B3748").withTransaction(7412L, Lsn.parse("0/16B3748"));

        Headers headers = DeadLetterPublisher.headers(letter);

        assertThat(headers.getFirst(DeadLetterHeaders.ERROR))
                .isEqualTo("ERROR: value \"\\u4e16\\u754c\" violates check constraint Detail: Failing row contains (1, \\u4e16\\u754c).");
        assertThat(headers.getFirst(DeadLetterHeaders.ERROR_CLASS)).isEqualTo("sql");
        assertThat(headers.getFirst(DeadLetterHeaders.SQL_STATE)).isEqualTo("23514");
        assertThat(headers.getFirst(DeadLetterHeaders.SOURCE_SUBJECT)).isEqualTo("vrsky.cdc.shop");
        assertThat(headers.getFirst(DeadLetterHeaders.SOURCE_SEQUENCE)).isEqualTo("42");
        assertThat(headers.getFirst("Nats-Msg-Id")).isEqualTo("dlq:producer:42:0/16B3748");
        assertThat(headers.getFirst("Vrsky-Tx-Id")).isEqualTo("7412");
        assertThat(headers.getFirst("Vrsky-Commit-Lsn")).isEqualTo("0/16B3748");
        // jnats validates on serialization: this throws on an invalid value
        assertThat(headers.getSerialized()).isNotEmpty();
    }

    @Test
    void shouldLeaveOutHeadersThatAreNotKnown() {
        Headers headers = DeadLetterPublisher.headers(new DeadLetter(new byte[0], "bad", ErrorClass.DECODE, null, null, null));

        assertThat(headers.keySet()).containsExactlyInAnyOrder(DeadLetterHeaders.ERROR, DeadLetterHeaders.ERROR_CLASS);
    }

    @Test
    void shouldMapAnyCdcSubjectToTheSharedStreamSubject() {
        assertThat(JetStreamSetup.streamSubjectFor("vrsky.cdc.shop")).isEqualTo("vrsky.cdc.>");
        assertThat(JetStreamSetup.streamSubjectFor("vrsky.cdc.>")).isEqualTo("vrsky.cdc.>");
        assertThat(JetStreamSetup.streamSubjectFor("it.abc.cdc")).isEqualTo("it.abc.cdc");
    }
}
