package io.vrsky.producer.write;

import io.vrsky.core.model.Lsn;
import io.vrsky.producer.plan.SchemaDifference;
import io.vrsky.producer.subscribe.InboundMessage;

/**
 * Why a writer stopped before {@link #message()}: nothing from there on may be applied yet (order
 * is kept), and nothing from there on is acknowledged. The loop retries once the cause is gone.
 */
public sealed interface Stall permits Stall.Schema, Stall.Gap {

    /** The first message not handled. */
    InboundMessage message();

    /** The sink table lacks what a change names (and the schema policy pauses). */
    record Schema(SchemaDifference difference, InboundMessage message) implements Stall {
    }

    /**
     * A message of {@code source} says the transaction before it committed at {@code previous},
     * but the source's applied position is below that ({@code position}, null when the source
     * has none): messages between them are missing.
     */
    record Gap(String source, Lsn position, Lsn previous, InboundMessage message) implements Stall {
    }
}
