package io.vrsky.producer.batch;

/** What is known to follow the messages already in the batch. */
public enum Waiting {
    /** More messages are pulled (queued or being decoded): take them first. */
    QUEUED,
    /** Nothing pulled yet, but the consumer reports more messages in the stream. */
    UPSTREAM,
    /** Nothing more is waiting anywhere. */
    NOTHING
}
