package io.vrsky.producer.sql;

import io.vrsky.core.model.TableId;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class IdentifiersTest {

    @Test
    void shouldQuoteEveryIdentifier() {
        assertThat(Identifiers.quote("orders")).isEqualTo("\"orders\"");
        assertThat(Identifiers.quote("Mixed Case")).isEqualTo("\"Mixed Case\"");
        assertThat(Identifiers.qualified(new TableId("public", "orders"))).isEqualTo("\"public\".\"orders\"");
    }

    @Test
    void shouldDoubleEmbeddedQuotesSoAnInjectionStaysOneName() {
        assertThat(Identifiers.quote("x\"; DROP TABLE orders; --")).isEqualTo("\"x\"\"; DROP TABLE orders; --\"");
    }

    @Test
    void shouldRejectEmptyNamesAndNul() {
        assertThatThrownBy(() -> Identifiers.quote("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Identifiers.quote("a\0b")).isInstanceOf(IllegalArgumentException.class);
    }
}
