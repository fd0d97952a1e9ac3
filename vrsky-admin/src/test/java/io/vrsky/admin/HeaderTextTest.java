package io.vrsky.admin;

import io.vrsky.admin.dlq.HeaderText;
import io.vrsky.core.nats.DeadLetterPublisher;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class HeaderTextTest {

    @Test
    void shouldTurnTheServicesHeaderEscapesBackIntoTheCharacters() {
        String original = "violates check constraint \"prüfung\" on 表 with 😀";
        assertThat(HeaderText.unescape(DeadLetterPublisher.headerValue(original))).isEqualTo(original);
    }

    @Test
    void shouldLeaveWhatIsNotAnEscapeAlone() {
        assertThat(HeaderText.unescape("C:\\users\\x \\u12 \\uZZZZ")).isEqualTo("C:\\users\\x \\u12 \\uZZZZ");
        assertThat(HeaderText.firstLine("one\ntwo", 100)).isEqualTo("one");
        assertThat(HeaderText.firstLine("abcdefghij", 8)).isEqualTo("abcde...");
    }
}
