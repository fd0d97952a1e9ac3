package io.vrsky.core;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** A logger of its own for one test, and what was logged to it (level and formatted message). */
public final class LogCapture {

    private static final AtomicInteger COUNTER = new AtomicInteger();

    private final Logger logger;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    public LogCapture() {
        logger = (Logger) LoggerFactory.getLogger("test.capture." + COUNTER.incrementAndGet());
        logger.setLevel(Level.DEBUG);
        appender.start();
        logger.addAppender(appender);
    }

    public org.slf4j.Logger logger() {
        return logger;
    }

    /** {@code "WARN message"} per event, oldest first. */
    public synchronized List<String> lines() {
        return appender.list.stream().map(e -> e.getLevel() + " " + e.getFormattedMessage()).toList();
    }

    public List<String> at(Level level) {
        return appender.list.stream().filter(e -> e.getLevel() == level).map(ILoggingEvent::getFormattedMessage).toList();
    }

    public String last() {
        List<String> lines = lines();
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    }
}
